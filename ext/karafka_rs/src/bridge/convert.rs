//! Ruby values to owned Rust data. Everything is copied out under the GVL before a blocking
//! region starts, so no Ruby object is referenced while the GVL is released.

use magnus::{prelude::*, Error, RArray, RString, Ruby, TryConvert, Value};

use crate::bridge::named::{StructClass, View};
use crate::core::config::KafkaSettings;
use crate::core::produce::producer::{MessageRef, OutgoingMessage};

/// `[[key, value], ...]` (strings, prepared by Ruby) to settings.
pub fn settings(pairs: RArray) -> Result<KafkaSettings, Error> {
    pairs
        .into_iter()
        .map(<(String, String)>::try_convert)
        .collect()
}

/// A String or nil (a TypeError otherwise).
fn string_or_nil(ruby: &Ruby, value: Value) -> Result<Option<RString>, Error> {
    if value.is_nil() {
        return Ok(None);
    }
    RString::from_value(value).map(Some).ok_or_else(|| {
        Error::new(
            ruby.exception_type_error(),
            format!("expected a String or nil, got {}", value.class()),
        )
    })
}

/// A String (copied) or nil.
pub fn optional_bytes(ruby: &Ruby, value: Value) -> Result<Option<Vec<u8>>, Error> {
    // SAFETY: the slice is copied before any other Ruby call can move or free the string.
    Ok(string_or_nil(ruby, value)?.map(|string| unsafe { string.as_slice() }.to_vec()))
}

/// `Karafka::Native::OutgoingMessage` (lib/karafka/native/outgoing_message.rb).
pub static OUTGOING_MESSAGE: StructClass<8> = StructClass::new(
    "Karafka::Native::OutgoingMessage",
    [
        "topic",
        "payload",
        "key",
        "partition_key",
        "partition",
        "headers",
        "timestamp",
        "label",
    ],
);

/// One message as prepared by `Karafka::Producer` (an `OutgoingMessage`).
pub fn fields(ruby: &Ruby, value: Value) -> Result<Fields<'static>, Error> {
    OUTGOING_MESSAGE.view(ruby, value)
}

/// An `OutgoingMessage`, read by member name.
pub type Fields<'a> = View<'a, 8>;

/// A message's headers (`[[name, value], ...]`), copied (most messages have none: no
/// allocation then).
pub fn headers(ruby: &Ruby, fields: Fields<'_>) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let headers: RArray = fields.get("headers")?;
    if headers.is_empty() {
        return Ok(Vec::new());
    }
    headers
        .into_iter()
        .map(|pair| {
            let pair = RArray::try_convert(pair)?;
            let name: String = pair.entry(0)?;
            let value = optional_bytes(ruby, pair.entry(1)?)?.unwrap_or_default();
            Ok((name, value))
        })
        .collect()
}

/// Whether any message of `list` has a `partition_key` (it needs a metadata look-up).
pub fn any_partition_key(ruby: &Ruby, list: RArray) -> Result<bool, Error> {
    for message in list.into_iter() {
        if !fields(ruby, message)?.value("partition_key")?.is_nil() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A message without `partition_key`, borrowing the bytes of its Ruby strings.
///
/// # Safety
/// The view borrows Ruby strings' memory: the caller must be done with it before calling
/// Ruby or releasing the GVL, so that no string can be freed, moved or changed meanwhile.
pub unsafe fn message_ref<'a>(
    ruby: &Ruby,
    fields: Fields<'_>,
    headers: &'a [(String, Vec<u8>)],
) -> Result<MessageRef<'a>, Error> {
    let topic = borrowed_bytes(ruby, fields.value("topic")?)?.unwrap_or_default();
    let topic = std::str::from_utf8(topic)
        .map_err(|_| Error::new(ruby.exception_arg_error(), "topic is not valid UTF-8"))?;
    Ok(MessageRef {
        topic,
        payload: borrowed_bytes(ruby, fields.value("payload")?)?,
        key: borrowed_bytes(ruby, fields.value("key")?)?,
        partition: fields.get("partition")?,
        headers,
        timestamp: fields.get("timestamp")?,
        label: fields.get("label")?,
    })
}

/// A String's bytes (borrowed, see [`message_ref`]) or nil.
unsafe fn borrowed_bytes<'a>(ruby: &Ruby, value: Value) -> Result<Option<&'a [u8]>, Error> {
    Ok(string_or_nil(ruby, value)?.map(|string| {
        let bytes = string.as_slice();
        // Detach the lifetime from the `RString` handle: the bytes belong to the Ruby object.
        std::slice::from_raw_parts(bytes.as_ptr(), bytes.len())
    }))
}

/// One message, copied (for sends that release the GVL).
pub fn message(ruby: &Ruby, value: Value) -> Result<OutgoingMessage, Error> {
    let fields = fields(ruby, value)?;
    let headers = headers(ruby, fields)?;
    Ok(OutgoingMessage {
        topic: fields.get("topic")?,
        payload: optional_bytes(ruby, fields.value("payload")?)?,
        key: optional_bytes(ruby, fields.value("key")?)?,
        partition_key: optional_bytes(ruby, fields.value("partition_key")?)?,
        partition: fields.get("partition")?,
        headers,
        timestamp: fields.get("timestamp")?,
        label: fields.get("label")?,
    })
}

pub fn messages(ruby: &Ruby, list: RArray) -> Result<Vec<OutgoingMessage>, Error> {
    list.into_iter().map(|m| message(ruby, m)).collect()
}
