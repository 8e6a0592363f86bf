//! The message a job becomes in its dead letter queue: the original payload, key and
//! headers, plus headers saying where it came from and why it failed.
//!
//! A dead letter is a little larger than its job (the `source_*` headers), so a job the broker
//! took can make a dead letter the producer or the DLQ topic refuses as too large. Retrying
//! that would block the partition forever, so it is dispatched smaller instead
//! ([`Shape::Truncated`], then [`Shape::Bare`]), with headers saying what was cut.

use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::core::consume::engine::Engine;
use crate::core::error::{CoreError, CoreResult};
use crate::core::job::Job;
use crate::core::produce::delivery::SyncBatch;
use crate::core::produce::producer::OutgoingMessage;
use crate::core::wait::Interrupt;

/// Why the job failed, as reported by the Ruby executor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobError {
    pub class: String,
    pub message: String,
    /// The job ran past its deadline (`on_overdue: :dead_letter`): the deadline in seconds,
    /// as Ruby wrote it. Such a failure is not retried ([`Outcome::FailedNoRetry`]) and its
    /// dead letter carries [`DEADLINE_EXCEEDED`].
    ///
    /// [`Outcome::FailedNoRetry`]: crate::core::job::Outcome::FailedNoRetry
    pub deadline_exceeded: Option<String>,
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
/// On a reduced dead letter: the original payload's size in bytes.
pub const SOURCE_PAYLOAD_TRUNCATED: &str = "source_payload_truncated";
/// On a reduced dead letter: names of the original headers left out, comma-separated.
pub const SOURCE_HEADERS_DROPPED: &str = "source_headers_dropped";
/// On the dead letter of a job that failed after running past its deadline: the deadline
/// in seconds.
pub const DEADLINE_EXCEEDED: &str = "deadline_exceeded";

/// Set by the dead letter itself: a job's own headers of these names are replaced, never
/// kept next to them (a forged `source_topic` must not pass for the real one).
const RESERVED: &[&str] = &[
    SOURCE_TOPIC,
    SOURCE_PARTITION,
    SOURCE_OFFSET,
    SOURCE_KEY,
    SOURCE_CONSUMER_GROUP,
    SOURCE_ATTEMPTS,
    SOURCE_ERROR_CLASS,
    SOURCE_ERROR_MESSAGE,
    SOURCE_PAYLOAD_TRUNCATED,
    SOURCE_HEADERS_DROPPED,
    DEADLINE_EXCEEDED,
];

/// Payload bytes a truncated dead letter keeps: the start of a serialized job (class, id,
/// the first arguments), well under any sensible `max.message.bytes`.
pub const TRUNCATED_PAYLOAD_BYTES: usize = 10_000;
/// Original headers a truncated dead letter keeps are at most this large each.
const TRUNCATED_HEADER_BYTES: usize = 1_024;
/// Error message bytes a bare dead letter keeps.
const BARE_ERROR_MESSAGE_BYTES: usize = 200;

/// How much of the job a dead letter carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Payload, key and headers as they were.
    Full,
    /// The first [`TRUNCATED_PAYLOAD_BYTES`] of the payload; headers over 1 KiB left out.
    Truncated,
    /// No payload and none of the job's headers: only the key and the `source_*` headers.
    Bare,
}

impl Shape {
    /// The next smaller shape, for a dead letter refused as too large.
    pub fn smaller(self) -> Option<Self> {
        match self {
            Shape::Full => Some(Shape::Truncated),
            Shape::Truncated => Some(Shape::Bare),
            Shape::Bare => None,
        }
    }

    /// What this shape left out of `job`'s dead letter, for the report (`None` for `Full`).
    pub fn describe(self, job: &Job) -> Option<String> {
        let what = match self {
            Shape::Full => return None,
            Shape::Truncated => format!(
                "its payload cut to its first {} of {} bytes",
                job.payload.len().min(TRUNCATED_PAYLOAD_BYTES),
                job.payload.len()
            ),
            Shape::Bare => format!(
                "without its payload ({} bytes) and its {} header(s)",
                job.payload.len(),
                job.headers.len()
            ),
        };
        Some(format!(
            "the dead letter was too large for the producer or the dead letter topic \
             (MessageSizeTooLarge), so it was dispatched {what}"
        ))
    }
}

pub fn message(
    job: &Job,
    topic: &str,
    group: &str,
    attempts: u32,
    error: &JobError,
    shape: Shape,
) -> OutgoingMessage {
    let own = job
        .headers
        .iter()
        .filter(|(name, _)| !RESERVED.contains(&name.as_str()));
    let (mut headers, dropped): (Vec<_>, Vec<_>) = match shape {
        Shape::Full => (own.cloned().collect(), Vec::new()),
        Shape::Truncated => own
            .cloned()
            .partition(|(_, value)| value.len() <= TRUNCATED_HEADER_BYTES),
        Shape::Bare => (Vec::new(), own.cloned().collect()),
    };
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
    let error_message = match shape {
        Shape::Bare => truncate_utf8(&error.message, BARE_ERROR_MESSAGE_BYTES),
        _ => &error.message,
    };
    add(SOURCE_ERROR_MESSAGE, error_message.as_bytes().to_vec());
    if let Some(deadline) = &error.deadline_exceeded {
        add(DEADLINE_EXCEEDED, deadline.as_bytes().to_vec());
    }
    if shape != Shape::Full {
        add(
            SOURCE_PAYLOAD_TRUNCATED,
            job.payload.len().to_string().into_bytes(),
        );
    }
    if !dropped.is_empty() {
        let names: Vec<&str> = dropped.iter().map(|(name, _)| name.as_str()).collect();
        add(SOURCE_HEADERS_DROPPED, names.join(",").into_bytes());
    }
    let payload = match shape {
        _ if job.null_payload => None,
        Shape::Full => Some(job.payload.clone()),
        Shape::Truncated => {
            Some(job.payload[..job.payload.len().min(TRUNCATED_PAYLOAD_BYTES)].to_vec())
        }
        Shape::Bare => None,
    };
    OutgoingMessage {
        topic: topic.to_string(),
        payload,
        key: job.key.clone(),
        // Dead jobs of one source partition stay in order in the DLQ.
        partition_key: job
            .key
            .is_none()
            .then(|| job.tp.partition.to_string().into_bytes()),
        partition: None,
        headers,
        ..Default::default()
    }
}

/// One job's dead letter dispatch: smaller shapes after size refusals, resumable after an
/// interrupted wait (the message in flight is waited for again, never sent twice).
///
/// Dispatches go one at a time through `gate` (one per engine): librdkafka puts dead letters
/// bound for one DLQ partition into one request, and the broker refuses a request as a whole,
/// so one oversized dead letter failed its batch-mates from other partitions with it, at
/// every retry. Alone, a refusal is the dead letter's own. Dead letters are rare; one at a
/// time costs a broker round trip each (about 1 ms here).
pub struct Dispatch<'a> {
    job: &'a Job,
    topic: &'a str,
    attempts: u32,
    error: &'a JobError,
    shape: Shape,
    in_flight: Option<Arc<SyncBatch>>,
}

/// How often a dispatch waiting for the gate looks at its interrupt flag.
const GATE_POLL: Duration = Duration::from_millis(2);

impl<'a> Dispatch<'a> {
    pub fn new(job: &'a Job, topic: &'a str, attempts: u32, error: &'a JobError) -> Self {
        Self {
            job,
            topic,
            attempts,
            error,
            shape: Shape::Full,
            in_flight: None,
        }
    }

    /// Sends and waits: the shape the broker took, the refusal that ended it (`Err`, retried
    /// by the caller after a back-off), or `None` when `interrupt` fired (call again).
    pub fn run(
        &mut self,
        engine: &Engine,
        gate: &Mutex<()>,
        interrupt: &Interrupt,
    ) -> Option<Result<Shape, String>> {
        let _alone = loop {
            match gate.try_lock() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) if interrupt.is_set() => return None,
                Err(TryLockError::WouldBlock) => std::thread::sleep(GATE_POLL),
            }
        };
        loop {
            let batch = match self.in_flight.take() {
                Some(batch) => batch,
                None => {
                    let sent = engine.send_dead_letter(
                        self.job,
                        self.topic,
                        self.attempts,
                        self.error,
                        self.shape,
                    );
                    match sent {
                        Ok(batch) => batch,
                        Err(e) if is_too_large(&e) && self.shrink() => continue,
                        Err(e) => return Some(Err(e.to_string())),
                    }
                }
            };
            match Engine::await_dead_letter(&batch, interrupt) {
                None => {
                    self.in_flight = Some(batch);
                    return None;
                }
                Some(Ok(())) => return Some(Ok(self.shape)),
                Some(Err(refusal)) if refusal.starts_with(TOO_LARGE) && self.shrink() => {}
                Some(Err(refusal)) => return Some(Err(refusal)),
            }
        }
    }

    fn shrink(&mut self) -> bool {
        match self.shape.smaller() {
            Some(smaller) => {
                self.shape = smaller;
                true
            }
            None => false,
        }
    }
}

/// How often a dead letter wait checks its interrupt flag.
const DEAD_LETTER_POLL: Duration = Duration::from_millis(50);

impl Engine {
    /// Starts dispatching `job` to its dead letter `topic`; wait with
    /// [`Engine::await_dead_letter`]. Split in two so an interrupted wait never sends twice.
    pub fn send_dead_letter(
        &self,
        job: &Job,
        topic: &str,
        attempts: u32,
        error: &JobError,
        shape: Shape,
    ) -> CoreResult<Arc<SyncBatch>> {
        let producer = self.producer.as_ref().ok_or(CoreError::Closed)?;
        let message = message(job, topic, &self.group, attempts, error, shape);
        let batch = Arc::new(SyncBatch::new(1));
        producer.send_blocking(&message, Some((Arc::clone(&batch), 0)), &Interrupt::new())?;
        Ok(batch)
    }

    /// Waits for the dead letter dispatch: `None` when `interrupt` fired first.
    pub fn await_dead_letter(
        batch: &SyncBatch,
        interrupt: &Interrupt,
    ) -> Option<Result<(), String>> {
        loop {
            if let Some(mut reports) = batch.wait_timeout(DEAD_LETTER_POLL) {
                return Some(
                    reports
                        .remove(0)
                        .map(|_| ())
                        .map_err(|f| format!("{}: {}", f.code, f.message)),
                );
            }
            if interrupt.is_set() {
                return None;
            }
        }
    }
}

/// The code librdkafka reports for a message over `message.max.bytes` (at enqueue) and the
/// broker for one over the topic's `max.message.bytes`, as a refusal's text starts with it
/// (`ErrorCode`'s name of `MSG_SIZE_TOO_LARGE`).
const TOO_LARGE: &str = "msg_size_too_large";

fn is_too_large(error: &CoreError) -> bool {
    matches!(
        error,
        CoreError::Enqueue {
            source: KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge),
            ..
        }
    )
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::TopicPartition;

    #[test]
    fn carries_the_original_and_where_it_came_from() {
        let mut job = Job::new(TopicPartition::new("jobs", 2), 41, b"{}".to_vec());
        job.key = Some(b"user-7".to_vec());
        job.headers = vec![("trace".into(), b"abc".to_vec())];
        let error = JobError {
            class: "KeyError".into(),
            message: "key not found: :x".into(),
            deadline_exceeded: None,
        };
        let m = message(&job, "dead_jobs", "app", 3, &error, Shape::Full);

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
        assert_eq!(header(DEADLINE_EXCEEDED), None, "within its deadline");
    }

    #[test]
    fn an_overdue_failure_says_its_deadline_and_a_forged_one_is_replaced() {
        let mut job = failed_job();
        job.headers = vec![(DEADLINE_EXCEEDED.into(), b"forged".to_vec())];
        let error = JobError {
            deadline_exceeded: Some("0.2".into()),
            ..oops()
        };
        for shape in [Shape::Full, Shape::Bare] {
            let m = message(&job, "dlq", "app", 1, &error, shape);
            assert_eq!(header(&m, DEADLINE_EXCEEDED).as_deref(), Some("0.2"));
        }
        let m = message(&job, "dlq", "app", 1, &oops(), Shape::Full);
        assert_eq!(header(&m, DEADLINE_EXCEEDED), None);
    }

    fn header(m: &OutgoingMessage, name: &str) -> Option<String> {
        let found: Vec<_> = m.headers.iter().filter(|(n, _)| n == name).collect();
        assert!(found.len() <= 1, "{name} appears {} times", found.len());
        found
            .first()
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
    }

    fn failed_job() -> Job {
        Job::new(TopicPartition::new("jobs", 1), 7, b"payload".to_vec())
    }

    fn oops() -> JobError {
        JobError {
            class: "RuntimeError".into(),
            message: "é".repeat(500),
            deadline_exceeded: None,
        }
    }

    #[test]
    fn a_tombstone_stays_a_tombstone() {
        let mut job = Job::new(TopicPartition::new("jobs", 0), 1, Vec::new());
        job.null_payload = true;
        let m = message(&job, "dlq", "app", 1, &oops(), Shape::Full);
        assert_eq!(m.payload, None);
        let empty = Job::new(TopicPartition::new("jobs", 0), 1, Vec::new());
        let m = message(&empty, "dlq", "app", 1, &oops(), Shape::Full);
        assert_eq!(m.payload.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn forged_source_headers_are_replaced_not_appended_to() {
        let mut job = failed_job();
        job.headers = vec![
            (SOURCE_TOPIC.into(), b"forged".to_vec()),
            (SOURCE_KEY.into(), b"forged-key".to_vec()),
            (SOURCE_PAYLOAD_TRUNCATED.into(), b"1".to_vec()),
            ("trace".into(), b"abc".to_vec()),
        ];
        let m = message(&job, "dlq", "app", 1, &oops(), Shape::Full);
        assert_eq!(header(&m, SOURCE_TOPIC).as_deref(), Some("jobs"));
        assert_eq!(header(&m, SOURCE_KEY), None, "the job had no key");
        assert_eq!(header(&m, SOURCE_PAYLOAD_TRUNCATED), None);
        assert_eq!(header(&m, "trace").as_deref(), Some("abc"));
    }

    #[test]
    fn smaller_shapes_say_what_they_left_out() {
        let mut job = failed_job();
        job.payload = vec![b'x'; 999_000];
        job.key = Some(b"k".to_vec());
        job.headers = vec![
            ("small".into(), b"s".to_vec()),
            ("big".into(), vec![b'b'; 5_000]),
        ];
        let truncated = message(&job, "dlq", "app", 1, &oops(), Shape::Truncated);
        assert_eq!(
            truncated.payload.as_ref().map(Vec::len),
            Some(TRUNCATED_PAYLOAD_BYTES)
        );
        assert_eq!(header(&truncated, "small").as_deref(), Some("s"));
        assert_eq!(header(&truncated, "big"), None);
        assert_eq!(
            header(&truncated, SOURCE_PAYLOAD_TRUNCATED).as_deref(),
            Some("999000")
        );
        assert_eq!(
            header(&truncated, SOURCE_HEADERS_DROPPED).as_deref(),
            Some("big")
        );
        assert_eq!(truncated.key.as_deref(), Some(&b"k"[..]));

        let bare = message(&job, "dlq", "app", 1, &oops(), Shape::Bare);
        assert_eq!(bare.payload, None);
        assert_eq!(header(&bare, "small"), None);
        assert_eq!(
            header(&bare, SOURCE_HEADERS_DROPPED).as_deref(),
            Some("small,big")
        );
        assert_eq!(header(&bare, SOURCE_OFFSET).as_deref(), Some("7"));
        assert!(header(&bare, SOURCE_ERROR_MESSAGE).unwrap().len() <= 200);
        let size: usize = bare.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(size < 1_000, "a bare dead letter is small: {size} bytes");

        assert_eq!(Shape::Full.smaller(), Some(Shape::Truncated));
        assert_eq!(Shape::Bare.smaller(), None);
        assert!(Shape::Full.describe(&job).is_none());
        assert!(Shape::Truncated
            .describe(&job)
            .unwrap()
            .contains("first 10000 of 999000 bytes"));
    }
}
