//! Ruby values to owned Rust data. Everything is copied out under the GVL before a blocking
//! region starts, so no Ruby object is referenced while the GVL is released.

use magnus::{prelude::*, Error, RArray, RString, Ruby, TryConvert, Value};

use crate::core::config::KafkaSettings;
use crate::core::producer::OutgoingMessage;

/// `[[key, value], ...]` (strings, prepared by Ruby) to settings.
pub fn settings(pairs: RArray) -> Result<KafkaSettings, Error> {
    pairs
        .into_iter()
        .map(<(String, String)>::try_convert)
        .collect()
}

/// A String (copied) or nil.
pub fn optional_bytes(ruby: &Ruby, value: Value) -> Result<Option<Vec<u8>>, Error> {
    if value.is_nil() {
        return Ok(None);
    }
    let string = RString::from_value(value).ok_or_else(|| {
        Error::new(
            ruby.exception_type_error(),
            format!("expected a String or nil, got {}", value.class()),
        )
    })?;
    // SAFETY: the slice is copied before any other Ruby call can move or free the string.
    Ok(Some(unsafe { string.as_slice() }.to_vec()))
}

/// One message as prepared by `Karafka::Producer`:
/// `[topic, payload, key, partition_key, partition, [[header, value], ...]]`.
pub fn message(ruby: &Ruby, value: Value) -> Result<OutgoingMessage, Error> {
    let fields = RArray::try_convert(value)?;
    if fields.len() != 6 {
        return Err(Error::new(
            ruby.exception_arg_error(),
            "a message has 6 fields",
        ));
    }
    let headers = RArray::try_convert(fields.entry::<Value>(5)?)?;
    let headers = headers
        .into_iter()
        .map(|pair| {
            let pair = RArray::try_convert(pair)?;
            let name: String = pair.entry(0)?;
            let value = optional_bytes(ruby, pair.entry(1)?)?.unwrap_or_default();
            Ok((name, value))
        })
        .collect::<Result<_, Error>>()?;
    Ok(OutgoingMessage {
        topic: fields.entry(0)?,
        payload: optional_bytes(ruby, fields.entry(1)?)?,
        key: optional_bytes(ruby, fields.entry(2)?)?,
        partition_key: optional_bytes(ruby, fields.entry(3)?)?,
        partition: fields.entry(4)?,
        headers,
    })
}

pub fn messages(ruby: &Ruby, list: RArray) -> Result<Vec<OutgoingMessage>, Error> {
    list.into_iter().map(|m| message(ruby, m)).collect()
}
