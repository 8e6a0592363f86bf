//! `Karafka::Native::Admin`: blocking admin calls (bounded by their own timeouts), run with
//! the GVL released. Ruby's `Karafka::Admin` wraps them.

use magnus::{function, prelude::*, Error, RArray, RHash, RModule, Ruby};

use crate::bridge::convert;
use crate::bridge::errors::to_ruby;
use crate::bridge::nogvl::blocking;
use crate::core::admin;
use crate::core::error::CoreResult;
use crate::core::wait::Interrupt;

fn run<T>(ruby: &Ruby, mut call: impl FnMut() -> CoreResult<T>) -> Result<T, Error> {
    let interrupt = Interrupt::new();
    blocking(ruby, &interrupt, || Some(call()), || {})?.map_err(|e| to_ruby(ruby, e))
}

fn create_topic(
    ruby: &Ruby,
    kafka: RArray,
    name: String,
    partitions: i32,
    replication_factor: i32,
    config: RArray,
) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    let config = convert::settings(config)?;
    run(ruby, || {
        admin::create_topic(&settings, &name, partitions, replication_factor, &config)
    })
}

fn delete_topic(ruby: &Ruby, kafka: RArray, name: String) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::delete_topic(&settings, &name))
}

fn topics(ruby: &Ruby, kafka: RArray) -> Result<RHash, Error> {
    let settings = convert::settings(kafka)?;
    let topics = run(ruby, || admin::topics(&settings))?;
    let hash = ruby.hash_new();
    for (name, partitions) in topics {
        hash.aset(name, partitions)?;
    }
    Ok(hash)
}

fn watermarks(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    partition: i32,
) -> Result<(i64, i64), Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::watermarks(&settings, &topic, partition))
}

fn committed(
    ruby: &Ruby,
    kafka: RArray,
    group: String,
    topic: String,
) -> Result<Vec<(i32, i64)>, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::committed(&settings, &group, &topic))
}

/// `[[offset, timestamp_ms, key, payload, {header => value}], ...]`
fn read(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    partition: i32,
    from_offset: i64,
    count: usize,
    timeout_ms: u64,
) -> Result<RArray, Error> {
    let settings = convert::settings(kafka)?;
    let timeout = std::time::Duration::from_millis(timeout_ms);
    let messages = run(ruby, || {
        admin::read(&settings, &topic, partition, from_offset, count, timeout)
    })?;
    let out = ruby.ary_new_capa(messages.len());
    for m in messages {
        let headers = ruby.hash_new();
        for (name, value) in m.headers {
            headers.aset(name, ruby.str_from_slice(&value))?;
        }
        out.push((
            m.offset,
            m.timestamp_ms,
            m.key.map(|k| ruby.str_from_slice(&k)),
            m.payload.map(|p| ruby.str_from_slice(&p)),
            headers,
        ))?;
    }
    Ok(out)
}

pub fn define(_ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let admin = native.define_module("Admin")?;
    admin.define_singleton_method("_create_topic", function!(create_topic, 5))?;
    admin.define_singleton_method("_delete_topic", function!(delete_topic, 2))?;
    admin.define_singleton_method("_topics", function!(topics, 1))?;
    admin.define_singleton_method("_watermarks", function!(watermarks, 3))?;
    admin.define_singleton_method("_committed", function!(committed, 3))?;
    admin.define_singleton_method("_read", function!(read, 6))?;
    Ok(())
}
