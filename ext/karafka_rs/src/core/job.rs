//! The shared vocabulary of the core: a partition, a job (a fetched message on its way to a
//! worker) and what can become of it. Every part of the core imports this; it imports nothing
//! of the core, so no import cycle can go through it.

use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    pub topic: Arc<str>,
    pub partition: i32,
}

impl TopicPartition {
    pub fn new(topic: &str, partition: i32) -> Self {
        Self {
            topic: Arc::from(topic),
            partition,
        }
    }
}

/// A fetched message waiting to run as a job.
#[derive(Debug, Clone)]
pub struct Job {
    pub tp: TopicPartition,
    pub offset: i64,
    pub payload: Vec<u8>,
    /// The message had no payload at all (a tombstone), not an empty one.
    pub null_payload: bool,
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub timestamp_ms: Option<i64>,
    /// Failed attempts so far (0 on the first run).
    pub attempt: u32,
    /// Virtual partition (lane) the job belongs to; 0 without virtual partitions.
    pub lane: usize,
    /// The lane it runs in (lane 0 while its partition is collapsed).
    pub(crate) slot: usize,
    /// The assignment it was fetched in (set by the scheduler; a stale one is not committed).
    pub(crate) generation: u64,
}

impl Job {
    pub fn new(tp: TopicPartition, offset: i64, payload: Vec<u8>) -> Self {
        Self {
            tp,
            offset,
            payload,
            null_payload: false,
            key: None,
            headers: Vec::new(),
            timestamp_ms: None,
            attempt: 0,
            lane: 0,
            slot: 0,
            generation: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// The job raised; retry it after a back-off (or dead-letter it, see [`Completion`]).
    Failure,
    /// The job raised and must not be retried (it ran past its deadline with
    /// `on_overdue: :dead_letter`): counted as a failure, then dead-lettered at once whatever
    /// its attempts. Without a dead letter queue on its topic it is an ordinary [`Failure`].
    ///
    /// [`Failure`]: Outcome::Failure
    FailedNoRetry,
    /// The job was dispatched to the dead letter queue: commit it and move on.
    DeadLettered,
    /// The job was cut short by something that is not its fault (the process is stopping):
    /// run it again later, without counting a failure.
    Abandoned,
    /// Dispatching to the dead letter queue failed: retry the job after a back-off.
    DeadLetterFailed,
}

/// Dead letter queue settings of one topic (`dead_letter_queue(...)` in routing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPolicy {
    /// `None`: failed jobs are skipped without being dispatched (`topic: false`).
    pub topic: Option<String>,
    pub max_retries: u32,
    /// Each job gets its own retry budget. Otherwise (Karafka's default) failures keep
    /// counting until the partition has caught up with everything it fetched.
    pub independent: bool,
}

/// What the worker must do after reporting an outcome.
#[derive(Debug)]
pub enum Completion {
    Done,
    /// The job will be retried after `pause`.
    Retry(Retry),
    /// Dispatch this job to `topic` (or skip it, when `None`), then report
    /// [`Outcome::DeadLettered`]. Its partition stays blocked until then.
    DeadLetter {
        job: Job,
        topic: Option<String>,
        attempts: u32,
    },
}

/// What happened to a failed job, for the log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub failures: u32,
    pub pause: Duration,
}
