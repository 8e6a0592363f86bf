//! What the Ruby side hears from the core: everything a Rust thread notices (a rebalance, a
//! failed commit, a schedule that could not be dispatched) is queued as an [`Event`] and
//! returned from a call a Ruby thread made; no Rust thread calls Ruby.

use crate::core::job::TopicPartition;

/// Something the Ruby side should log or instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Assigned(Vec<TopicPartition>),
    Revoked(Vec<TopicPartition>),
    /// A consumer-level error (not a job's): broker down, commit failed, ...
    Error {
        kind: &'static str,
        message: String,
    },
    /// librdkafka's statistics JSON (`statistics.interval.ms`), as librdkafka wrote it: Ruby
    /// parses it once, and only when `statistics.emitted` has a subscriber.
    Statistics(String),
    /// Worth a log line, not an error (the broker is back).
    Info(String),
    /// The consumer was replaced after a fatal error (Karafka's `client.reset`), with the
    /// log line saying so.
    Reset(String),
}
