//! librdkafka error codes as Ruby sees them: karafka-rdkafka's Symbol names (`msg_timed_out`,
//! `unknown_topic_or_part`: librdkafka's `rd_kafka_err2name`, lower case, without the leading
//! `_` of local errors) and two answers, whether trying again may succeed and whether the
//! client that reported it is unusable.
//!
//! librdkafka exposes `retriable` / `fatal` only on `rd_kafka_error_t` objects, which
//! delivery reports and most calls do not return; for a plain code the answers follow
//! librdkafka's own handling of it: `fatal` is `_FATAL` (an idempotent producer or a fenced
//! static member, see `rd_kafka_fatal_error`), `retryable` is what librdkafka itself retries
//! or what goes away by itself (timeouts, a full queue, brokers or leaders not available, the
//! Kafka protocol's retriable errors), never a permanent refusal (too large, unauthorized,
//! no such topic in librdkafka's view, purged on close).

use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;

use rdkafka::bindings as rd;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// A named error code and its classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorCode {
    /// karafka-rdkafka's name, e.g. `msg_timed_out`.
    pub name: Cow<'static, str>,
    pub retryable: bool,
    pub fatal: bool,
}

impl ErrorCode {
    /// librdkafka's `code`.
    pub fn of(code: RDKafkaErrorCode) -> Self {
        Self {
            name: Cow::Owned(name_of(code)),
            retryable: retryable(code),
            fatal: code == RDKafkaErrorCode::Fatal,
        }
    }

    /// The code `error` carries, if any.
    pub fn of_error(error: &KafkaError) -> Option<Self> {
        error.rdkafka_error_code().map(Self::of)
    }

    /// `error`'s code, or `unknown` when it carries none.
    pub fn of_error_or_unknown(error: &KafkaError) -> Self {
        Self::of_error(error).unwrap_or_else(|| Self::local("unknown", false))
    }

    /// One of karafka-rs' own codes (e.g. `wait_timeout`: no delivery report within
    /// `max_wait_timeout`), never fatal.
    pub const fn local(name: &'static str, retryable: bool) -> Self {
        Self {
            name: Cow::Borrowed(name),
            retryable,
            fatal: false,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn name_of(code: RDKafkaErrorCode) -> String {
    let Ok(raw) = rd::rd_kafka_resp_err_t::try_from(code as i32) else {
        return "unknown".into();
    };
    // SAFETY: rd_kafka_err2name returns a static NUL-terminated string for every code.
    let name = unsafe { CStr::from_ptr(rd::rd_kafka_err2name(raw)) }.to_string_lossy();
    let name = name.strip_prefix('_').unwrap_or(&name);
    name.to_ascii_lowercase()
}

fn retryable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        // Local: timeouts, a full queue, the connection.
        C::MessageTimedOut
            | C::OperationTimedOut
            | C::TimedOutQueue
            | C::QueueFull
            | C::BrokerTransportFailure
            | C::AllBrokersDown
            | C::Resolve
            | C::WaitingForCoordinator
            | C::Retry
            // Broker: the Kafka protocol's retriable errors.
            | C::UnknownTopicOrPartition
            | C::LeaderNotAvailable
            | C::NotLeaderForPartition
            | C::RequestTimedOut
            | C::BrokerNotAvailable
            | C::ReplicaNotAvailable
            | C::NetworkException
            | C::CoordinatorLoadInProgress
            | C::CoordinatorNotAvailable
            | C::NotCoordinator
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::KafkaStorageError
            | C::FetchSessionIdNotFound
            | C::InvalidFetchSessionEpoch
            | C::ListenerNotFound
            | C::FencedLeaderEpoch
            | C::UnknownLeaderEpoch
            | C::OffsetNotAvailable
            | C::PreferredLeaderNotAvailable
            | C::RebalanceInProgress
            | C::ConcurrentTransactions
            | C::UnstableOffsetCommit
            | C::ThrottlingQuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_as_karafka_rdkafka_does() {
        let timed_out = ErrorCode::of(RDKafkaErrorCode::MessageTimedOut);
        assert_eq!(
            (
                timed_out.name.as_ref(),
                timed_out.retryable,
                timed_out.fatal
            ),
            ("msg_timed_out", true, false)
        );
        let unknown = ErrorCode::of(RDKafkaErrorCode::UnknownTopicOrPartition);
        assert_eq!(unknown.name, "unknown_topic_or_part");
        assert!(unknown.retryable);
    }

    #[test]
    fn permanent_and_fatal_codes_are_not_retryable() {
        let too_large = ErrorCode::of(RDKafkaErrorCode::MessageSizeTooLarge);
        assert_eq!(too_large.name, "msg_size_too_large");
        assert!(!too_large.retryable && !too_large.fatal);
        let purged = ErrorCode::of(RDKafkaErrorCode::PurgeQueue);
        assert_eq!(purged.name, "purge_queue");
        assert!(!purged.retryable);
        let fatal = ErrorCode::of(RDKafkaErrorCode::Fatal);
        assert_eq!(
            (fatal.name.as_ref(), fatal.fatal, fatal.retryable),
            ("fatal", true, false)
        );
    }
}
