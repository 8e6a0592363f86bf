//! `Karafka::Native::LibrdkafkaLog._take(timeout_ms)`: librdkafka's log lines for the Ruby
//! thread that writes them to `Karafka.logger` (core::librdkafka_log keeps them).

use std::time::Duration;

use magnus::{function, prelude::*, Error, IntoValue, RModule, Ruby, Value};

use crate::bridge::nogvl::{without_gvl, Blocked};
use crate::core::librdkafka_log;
use crate::core::wait::Interrupt;

/// `[[level, facility, message], ...], dropped]`, waiting up to `timeout_ms` for a line
/// (GVL released; a kill or signal of the waiting thread ends the wait).
fn take(ruby: &Ruby, timeout_ms: u64) -> Result<Value, Error> {
    let interrupt = Interrupt::new();
    let (lines, dropped) = match without_gvl(
        || librdkafka_log::take(Duration::from_millis(timeout_ms), &interrupt),
        || interrupt.set(),
    )? {
        Blocked::Done(taken) => taken,
        Blocked::Interrupted => (Vec::new(), 0),
    };
    let rows = ruby.ary_new_capa(lines.len());
    for line in lines {
        rows.push((line.level, line.facility, line.message))?;
    }
    Ok((rows, dropped).into_value_with(ruby))
}

pub fn define(native: &RModule) -> Result<(), Error> {
    let log = native.define_module("LibrdkafkaLog")?;
    log.define_singleton_method("_take", function!(take, 1))?;
    Ok(())
}
