//! The thread that dispatches scheduled jobs when they are due.
//!
//! A plain Rust thread (it never calls Ruby): it sleeps on a condition variable until the
//! next schedule is due (millisecond timers, no coarse tick), produces the due jobs to their
//! target topics, writes a tombstone for each to the schedules topic, and then hands the
//! schedules partitions' new commit offsets to the consumer loop. A dispatch that fails is
//! retried a second later; nothing is committed for it meanwhile.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::core::error_code::ErrorCode;
use crate::core::event::Event;
use crate::core::job::TopicPartition;
use crate::core::produce::delivery::{DeliveryFailure, SyncBatch};
use crate::core::produce::producer::{OutgoingMessage, Producer};
use crate::core::schedules::store::{
    Due, ScheduleStore, SCHEMA_VERSION, SOURCE_TYPE, WRITTEN_SCHEMA_VERSION,
};
use crate::core::wait::{lock, wait_on, Interrupt};

/// The longest the timer sleeps without looking again (a new schedule also wakes it).
const IDLE_WAIT: Duration = Duration::from_secs(1);
const RETRY_AFTER_MS: i64 = 1_000;
/// Schedules dispatched per round: a burst of 100,000 due at once goes out in rounds, so the
/// first jobs leave at once, memory stays bounded, and tombstones and commits keep up.
const ROUND: usize = 1_000;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The store plus what wakes the timer.
#[derive(Default)]
pub struct Schedules {
    pub store: Mutex<ScheduleStore>,
    wake: Condvar,
    stopping: AtomicBool,
}

impl Schedules {
    /// Something changed (new schedule, loading finished, stopping): look again.
    pub fn wake(&self) {
        self.wake.notify_all();
    }
}

/// Where the timer reports: errors for Ruby, and the schedules partitions' offsets that became
/// safe to commit (the consumer loop commits them). The engine's shared state implements it
/// (consume/shared.rs); the timer knows nothing else of the consumer.
pub trait TimerReports: Send + Sync {
    fn event(&self, event: Event);
    fn record_commits(&self, commits: Vec<(TopicPartition, i64)>);
}

pub struct ScheduleTimer {
    schedules: Arc<Schedules>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl ScheduleTimer {
    pub fn start(
        schedules: Arc<Schedules>,
        engine: Arc<dyn TimerReports>,
        producer: Arc<Producer>,
    ) -> Self {
        let thread = {
            let schedules = Arc::clone(&schedules);
            std::thread::Builder::new()
                .name("karafka.scheduler".into())
                .spawn(move || run(&schedules, &*engine, &producer))
                .expect("spawning the scheduler thread")
        };
        Self {
            schedules,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Stops dispatching; a dispatch in progress completes. Does not block.
    pub fn stop(&self) {
        self.schedules.stopping.store(true, Ordering::Release);
        // Under the store's lock, so the timer cannot miss the wake-up between check and wait.
        drop(lock(&self.schedules.store));
        self.schedules.wake();
    }

    /// Stops and waits for the thread (may wait for a dispatch in progress).
    pub fn join(&self) {
        self.stop();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

/// A timer nobody joined (the engine was dropped without `close`) stops all the same; it does
/// not wait for the thread, which finishes a dispatch in progress and exits.
impl Drop for ScheduleTimer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(schedules: &Schedules, engine: &dyn TimerReports, producer: &Producer) {
    while let Some(due) = next_due(schedules) {
        let (delivered, failed) = dispatch(producer, due);
        let mut commits = Vec::new();
        {
            let mut store = lock(&schedules.store);
            for due in &delivered {
                if let Some(offset) = store.dispatched(due) {
                    commits.push((due.tp.clone(), offset));
                }
            }
            for (due, _) in &failed {
                store.retry(due, now_ms() + RETRY_AFTER_MS);
            }
        }
        for (due, reason) in failed {
            engine.event(Event::Error {
                kind: "scheduled_messages.dispatch",
                message: format!(
                    "{}/{}/{}: {reason}",
                    due.tp.topic, due.tp.partition, due.offset
                ),
            });
        }
        engine.record_commits(commits);
    }
}

/// Sleeps until something is due; `None` once stopping.
fn next_due(schedules: &Schedules) -> Option<Vec<Due>> {
    let mut store = lock(&schedules.store);
    loop {
        if schedules.stopping.load(Ordering::Acquire) {
            return None;
        }
        let now = now_ms();
        let due = store.take_due(now, ROUND);
        if !due.is_empty() {
            return Some(due);
        }
        let wait = store
            .next_due_in(now)
            .map(|ms| Duration::from_millis(ms as u64))
            .map_or(IDLE_WAIT, |d| d.min(IDLE_WAIT));
        store = wait_on(&schedules.wake, store, Some(wait));
    }
}

/// Produces the due jobs, then tombstones for those delivered. Returns (done, failed).
fn dispatch(producer: &Producer, mut due: Vec<Due>) -> (Vec<Due>, Vec<(Due, String)>) {
    // Moved, not copied: a failed dispatch is retried from the store, which keeps its own.
    let mut targets: Vec<OutgoingMessage> = due
        .iter_mut()
        .map(|d| std::mem::take(&mut d.target))
        .collect();
    let resolved = producer.resolve_partitions(&mut targets);
    let reports = match resolved {
        Ok(()) => send_all(producer, &targets),
        Err(e) => vec![Err(e.to_string()); targets.len()],
    };
    let (sent, mut failed) = split(due, reports);
    let tombstones: Vec<OutgoingMessage> = sent
        .iter()
        .map(|d| OutgoingMessage {
            topic: d.tp.topic.to_string(),
            key: Some(d.key.clone()),
            partition: Some(d.tp.partition),
            // The format's headers, with a source type that is not `schedule`: a removal.
            headers: vec![
                (SOURCE_TYPE.into(), b"tombstone".to_vec()),
                (
                    SCHEMA_VERSION.into(),
                    WRITTEN_SCHEMA_VERSION.as_bytes().to_vec(),
                ),
            ],
            ..Default::default()
        })
        .collect();
    let reports = send_all(producer, &tombstones);
    let (done, tombstone_failed) = split(sent, reports);
    failed.extend(tombstone_failed);
    (done, failed)
}

fn send_all(producer: &Producer, messages: &[OutgoingMessage]) -> Vec<Result<(), String>> {
    let batch = Arc::new(SyncBatch::new(messages.len()));
    let never = Interrupt::new();
    for (index, message) in messages.iter().enumerate() {
        if let Err(e) = producer.send_blocking(message, Some((Arc::clone(&batch), index)), &never) {
            batch.report(
                index,
                Err(DeliveryFailure {
                    topic: message.topic.clone(),
                    partition: message.partition.unwrap_or(-1),
                    code: e
                        .code()
                        .unwrap_or(ErrorCode::local("enqueue_failed", false)),
                    message: e.to_string(),
                    job: None,
                    label: None,
                }),
            );
        }
    }
    // Bounded by the producer's message.timeout.ms: every message is reported eventually.
    let reports = batch.wait(&never).unwrap_or_default();
    reports
        .into_iter()
        .map(|r| {
            r.map(|_| ())
                .map_err(|f| format!("{}: {}", f.code, f.message))
        })
        .collect()
}

fn split(due: Vec<Due>, reports: Vec<Result<(), String>>) -> (Vec<Due>, Vec<(Due, String)>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (due, report) in due.into_iter().zip(reports) {
        match report {
            Ok(()) => ok.push(due),
            Err(reason) => failed.push((due, reason)),
        }
    }
    (ok, failed)
}
