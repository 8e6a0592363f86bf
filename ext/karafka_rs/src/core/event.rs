//! What the Ruby side hears from the core: everything a Rust thread notices (a rebalance, a
//! failed commit, a schedule that could not be dispatched) is queued as an [`Event`] and
//! returned from a call a Ruby thread made; no Rust thread calls Ruby.

use crate::core::error_code::ErrorCode;
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
    /// An error the consumer client reported (from `poll`), with Karafka's `error.occurred`
    /// type for it ([`client_error_type`]) and librdkafka's code when it has one.
    ClientError {
        kind: &'static str,
        code: Option<ErrorCode>,
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

/// Karafka's `error.occurred` type for an error of the consumer client: `librdkafka.error`
/// for the client's own trouble (connections, name resolution, authentication, TLS, fatal
/// errors: Karafka hears of these from librdkafka's error callback), and
/// `connection.client.poll.error` for what polling reports (a topic that does not exist, a
/// poll interval exceeded, ...).
pub fn client_error_type(code: Option<&ErrorCode>) -> &'static str {
    const CLIENT_OWN: [&str; 6] = [
        "transport",
        "all_brokers_down",
        "resolve",
        "authentication",
        "ssl",
        "fatal",
    ];
    match code {
        Some(code) if CLIENT_OWN.contains(&&*code.name) => "librdkafka.error",
        _ => "connection.client.poll.error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::error::RDKafkaErrorCode;

    #[test]
    fn client_errors_get_karafkas_types() {
        let of = |code| client_error_type(Some(&ErrorCode::of(code)));
        assert_eq!(
            of(RDKafkaErrorCode::BrokerTransportFailure),
            "librdkafka.error"
        );
        assert_eq!(of(RDKafkaErrorCode::AllBrokersDown), "librdkafka.error");
        assert_eq!(of(RDKafkaErrorCode::Fatal), "librdkafka.error");
        assert_eq!(
            of(RDKafkaErrorCode::UnknownTopicOrPartition),
            "connection.client.poll.error"
        );
        assert_eq!(
            of(RDKafkaErrorCode::PollExceeded),
            "connection.client.poll.error"
        );
        assert_eq!(client_error_type(None), "connection.client.poll.error");
    }
}
