//! librdkafka settings: the user's `config.kafka` hash on top of defaults tuned for jobs.

use rdkafka::ClientConfig;

/// `config.kafka` as given by the user, in order, values already stringified by Ruby.
pub type KafkaSettings = Vec<(String, String)>;

/// Producer defaults. `linger.ms=0.5`: async dispatches that arrive within half a millisecond
/// share one request. At 0, every `perform_later` was a request of its own: 64-74 µs per
/// call against 38-46 µs, and a worse latency tail under load (p99 17 ms against 4-6 ms at
/// 1,000 jobs/s), for ~1 ms more median latency (bench/RESULTS.md); that millisecond is won
/// back where it matters, for a message that finds the producer idle (produce/idle_send.rs).
/// Sync dispatches do not linger (Producer::wait_sync). librdkafka's own default is 5 ms.
/// `consistent_random` (librdkafka's and WaterDrop's default, CRC32): keyed jobs land where
/// Karafka put them (see partitioner.rs); set `partitioner` for the Java client's `murmur2_random`.
/// `sticky.partitioning.linger.ms=0`: jobs without a key each go to a random partition.
/// librdkafka's default (twice `linger.ms`) keeps them on one partition for that long, so a
/// `perform_all_later` of keyless jobs all landed on one partition: one worker, one server.
/// `max.in.flight.requests.per.connection=5` (the Java client's default): a broker answers a
/// connection's requests one at a time, so while it is slow (a JVM just started, a busy
/// node) librdkafka's default of a million in flight queued one tiny request per
/// `perform_later` behind the others. Capped, the jobs wait in librdkafka and go out together
/// in the next request: a fresh broker's latency p99 at 1,000 jobs/s fell from 90-135 ms to
/// 13-23 ms (bench/RESULTS.md). Idempotence allows at most 5 in flight, so the two agree.
/// `enable.idempotence=true` (the Java client's default since Kafka 3.0): a request retried
/// after a broker failure is not stored twice (a sync enqueue across a broker `kill -9` stored
/// one job twice without it) and cannot overtake the ones behind it. It needs `acks=all`
/// (librdkafka's default), so [`producer_config`] leaves it off when the user asks for fewer
/// acks or more in flight without saying anything about idempotence.
const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
    ("linger.ms", "0.5"),
    ("sticky.partitioning.linger.ms", "0"),
    ("max.in.flight.requests.per.connection", "5"),
    ("partitioner", "consistent_random"),
    ("message.timeout.ms", "300000"),
    ("enable.idempotence", "true"),
];

/// Consumer defaults. Offsets are committed by the engine after each job succeeded, so
/// librdkafka's own auto commit and offset store are off. `fetch.wait.max.ms` is the broker's
/// long-poll (a new job is returned as soon as it arrives); it is short because the broker
/// answers one connection's requests in order, so an offset commit waits behind a pending
/// fetch: at 100 ms a SIGKILL repeated twice as many finished jobs as at 10 ms.
const CONSUMER_DEFAULTS: &[(&str, &str)] = &[
    ("enable.auto.commit", "false"),
    ("enable.auto.offset.store", "false"),
    ("auto.offset.reset", "earliest"),
    ("fetch.wait.max.ms", "10"),
    // Per partition: every assigned partition has its own queue (see intake.rs), so this is
    // what each may prefetch. 16 MiB each held a 6-partition backlog at 300 MiB of RSS.
    ("queued.max.messages.kbytes", "4096"),
    // A partition whose queue is over that limit is fetched again after this long. librdkafka's
    // 1000 ms let a queue that workers drain in under a second run dry: measured, 1 partition
    // at 0.67-0.76 of the Ruby limit, 0.85 at 10 ms (bench/RESULTS.md).
    ("fetch.queue.backoff.ms", "10"),
    ("enable.partition.eof", "false"),
];

fn build(defaults: &[(&str, &str)], settings: &KafkaSettings) -> ClientConfig {
    let mut config = ClientConfig::new();
    for (key, value) in defaults {
        config.set(*key, *value);
    }
    for (key, value) in settings {
        config.set(key.as_str(), value.as_str());
    }
    config
}

pub fn producer_config(settings: &KafkaSettings) -> ClientConfig {
    let mut config = build(PRODUCER_DEFAULTS, settings);
    if !idempotence_fits(settings) {
        config.set("enable.idempotence", "false");
    }
    config
}

/// Whether the default idempotence fits the user's settings: it does unless they set
/// `enable.idempotence` themselves (theirs wins, in `build`), or ask for `acks` other than all
/// or more than 5 requests in flight, which librdkafka refuses with idempotence on.
fn idempotence_fits(settings: &KafkaSettings) -> bool {
    let last = |names: &[&str]| {
        settings
            .iter()
            .rev()
            .find(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    if last(&["enable.idempotence"]).is_some() {
        return true;
    }
    let acks_all = last(&["acks", "request.required.acks"]).is_none_or(|v| v == "all" || v == "-1");
    let in_flight_ok = last(&["max.in.flight.requests.per.connection", "max.in.flight"])
        .is_none_or(|v| v.parse::<u64>().is_ok_and(|n| n <= 5));
    acks_all && in_flight_ok
}

pub fn consumer_config(settings: &KafkaSettings) -> ClientConfig {
    build(CONSUMER_DEFAULTS, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_settings_override_defaults() {
        let settings = vec![("linger.ms".to_string(), "5".to_string())];
        assert_eq!(producer_config(&settings).get("linger.ms"), Some("5"));
        assert_eq!(
            producer_config(&settings).get("partitioner"),
            Some("consistent_random")
        );
    }

    #[test]
    fn producer_is_idempotent_by_default() {
        let config = producer_config(&vec![]);
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(
            config.get("max.in.flight.requests.per.connection"),
            Some("5")
        );
        assert!(config.create::<rdkafka::producer::BaseProducer>().is_ok());
    }

    #[test]
    fn idempotence_steps_aside_for_fewer_acks_or_more_in_flight() {
        let s = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        for settings in [
            s("acks", "1"),
            s("request.required.acks", "0"),
            s("max.in.flight.requests.per.connection", "10"),
        ] {
            let config = producer_config(&settings);
            assert_eq!(
                config.get("enable.idempotence"),
                Some("false"),
                "{settings:?}"
            );
            assert!(config.create::<rdkafka::producer::BaseProducer>().is_ok());
        }
        let explicit = vec![
            ("acks".to_string(), "1".to_string()),
            ("enable.idempotence".to_string(), "true".to_string()),
        ];
        assert_eq!(
            producer_config(&explicit).get("enable.idempotence"),
            Some("true")
        );
        assert_eq!(
            producer_config(&s("acks", "all")).get("enable.idempotence"),
            Some("true")
        );
    }

    #[test]
    fn consumer_commits_are_left_to_the_engine() {
        let config = consumer_config(&vec![]);
        assert_eq!(config.get("enable.auto.commit"), Some("false"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
    }
}
