//! Topic administration and offset inspection, for `karafka topics`, specs and benchmarks.
//! Every call blocks the calling thread (the bridge releases the GVL around it).

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, ConfigSource, NewPartitions, NewTopic,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
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

/// Reads up to `count` messages of one partition from `from_offset` (no consumer group:
/// nothing is committed). With `until_offset` it stops there or at the partition's end, as
/// Karafka's `read_topic` does; without, it waits up to `timeout` for messages still to come.
pub fn read(
    settings: &KafkaSettings,
    topic: &str,
    partition: i32,
    from_offset: i64,
    count: usize,
    until_offset: Option<i64>,
    timeout: Duration,
) -> CoreResult<Vec<ReadMessage>> {
    use rdkafka::error::KafkaError;
    use rdkafka::message::{Headers, Message};

    let mut config = client_config(settings);
    // librdkafka's assign() needs a group; this one never commits anything.
    config
        .set("group.id", "karafka-rs-admin-reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true");
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
            Some(Ok(m)) => {
                if until_offset.is_some_and(|until| m.offset() >= until) {
                    break;
                }
                messages.push(ReadMessage {
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
                })
            }
            // The end of what the partition holds now: a snapshot read is complete.
            Some(Err(KafkaError::PartitionEOF(_))) if until_offset.is_some() => break,
            // Non-fatal client events (e.g. "unknown group" for this never-joined reader).
            Some(Err(_)) | None => {}
        }
    }
    Ok(messages)
}

/// Grows `topic` to `total` partitions (Kafka never shrinks them).
pub fn create_partitions(settings: &KafkaSettings, topic: &str, total: usize) -> CoreResult<()> {
    let admin = admin(settings)?;
    let partitions = NewPartitions::new(topic, total);
    let options = options();
    let results =
        block_on(admin.create_partitions([&partitions], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err((topic, code))) => Err(admin_error(format!(
            "create partitions of {topic} ({total} in all): {code}"
        ))),
        None => Err(admin_error("create_partitions returned no result")),
    }
}

/// One topic-level setting as the broker reports it.
#[derive(Debug, Clone)]
pub struct TopicConfigEntry {
    pub name: String,
    pub value: Option<String>,
    /// True when the value is the broker's default (not set on the topic itself).
    pub default: bool,
    pub read_only: bool,
    pub sensitive: bool,
    /// Set on the topic itself (what a plain AlterConfigs would otherwise reset).
    pub topic_override: bool,
}

/// The settings of a topic (`broker: false`) or of the broker with id `name`, as
/// DescribeConfigs returns them.
pub fn describe_config(
    settings: &KafkaSettings,
    name: &str,
    broker: bool,
) -> CoreResult<Vec<TopicConfigEntry>> {
    let specifier = if broker {
        let id = name.parse::<i32>().map_err(|_| {
            admin_error(format!(
                "describe configs: broker id {name:?} is not a number"
            ))
        })?;
        ResourceSpecifier::Broker(id)
    } else {
        ResourceSpecifier::Topic(name)
    };
    let admin = admin(settings)?;
    let options = options();
    let results = block_on(admin.describe_configs([&specifier], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(resource)) => Ok(resource
            .entries
            .into_iter()
            .map(|entry| TopicConfigEntry {
                topic_override: entry.source == ConfigSource::DynamicTopic,
                name: entry.name,
                value: entry.value,
                default: entry.is_default,
                read_only: entry.is_read_only,
                sensitive: entry.is_sensitive,
            })
            .collect()),
        Some(Err(code)) => Err(admin_error(format!("describe configs of {name}: {code}"))),
        None => Err(admin_error("describe_configs returned no result")),
    }
}

/// Sets `changes` on `topic` and removes its own value of each of `deletes` (back to the
/// broker's default), keeping its other topic-level settings. librdkafka's
/// (non-incremental) AlterConfigs replaces the whole set, so the topic's current overrides
/// are read first and sent along with the changes.
pub fn alter_topic_config(
    settings: &KafkaSettings,
    topic: &str,
    changes: &[(String, String)],
    deletes: &[String],
) -> CoreResult<()> {
    let current = describe_config(settings, topic, false)?;
    let merged = merged_topic_config(topic, current, changes, deletes)?;
    let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (key, value) in &merged {
        alter = alter.set(key, value);
    }
    let admin = admin(settings)?;
    let options = options();
    let results = block_on(admin.alter_configs([&alter], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err((_, code))) => Err(admin_error(format!("alter configs of {topic}: {code}"))),
        None => Err(admin_error("alter_configs returned no result")),
    }
}

/// The full set of topic-level settings to send: the topic's own settings (`current`
/// entries set on the topic), minus `deletes`, with `changes` over them.
fn merged_topic_config(
    topic: &str,
    current: Vec<TopicConfigEntry>,
    changes: &[(String, String)],
    deletes: &[String],
) -> CoreResult<BTreeMap<String, String>> {
    let mut merged = BTreeMap::new();
    for entry in current {
        if !entry.topic_override || deletes.contains(&entry.name) {
            continue;
        }
        match entry.value {
            Some(value) => {
                merged.insert(entry.name, value);
            }
            // A sensitive override cannot be read back, so it could not be kept.
            None if !changes.iter().any(|(key, _)| *key == entry.name) => {
                return Err(admin_error(format!(
                    "alter configs of {topic}: its setting {} cannot be read back and would be reset",
                    entry.name
                )))
            }
            None => {}
        }
    }
    for (key, value) in changes {
        merged.insert(key.clone(), value.clone());
    }
    Ok(merged)
}

/// A broker of the cluster.
#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// A partition: its leader, replicas and in-sync replicas (broker ids).
#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isrs: Vec<i32>,
}

/// A topic and its partitions.
#[derive(Debug, Clone)]
pub struct TopicInfo {
    pub name: String,
    pub partitions: Vec<PartitionInfo>,
}

/// The brokers and the topics (one topic with `topic`; none when it does not exist).
pub fn cluster_info(
    settings: &KafkaSettings,
    topic: Option<&str>,
) -> CoreResult<(Vec<BrokerInfo>, Vec<TopicInfo>)> {
    let consumer = metadata_consumer(settings, None)?;
    let metadata = consumer
        .fetch_metadata(topic, TIMEOUT)
        .map_err(admin_error)?;
    let brokers = metadata
        .brokers()
        .iter()
        .map(|b| BrokerInfo {
            id: b.id(),
            host: b.host().to_string(),
            port: b.port(),
        })
        .collect();
    let topics = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none())
        .map(|t| TopicInfo {
            name: t.name().to_string(),
            partitions: t
                .partitions()
                .iter()
                .map(|p| PartitionInfo {
                    id: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    isrs: p.isr().to_vec(),
                })
                .collect(),
        })
        .collect();
    Ok((brokers, topics))
}

/// Deletes a consumer group; `Ok(false)` when it did not exist. The broker refuses to
/// delete a group that has active members.
pub fn delete_group(settings: &KafkaSettings, group: &str) -> CoreResult<bool> {
    let admin = admin(settings)?;
    let options = options();
    let results = block_on(admin.delete_groups(&[group], &options)).map_err(admin_error)?;
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::GroupIdNotFound))) => Ok(false),
        Some(Err((group, code))) => Err(admin_error(format!("delete group {group}: {code}"))),
        None => Err(admin_error("delete_groups returned no result")),
    }
}

/// Commits `offsets` (`topic, partition, next offset`) for `group` without joining it
/// (the broker accepts this only while the group has no active members).
pub fn commit_offsets(
    settings: &KafkaSettings,
    group: &str,
    offsets: &[(String, i32, i64)],
) -> CoreResult<()> {
    let mut config = client_config(settings);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = config.create().map_err(CoreError::ClientCreation)?;
    let mut list = TopicPartitionList::new();
    for (topic, partition, offset) in offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))
            .map_err(admin_error)?;
    }
    consumer
        .commit(&list, CommitMode::Sync)
        .map_err(|e| admin_error(format!("commit offsets of group {group}: {e}")))
}

/// The first offset at or after `timestamp_ms` for each `(partition, timestamp_ms)` of
/// `topic` (the high watermark when there is none).
pub fn offsets_for_times(
    settings: &KafkaSettings,
    topic: &str,
    times: &[(i32, i64)],
) -> CoreResult<Vec<(i32, i64)>> {
    let consumer = metadata_consumer(settings, None)?;
    let mut list = TopicPartitionList::new();
    for (partition, ms) in times {
        list.add_partition_offset(topic, *partition, Offset::Offset(*ms))
            .map_err(admin_error)?;
    }
    let found = consumer
        .offsets_for_times(list, TIMEOUT)
        .map_err(admin_error)?;
    found
        .elements()
        .iter()
        .map(|e| {
            let offset = match e.offset() {
                Offset::Offset(o) => o,
                // No message at or after that time: the end of the partition.
                _ => watermarks(settings, topic, e.partition())?.1,
            };
            Ok((e.partition(), offset))
        })
        .collect()
}

/// Notes when the member it belongs to got an assignment (even an empty one): the group
/// rebalanced with it in.
struct JoinedContext(std::sync::atomic::AtomicBool);

impl rdkafka::ClientContext for JoinedContext {}

impl rdkafka::consumer::ConsumerContext for JoinedContext {
    fn post_rebalance(
        &self,
        _consumer: &BaseConsumer<Self>,
        rebalance: &rdkafka::consumer::Rebalance<'_>,
    ) {
        if matches!(rebalance, rdkafka::consumer::Rebalance::Assign(_)) {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Makes `group` rebalance by joining it with a short-lived consumer subscribed to `topics`
/// (Karafka's `trigger_rebalance`, meant for development): once that member took part in a
/// rebalance it leaves, which rebalances the group again.
pub fn trigger_rebalance(
    settings: &KafkaSettings,
    group: &str,
    topics: &[String],
) -> CoreResult<()> {
    let mut config = client_config(settings);
    config
        .set("group.id", group)
        .set("enable.auto.commit", "false");
    let context = JoinedContext(std::sync::atomic::AtomicBool::new(false));
    let consumer: BaseConsumer<JoinedContext> = config
        .create_with_context(context)
        .map_err(CoreError::ClientCreation)?;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&names)
        .map_err(|e| admin_error(format!("trigger rebalance of {group}: {e}")))?;
    let deadline = std::time::Instant::now() + TIMEOUT;
    while std::time::Instant::now() < deadline {
        // Messages it may fetch are dropped: nothing is committed (auto commit is off).
        let _ = consumer.poll(Duration::from_millis(100));
        if consumer
            .context()
            .0
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            consumer.unsubscribe();
            return Ok(());
        }
    }
    Err(admin_error(format!(
        "trigger rebalance of {group}: not admitted to the group within {} s",
        TIMEOUT.as_secs()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, value: Option<&str>, topic_override: bool) -> TopicConfigEntry {
        TopicConfigEntry {
            name: name.to_string(),
            value: value.map(str::to_string),
            default: !topic_override,
            read_only: false,
            sensitive: value.is_none(),
            topic_override,
        }
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn keeps_the_topics_own_settings_drops_deleted_ones_and_applies_changes() {
        let current = vec![
            entry("max.message.bytes", Some("2048"), true),
            entry("cleanup.policy", Some("delete"), true),
            // Broker defaults are not sent: they stay defaults.
            entry("segment.ms", Some("604800000"), false),
        ];
        let merged = merged_topic_config(
            "t",
            current,
            &pairs(&[("retention.ms", "60000"), ("cleanup.policy", "compact")]),
            &["max.message.bytes".to_string()],
        )
        .unwrap();
        assert_eq!(
            merged.into_iter().collect::<Vec<_>>(),
            pairs(&[("cleanup.policy", "compact"), ("retention.ms", "60000")])
        );
    }

    #[test]
    fn refuses_to_reset_a_setting_it_cannot_read_back() {
        let current = vec![entry("secret.thing", None, true)];
        let error = merged_topic_config("t", current, &pairs(&[("retention.ms", "1")]), &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("secret.thing cannot be read back"),
            "{error}"
        );

        // Replacing or deleting it is fine: nothing is lost unknowingly.
        let current = vec![entry("secret.thing", None, true)];
        assert!(merged_topic_config("t", current, &pairs(&[("secret.thing", "x")]), &[]).is_ok());
        let current = vec![entry("secret.thing", None, true)];
        assert!(merged_topic_config("t", current, &[], &["secret.thing".to_string()]).is_ok());
    }
}
