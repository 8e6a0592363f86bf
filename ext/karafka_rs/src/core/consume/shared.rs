//! State shared by the consumer loop, its rebalance callbacks, the workers and the schedule
//! timer. Plain Rust: whatever Ruby must hear about is queued as an [`Event`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;

use crate::core::consume::next_job::Scheduler;
use crate::core::consume::refusal_reports::{OutageReports, RefusalReports};
use crate::core::error_code::ErrorCode;
use crate::core::event::client_error_type;
pub use crate::core::event::Event;
use crate::core::job::{Job, TopicPartition};
use crate::core::schedules::store::ScheduleStore;
use crate::core::schedules::timer::{Schedules, TimerReports};
use crate::core::wait::{lock, wait_on, Wake};

/// State shared by the consumer loop, its rebalance callbacks and the workers.
pub struct Shared {
    pub(crate) scheduler: Mutex<Scheduler>,
    /// Workers wait here for a runnable job (see `Engine::wait_for_work`).
    pub(crate) work: Condvar,
    /// A revocation waits here for the running jobs of the partitions it hands over
    /// ([`Shared::let_running_finish`]); completions notify it meanwhile.
    pub(crate) handed_back: Condvar,
    /// The Ruby thread running the consumer loop is being interrupted (`Thread#kill`, a
    /// signal): a hand-over stops waiting (`Engine::interrupt_loop`).
    pub(crate) loop_interrupted: AtomicBool,
    /// How many workers wait on `work`. Changed and read only while holding `scheduler`, so
    /// a worker is either counted or sees the new job before it waits (atomic only to be
    /// `Sync`).
    pub(crate) idle_workers: AtomicUsize,
    /// How many of them were notified and have not woken yet (same lock): jobs arriving
    /// meanwhile are theirs, and no more workers are woken for them.
    pub(crate) waking_workers: AtomicUsize,
    pub(crate) events: Mutex<Vec<Event>>,
    pub(crate) schedule_topics: Vec<String>,
    pub(crate) schedules: Option<Arc<Schedules>>,
    /// Wakes the consumer loop: a queue got messages, or a full partition drained.
    pub(crate) listener: Arc<Wake>,
    /// One queue per assigned partition. Only the consumer loop's thread touches them (its
    /// rebalance callbacks included). They hold the consumer: `Engine::close` clears them.
    pub(crate) queues: Mutex<HashMap<TopicPartition, PartitionQueue<EngineContext>>>,
    /// For splitting partition queues inside rebalance callbacks (the current consumer: a
    /// dead one is replaced, see reset.rs).
    pub(crate) consumer: Mutex<Weak<BaseConsumer<EngineContext>>>,
    pub(crate) virtual_topics: Vec<String>,
    /// Fetched messages of virtual-partition topics, in order, waiting for their lanes.
    pub(crate) unclassified: Mutex<Vec<Job>>,
    /// When the async commit still unanswered was sent. One at a time: commits queued while
    /// the coordinator was away went out in a burst when it came back, after the shutdown's
    /// sync commit, and set the group's offsets back thousands of jobs (the broker keeps the
    /// last commit, not the highest).
    pub(crate) commit_in_flight: Mutex<Option<Instant>>,
    /// Throttles the consumer errors of a broker outage.
    pub(crate) outage: Mutex<OutageReports>,
}

/// The consumer client's context: librdkafka hands it to the rebalance and commit callbacks
/// (rebalance.rs), which run inside `poll` on the consumer loop's thread.
pub struct EngineContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) refusals: Mutex<RefusalReports>,
}

/// After this long without an answer, an async commit no longer holds the next one back.
pub(crate) const COMMIT_ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

impl Shared {
    /// A consumer error from `poll`: reported when an outage starts, then summarised.
    pub(crate) fn poll_error(&self, error: &KafkaError) {
        let report = lock(&self.outage).error(error.to_string(), Instant::now());
        if let Some(message) = report {
            let code = ErrorCode::of_error(error);
            self.event(Event::ClientError {
                kind: client_error_type(code.as_ref()),
                code,
                message,
            });
        }
    }

    /// The broker answered (an accepted commit, an assignment; not a message, which may
    /// come from librdkafka's prefetched queue): ends an outage's reports with one line.
    pub(crate) fn broker_answered(&self) {
        let mut outage = lock(&self.outage);
        if !outage.is_failing() {
            return;
        }
        let line = outage.answered(Instant::now());
        drop(outage);
        if let Some(line) = line {
            self.event(Event::Info(line));
        }
    }

    /// Whether an async commit is unanswered (and not yet given up on).
    pub(crate) fn commit_pending_answer(&self, now: Instant) -> bool {
        lock(&self.commit_in_flight)
            .is_some_and(|sent| now.saturating_duration_since(sent) < COMMIT_ANSWER_TIMEOUT)
    }
}

impl Shared {
    pub(crate) fn event(&self, event: Event) {
        lock(&self.events).push(event);
    }

    /// Wakes up to `jobs` waiting workers for newly runnable jobs, and none when no worker
    /// waits: every `notify_one` is a futex syscall even then, one per trivial job on 6
    /// partitions, where every completion leaves runnable jobs behind.
    pub(crate) fn wake_workers(&self, scheduler: MutexGuard<'_, Scheduler>, jobs: usize) {
        let waking = self.waking_workers.load(Ordering::Relaxed);
        let wake = jobs.min(
            self.idle_workers
                .load(Ordering::Relaxed)
                .saturating_sub(waking),
        );
        self.waking_workers.store(waking + wake, Ordering::Relaxed);
        drop(scheduler);
        for _ in 0..wake {
            self.work.notify_one();
        }
    }

    /// Before partitions move to another member in a rebalance: none of their jobs starts any
    /// more, and the running ones get up to `budget` to finish, so that the revocation's
    /// commit includes them and their next owner does not run them a second time (at once,
    /// even). Returns the jobs still running after it: they run on, their outcome is no longer
    /// ours to commit, and the next owner runs them again. No wait while stopping: shutdown
    /// has waited for its jobs already (its own timeout), and a forced one must not wait more.
    pub(crate) fn let_running_finish(
        &self,
        tps: &[TopicPartition],
        budget: Duration,
    ) -> Vec<String> {
        let deadline = Instant::now() + budget;
        let mut scheduler = lock(&self.scheduler);
        scheduler.hand_over(tps);
        loop {
            let running = scheduler.running_in(tps);
            let left = deadline.saturating_duration_since(Instant::now());
            let interrupted = self.loop_interrupted.load(Ordering::Relaxed);
            if running.is_empty() || left.is_zero() || scheduler.is_stopping() || interrupted {
                return running;
            }
            scheduler = wait_on(&self.handed_back, scheduler, Some(left));
        }
    }

    /// Offsets the schedule timer made safe to commit (committed by the consumer loop).
    pub(crate) fn record_commits(&self, commits: Vec<(TopicPartition, i64)>) {
        if commits.is_empty() {
            return;
        }
        let mut scheduler = lock(&self.scheduler);
        for (tp, offset) in commits {
            scheduler.record_commit(tp, offset);
        }
    }

    /// Gives each newly assigned partition its own queue (after every assign: an assign
    /// deactivates earlier splits). Messages fetched before the split are in the main queue,
    /// which the loop drains first, so a partition's order holds.
    pub(crate) fn split_queues(&self, tps: &[TopicPartition]) {
        let Some(consumer) = lock(&self.consumer).upgrade() else {
            return;
        };
        let mut queues = lock(&self.queues);
        for tp in tps {
            if let Some(mut queue) = consumer.split_partition_queue(&tp.topic, tp.partition) {
                let listener = Arc::clone(&self.listener);
                queue.set_nonempty_callback(move || {
                    crate::core::consume::latency_trace::notified();
                    listener.notify()
                });
                queues.insert(tp.clone(), queue);
            }
        }
    }

    pub(crate) fn is_schedules_topic(&self, topic: &str) -> bool {
        self.schedules.is_some() && self.schedule_topics.iter().any(|t| t == topic)
    }

    /// Runs `f` on the schedule store for the schedules partitions among `tps`.
    pub(crate) fn with_schedules(
        &self,
        tps: &[TopicPartition],
        f: impl Fn(&mut ScheduleStore, &TopicPartition),
    ) {
        let Some(schedules) = &self.schedules else {
            return;
        };
        let mut store = lock(&schedules.store);
        for tp in tps.iter().filter(|tp| self.is_schedules_topic(&tp.topic)) {
            f(&mut store, tp);
        }
        drop(store);
        schedules.wake();
    }
}

/// The schedule timer reports through the engine's state: its errors go to Ruby with the other
/// events, and the consumer loop commits the offsets it made safe.
impl TimerReports for Shared {
    fn event(&self, event: Event) {
        Shared::event(self, event);
    }

    fn record_commits(&self, commits: Vec<(TopicPartition, i64)>) {
        Shared::record_commits(self, commits);
    }
}
