//! `Karafka::Native::Admin`: blocking admin calls (bounded by their own timeouts), run with
//! the GVL released. Ruby's `Karafka::Admin` wraps them.

use magnus::{function, prelude::*, Error, RArray, RHash, RModule, Ruby};

use crate::bridge::convert;
use crate::bridge::errors::to_ruby;
use crate::bridge::named::StructClass;
use crate::bridge::nogvl::blocking;
use crate::core::admin;
use crate::core::error::CoreResult;
use crate::core::wait::Interrupt;

fn run<T: Send>(ruby: &Ruby, mut call: impl FnMut() -> CoreResult<T> + Send) -> Result<T, Error> {
    let interrupt = Interrupt::new();
    blocking(ruby, &interrupt, || Some(call()), || {})?.map_err(|e| to_ruby(ruby, e))
}

/// `Karafka::Native::StoredMessage` (lib/karafka/native/admin_rows.rb).
static STORED_MESSAGE: StructClass<5> = StructClass::new(
    "Karafka::Native::StoredMessage",
    ["offset", "timestamp_ms", "key", "payload", "headers"],
);
/// `Karafka::Native::ConfigEntry` (lib/karafka/native/admin_rows.rb).
static CONFIG_ENTRY: StructClass<6> = StructClass::new(
    "Karafka::Native::ConfigEntry",
    [
        "name",
        "value",
        "default",
        "read_only",
        "sensitive",
        "topic_override",
    ],
);

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

/// A `Karafka::Native::StoredMessage` per message read
#[allow(clippy::too_many_arguments)] // Ruby's positional arguments
fn read(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    partition: i32,
    from_offset: i64,
    count: usize,
    until_offset: Option<i64>,
    timeout_ms: u64,
) -> Result<RArray, Error> {
    let settings = convert::settings(kafka)?;
    let timeout = std::time::Duration::from_millis(timeout_ms);
    let messages = run(ruby, || {
        admin::read(
            &settings,
            &topic,
            partition,
            from_offset,
            count,
            until_offset,
            timeout,
        )
    })?;
    let out = ruby.ary_new_capa(messages.len());
    for m in messages {
        let headers = ruby.hash_new();
        for (name, value) in m.headers {
            headers.aset(name, ruby.str_from_slice(&value))?;
        }
        out.push(STORED_MESSAGE.build(
            ruby,
            (
                m.offset,
                m.timestamp_ms,
                m.key.map(|k| ruby.str_from_slice(&k)),
                m.payload.map(|p| ruby.str_from_slice(&p)),
                headers,
            ),
        )?)?;
    }
    Ok(out)
}

fn create_partitions(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    total: usize,
) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::create_partitions(&settings, &topic, total))?;
    Ok(true)
}

/// A `Karafka::Native::ConfigEntry` per setting of a topic, or of a broker (`broker`: true,
/// `name`: its id)
fn describe_config(
    ruby: &Ruby,
    kafka: RArray,
    name: String,
    broker: bool,
) -> Result<RArray, Error> {
    let settings = convert::settings(kafka)?;
    let entries = run(ruby, || admin::describe_config(&settings, &name, broker))?;
    let out = ruby.ary_new_capa(entries.len());
    for e in entries {
        out.push(CONFIG_ENTRY.build(
            ruby,
            (
                e.name,
                e.value,
                e.default,
                e.read_only,
                e.sensitive,
                e.topic_override,
            ),
        )?)?;
    }
    Ok(out)
}

fn alter_topic_config(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    changes: RArray,
    deletes: Vec<String>,
) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    let changes = convert::settings(changes)?;
    run(ruby, || {
        admin::alter_topic_config(&settings, &topic, &changes, &deletes)
    })?;
    Ok(true)
}

/// `[[[id, host, port], ...], [[topic, [[partition, leader, replicas, isrs], ...]], ...]]`
fn cluster_info(ruby: &Ruby, kafka: RArray, topic: Option<String>) -> Result<RArray, Error> {
    let settings = convert::settings(kafka)?;
    let (brokers, topics) = run(ruby, || admin::cluster_info(&settings, topic.as_deref()))?;
    let broker_rows = ruby.ary_new_capa(brokers.len());
    for b in brokers {
        broker_rows.push((b.id, b.host, b.port))?;
    }
    let topic_rows = ruby.ary_new_capa(topics.len());
    for t in topics {
        let partitions = ruby.ary_new_capa(t.partitions.len());
        for p in t.partitions {
            partitions.push((p.id, p.leader, p.replicas, p.isrs))?;
        }
        topic_rows.push((t.name, partitions))?;
    }
    let out = ruby.ary_new_capa(2);
    out.push(broker_rows)?;
    out.push(topic_rows)?;
    Ok(out)
}

fn delete_group(ruby: &Ruby, kafka: RArray, group: String) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::delete_group(&settings, &group))
}

/// `offsets`: `[[topic, partition, next_offset], ...]`
fn commit_offsets(
    ruby: &Ruby,
    kafka: RArray,
    group: String,
    offsets: Vec<(String, i32, i64)>,
) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::commit_offsets(&settings, &group, &offsets))?;
    Ok(true)
}

/// `times`: `[[partition, timestamp_ms], ...]`; returns `[[partition, offset], ...]`
fn offsets_for_times(
    ruby: &Ruby,
    kafka: RArray,
    topic: String,
    times: Vec<(i32, i64)>,
) -> Result<Vec<(i32, i64)>, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || admin::offsets_for_times(&settings, &topic, &times))
}

fn trigger_rebalance(
    ruby: &Ruby,
    kafka: RArray,
    group: String,
    topics: Vec<String>,
) -> Result<bool, Error> {
    let settings = convert::settings(kafka)?;
    run(ruby, || {
        admin::trigger_rebalance(&settings, &group, &topics)
    })?;
    Ok(true)
}

pub fn define(_ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let admin = native.define_module("Admin")?;
    admin.define_singleton_method("_create_topic", function!(create_topic, 5))?;
    admin.define_singleton_method("_delete_topic", function!(delete_topic, 2))?;
    admin.define_singleton_method("_topics", function!(topics, 1))?;
    admin.define_singleton_method("_watermarks", function!(watermarks, 3))?;
    admin.define_singleton_method("_committed", function!(committed, 3))?;
    admin.define_singleton_method("_read", function!(read, 7))?;
    admin.define_singleton_method("_create_partitions", function!(create_partitions, 3))?;
    admin.define_singleton_method("_describe_config", function!(describe_config, 3))?;
    admin.define_singleton_method("_alter_topic_config", function!(alter_topic_config, 4))?;
    admin.define_singleton_method("_cluster_info", function!(cluster_info, 2))?;
    admin.define_singleton_method("_delete_group", function!(delete_group, 2))?;
    admin.define_singleton_method("_commit_offsets", function!(commit_offsets, 3))?;
    admin.define_singleton_method("_offsets_for_times", function!(offsets_for_times, 3))?;
    admin.define_singleton_method("_trigger_rebalance", function!(trigger_rebalance, 3))?;
    Ok(())
}
