//! Topic administration and offset inspection, for `karafka topics`, specs and benchmarks.
//! Every call blocks the calling thread (the bridge releases the GVL around it).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::core::config::KafkaSettings;
use crate::core::error::{CoreError, CoreResult};

const TIMEOUT: Duration = Duration::from_secs(30);

fn client_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in settings {
        config.set(key.as_str(), value.as_str());
    }
    config
}

fn admin_error(e: impl ToString) -> CoreError {
    CoreError::Admin(e.to_string())
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    // The admin futures are completed by rdkafka's own background thread; a tiny
    // current-thread runtime is enough to wait for them.
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread tokio runtime")
        .block_on(future)
}

/// Both the broker-side operation and the client-side request are bounded.
fn options() -> AdminOptions {
    AdminOptions::new()
        .operation_timeout(Some(TIMEOUT))
        .request_timeout(Some(TIMEOUT))
}

fn admin(settings: &KafkaSettings) -> CoreResult<AdminClient<DefaultClientContext>> {
    client_config(settings)
        .create()
        .map_err(CoreError::ClientCreation)
}

/// Creates a topic with `config` (topic-level settings such as `retention.ms`);
/// `Ok(false)` when it already existed (its settings are left as they are).
pub fn create_topic(
    settings: &KafkaSettings,
    name: &str,
    partitions: i32,
    replication_factor: i32,
    config: &[(String, String)],
) -> CoreResult<bool> {
    let admin = admin(settings)?;
    let mut topic = NewTopic::new(
        name,
        partitions,
        TopicReplication::Fixed(replication_factor),
    );
    for (key, value) in config {
        topic = topic.set(key, value);
    }
    let options = options();
    let results = block_on(admin.create_topics([&topic], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
        Some(Err((topic, code))) => Err(admin_error(format!("create {topic}: {code}"))),
        None => Err(admin_error("create_topics returned no result")),
    }
}

/// Deletes a topic; `Ok(false)` when it did not exist.
pub fn delete_topic(settings: &KafkaSettings, name: &str) -> CoreResult<bool> {
    let admin = admin(settings)?;
    let options = options();
    let results = block_on(admin.delete_topics(&[name], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::UnknownTopicOrPartition))) => Ok(false),
        Some(Err((topic, code))) => Err(admin_error(format!("delete {topic}: {code}"))),
        None => Err(admin_error("delete_topics returned no result")),
    }
}

fn metadata_consumer(settings: &KafkaSettings, group: Option<&str>) -> CoreResult<BaseConsumer> {
    let mut config = client_config(settings);
    if let Some(group) = group {
        config.set("group.id", group);
    }
    config.create().map_err(CoreError::ClientCreation)
}

/// Topic name => partition count, for every topic the cluster reports.
pub fn topics(settings: &KafkaSettings) -> CoreResult<BTreeMap<String, i32>> {
    let consumer = metadata_consumer(settings, None)?;
    let metadata = consumer
        .fetch_metadata(None, TIMEOUT)
        .map_err(admin_error)?;
    Ok(metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| (t.name().to_string(), t.partitions().len() as i32))
        .collect())
}

/// Low and high watermark of one partition.
pub fn watermarks(settings: &KafkaSettings, topic: &str, partition: i32) -> CoreResult<(i64, i64)> {
    let consumer = metadata_consumer(settings, None)?;
    consumer
        .fetch_watermarks(topic, partition, TIMEOUT)
        .map_err(admin_error)
}

/// The offsets `group` has committed for each partition of `topic` (`-1`: none).
pub fn committed(
    settings: &KafkaSettings,
    group: &str,
    topic: &str,
) -> CoreResult<Vec<(i32, i64)>> {
    let partitions = *topics(settings)?
        .get(topic)
        .ok_or_else(|| admin_error(format!("unknown topic {topic}")))?;
    let consumer = metadata_consumer(settings, Some(group))?;
    let mut list = TopicPartitionList::new();
    for partition in 0..partitions {
        list.add_partition(topic, partition);
    }
    let committed = consumer
        .committed_offsets(list, TIMEOUT)
        .map_err(admin_error)?;
    Ok(committed
        .elements()
        .iter()
        .map(|e| {
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                _ => -1,
            };
            (e.partition(), offset)
        })
        .collect())
}

/// A message read back from a topic.
#[derive(Debug, Clone)]
pub struct ReadMessage {
    pub offset: i64,
    /// Milliseconds since the epoch: when produced, or when the broker stored it
    /// (`message.timestamp.type=LogAppendTime`).
    pub timestamp_ms: Option<i64>,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// Reads up to `count` messages of one partition from `from_offset`, waiting at most
/// `timeout` for them (no consumer group: nothing is committed).
pub fn read(
    settings: &KafkaSettings,
    topic: &str,
    partition: i32,
    from_offset: i64,
    count: usize,
    timeout: Duration,
) -> CoreResult<Vec<ReadMessage>> {
    use rdkafka::message::{Headers, Message};

    let mut config = client_config(settings);
    // librdkafka's assign() needs a group; this one never commits anything.
    config
        .set("group.id", "karafka-rs-admin-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    let consumer: BaseConsumer = config.create().map_err(CoreError::ClientCreation)?;
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, Offset::Offset(from_offset))
        .map_err(admin_error)?;
    consumer.assign(&list).map_err(admin_error)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut messages = Vec::new();
    while messages.len() < count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        match consumer.poll(left.min(Duration::from_millis(100))) {
            Some(Ok(m)) => messages.push(ReadMessage {
                offset: m.offset(),
                timestamp_ms: m.timestamp().to_millis(),
                key: m.key().map(<[u8]>::to_vec),
                payload: m.payload().map(<[u8]>::to_vec),
                headers: m
                    .headers()
                    .map(|h| {
                        h.iter()
                            .map(|h| {
                                (
                                    h.key.to_string(),
                                    h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            // Non-fatal client events (e.g. "unknown group" for this never-joined reader).
            Some(Err(_)) | None => {}
        }
    }
    Ok(messages)
}
