//! The message a job becomes in its dead letter queue: the original payload, key and
//! headers, plus headers saying where it came from and why it failed.

use crate::core::producer::OutgoingMessage;
use crate::core::scheduler::Job;

/// Why the job failed, as reported by the Ruby executor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobError {
    pub class: String,
    pub message: String,
}

/// Header names (Karafka's `source_*` names, plus the error's class and message).
pub const SOURCE_TOPIC: &str = "source_topic";
pub const SOURCE_PARTITION: &str = "source_partition";
pub const SOURCE_OFFSET: &str = "source_offset";
pub const SOURCE_KEY: &str = "source_key";
pub const SOURCE_CONSUMER_GROUP: &str = "source_consumer_group";
pub const SOURCE_ATTEMPTS: &str = "source_attempts";
pub const SOURCE_ERROR_CLASS: &str = "source_error_class";
pub const SOURCE_ERROR_MESSAGE: &str = "source_error_message";

pub fn message(
    job: &Job,
    topic: &str,
    group: &str,
    attempts: u32,
    error: &JobError,
) -> OutgoingMessage {
    let mut headers = job.headers.clone();
    let mut add = |name: &str, value: Vec<u8>| headers.push((name.to_string(), value));
    add(SOURCE_TOPIC, job.tp.topic.as_bytes().to_vec());
    add(SOURCE_PARTITION, job.tp.partition.to_string().into_bytes());
    add(SOURCE_OFFSET, job.offset.to_string().into_bytes());
    if let Some(key) = &job.key {
        add(SOURCE_KEY, key.clone());
    }
    add(SOURCE_CONSUMER_GROUP, group.as_bytes().to_vec());
    add(SOURCE_ATTEMPTS, attempts.to_string().into_bytes());
    add(SOURCE_ERROR_CLASS, error.class.as_bytes().to_vec());
    add(SOURCE_ERROR_MESSAGE, error.message.as_bytes().to_vec());
    OutgoingMessage {
        topic: topic.to_string(),
        payload: Some(job.payload.clone()),
        key: job.key.clone(),
        // Dead jobs of one source partition stay in order in the DLQ.
        partition_key: job
            .key
            .is_none()
            .then(|| job.tp.partition.to_string().into_bytes()),
        partition: None,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::scheduler::TopicPartition;

    #[test]
    fn carries_the_original_and_where_it_came_from() {
        let mut job = Job::new(TopicPartition::new("jobs", 2), 41, b"{}".to_vec());
        job.key = Some(b"user-7".to_vec());
        job.headers = vec![("trace".into(), b"abc".to_vec())];
        let error = JobError {
            class: "KeyError".into(),
            message: "key not found: :x".into(),
        };
        let m = message(&job, "dead_jobs", "app", 3, &error);

        assert_eq!(
            (m.topic.as_str(), m.payload.as_deref(), m.key.as_deref()),
            ("dead_jobs", Some(&b"{}"[..]), Some(&b"user-7"[..]))
        );
        let header = |name: &str| {
            m.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
        };
        assert_eq!(header("trace").as_deref(), Some("abc"));
        assert_eq!(header(SOURCE_TOPIC).as_deref(), Some("jobs"));
        assert_eq!(header(SOURCE_PARTITION).as_deref(), Some("2"));
        assert_eq!(header(SOURCE_OFFSET).as_deref(), Some("41"));
        assert_eq!(header(SOURCE_KEY).as_deref(), Some("user-7"));
        assert_eq!(header(SOURCE_CONSUMER_GROUP).as_deref(), Some("app"));
        assert_eq!(header(SOURCE_ATTEMPTS).as_deref(), Some("3"));
        assert_eq!(header(SOURCE_ERROR_CLASS).as_deref(), Some("KeyError"));
        assert_eq!(
            header(SOURCE_ERROR_MESSAGE).as_deref(),
            Some("key not found: :x")
        );
    }
}
