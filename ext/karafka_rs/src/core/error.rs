//! Errors of the core, named by the operation that failed (the rust-rdkafka habit).

use rdkafka::error::KafkaError;

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

pub type CoreResult<T> = Result<T, CoreError>;
