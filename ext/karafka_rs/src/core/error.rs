//! Errors of the core, named by the operation that failed (the rust-rdkafka habit).

use rdkafka::error::KafkaError;

use crate::core::error_code::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("could not create the Kafka client: {0}")]
    ClientCreation(KafkaError),
    #[error("could not subscribe to {topics}: {source}")]
    Subscription { topics: String, source: KafkaError },
    #[error("could not enqueue the message for {topic}: {source}")]
    Enqueue { topic: String, source: KafkaError },
    #[error("could not read metadata of topic {topic}: {reason}")]
    Metadata { topic: String, reason: String },
    #[error("admin operation failed: {0}")]
    Admin(String),
    /// Ruby's partitioner answered for a different number of messages than wait for a lane.
    #[error("classify: {waiting} messages wait, {given} lanes given")]
    Classify { waiting: usize, given: usize },
    /// Messages were still undelivered when a flush timed out (or librdkafka refused it).
    #[error("could not flush the producer: {0}")]
    Flush(String),
    #[error("interrupted while waiting")]
    Interrupted,
    #[error("the client is closed")]
    Closed,
}

impl CoreError {
    /// librdkafka's code of the failure, when it has one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::ClientCreation(source)
            | Self::Subscription { source, .. }
            | Self::Enqueue { source, .. } => ErrorCode::of_error(source),
            _ => None,
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
