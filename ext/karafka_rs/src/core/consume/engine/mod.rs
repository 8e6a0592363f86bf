//! The consumer engine: one consumer loop feeding a [`Scheduler`] (next_job.rs),
//! `concurrency` workers taking jobs from it. Its impl continues in `intake.rs` (messages
//! into the scheduler) and `dead_letter.rs` (jobs that keep failing).
//!
//! Threads: [`Engine::run_loop`] is called by one Ruby-created thread with the GVL released;
//! librdkafka serves rebalances inside `poll`, so [`EngineContext`]'s callbacks run on that same
//! thread. [`Engine::wait_for_work`] is called by each Ruby worker thread with the GVL released
//! ([`Engine::try_next_job`] claims the job once it holds the GVL again).
//! None of these call Ruby: what Ruby must hear about (rebalances, errors) is queued as
//! [`Event`]s and returned from `run_loop`.
//!
//! Flow control: every assigned partition gets its own librdkafka queue, and the loop takes a
//! partition's messages only while its buffer has room ([`Scheduler::room`]). Nothing is ever
//! paused: librdkafka's pause drops the prefetched messages and its fetcher notices a resume
//! only up to a second later, which held one busy partition to 1/20 of the Ruby limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};

use crate::core::config::KafkaSettings;
use crate::core::consume::backoff::Backoff;
use crate::core::consume::commits::{commit_async, commit_list, commit_sync, SYNC_COMMIT_TIMEOUT};
use crate::core::consume::latency_trace;
use crate::core::consume::next_job::{Next, Scheduler};
use crate::core::consume::ownership::{Ownership, OwnershipProbe, ProbeAnswer};
pub use crate::core::consume::shared::{EngineContext, Shared};
use crate::core::error::{CoreError, CoreResult};
pub use crate::core::event::Event;
use crate::core::job::{Completion, DeadLetterPolicy, Job, Outcome};
use crate::core::produce::producer::Producer;
use crate::core::schedules::timer::{ScheduleTimer, Schedules};
use crate::core::wait::{lock, wait_on, Interrupt, Wake};
use nudger::Nudger;
pub use nudger::WorkerClock;

pub mod dead_letter;
mod intake;
mod nudger;
mod reset;
use reset::ConsumerRecipe;

/// Why [`Engine::run_loop`] returned.
#[derive(Debug, PartialEq, Eq)]
pub enum LoopExit {
    /// Stopping, and every running job has finished: close the engine.
    Stopped,
    /// Events are waiting in [`Engine::take_events`]; call `run_loop` again afterwards.
    Events,
    /// Messages of virtual-partition topics wait for their lanes: see
    /// [`Engine::unclassified`] and [`Engine::classify`]; call `run_loop` again afterwards.
    Classify,
    /// [`TICK_INTERVAL`] passed without another reason to return: Ruby publishes
    /// `connection.listener.fetch_loop` (liveness probes), then calls `run_loop` again.
    Tick,
    Interrupted,
}

pub struct EngineSettings {
    pub kafka: KafkaSettings,
    pub topics: Vec<String>,
    /// Karafka's `max_messages`: the engine buffers `BUFFERED_BATCHES` of these per partition.
    pub max_messages: usize,
    /// Karafka's `max_wait_time`: the longest an idle poll blocks.
    pub max_wait: Duration,
    pub backoff: Backoff,
    /// `dead_letter_queue(...)` of routed topics.
    pub dead_letters: Vec<(String, DeadLetterPolicy)>,
    /// Schedules topics (`scheduled_messages(...)`): their messages are scheduled jobs.
    pub schedule_topics: Vec<String>,
    /// Topics with virtual partitions and their lane count; their messages wait for Ruby's
    /// partitioner ([`LoopExit::Classify`]) before they become jobs.
    pub virtual_partitions: Vec<(String, usize)>,
    /// Karafka's `internal.connection.reset_backoff`: the shortest time between two resets of
    /// a consumer librdkafka declared dead (reset.rs).
    pub reset_backoff: Duration,
}

/// Default for how often finished jobs' offsets are committed (`auto.commit.interval.ms` in
/// `config.kafka` overrides it; librdkafka's own auto commit stays off). Often enough that a
/// crash repeats little finished work, rarely enough that the broker writes one commit per
/// interval rather than one per job (at 5 ms, five-millisecond jobs committed once each).
const DEFAULT_COMMIT_INTERVAL: Duration = Duration::from_millis(50);
/// How often every partition's commit point is committed again, changed or not: a broker
/// restarted after a kill -9 can lose commits it had acknowledged (seen: an unclean recovery
/// of `__consumer_offsets` set a group back ~2,900 jobs per partition), and an idle server
/// would otherwise never write them again.
const COMMIT_REFRESH: Duration = Duration::from_secs(10);
/// How long the loop naps while jobs run, between looks for new messages and due commits.
const BUSY_NAP: Duration = Duration::from_millis(5);
/// Jobs buffered per partition, in `max_messages` batches. A full partition is taken from again
/// once it drained to half, so the other half keeps its workers busy meanwhile.
const BUFFERED_BATCHES: usize = 10;
/// The longest the loop sleeps when idle: librdkafka's main-queue events (rebalances) do not
/// always wake it, so it looks again at least this often.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// The longest `run_loop` loops without returning to Ruby, so Ruby can prove the loop alive.
const TICK_INTERVAL: Duration = Duration::from_secs(1);

thread_local! {
    /// The calling worker's `try_next_job` was refused by the nudger: its next
    /// `wait_for_work` waits to be called.
    static PARKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub struct Engine {
    pub(crate) shared: Arc<Shared>,
    /// Declared before `consumer`: its queue must go before the client does.
    pub(crate) probe: Mutex<Option<OwnershipProbe>>,
    /// When every commit point was last committed again ([`COMMIT_REFRESH`]). Kept here, not
    /// in `run_loop`: the loop returns to Ruby at least every [`TICK_INTERVAL`].
    last_refresh: Mutex<Instant>,
    consumer: Mutex<Option<Arc<BaseConsumer<EngineContext>>>>,
    max_wait: Duration,
    commit_interval: Duration,
    pub(crate) group: String,
    /// For dead letters and scheduled jobs (only when a route needs one).
    pub(crate) producer: Option<Arc<Producer>>,
    timer: Option<ScheduleTimer>,
    /// Wakes a waiting worker when the running jobs leave Ruby unused (nudger.rs).
    nudger: Nudger,
    /// For replacing a consumer librdkafka declared dead (reset.rs).
    pub(crate) recipe: ConsumerRecipe,
}

impl Engine {
    pub fn new(settings: EngineSettings) -> CoreResult<Self> {
        latency_trace::init();
        let buffered = settings.max_messages.max(1) * BUFFERED_BATCHES;
        let mut scheduler = Scheduler::new(buffered, settings.backoff);
        // Virtual partitions may run one batch ahead of their commit point.
        scheduler.set_run_ahead(settings.max_messages.max(1));
        scheduler.ownership = Ownership::new(ownership_limit(&settings.kafka));
        for (topic, policy) in &settings.dead_letters {
            scheduler.set_dead_letter(topic, policy.clone());
        }
        for (topic, lanes) in &settings.virtual_partitions {
            scheduler.set_virtual_partitions(topic, *lanes);
        }
        let needs_producer =
            !settings.dead_letters.is_empty() || !settings.schedule_topics.is_empty();
        let producer = if needs_producer {
            let producer_settings: Vec<_> = settings
                .kafka
                .iter()
                // Consumer-only settings (librdkafka warns about them on a producer); the
                // statistics are the consumer's (`statistics.emitted`).
                .filter(|(k, _)| {
                    !k.starts_with("group.")
                        && k != "auto.offset.reset"
                        && k != "statistics.interval.ms"
                })
                .cloned()
                .collect();
            Some(Arc::new(Producer::new(&producer_settings)?))
        } else {
            None
        };
        let group = settings
            .kafka
            .iter()
            .rev()
            .find(|(k, _)| k == "group.id")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let schedules =
            (!settings.schedule_topics.is_empty()).then(|| Arc::new(Schedules::default()));
        let shared = Arc::new(Shared {
            scheduler: Mutex::new(scheduler),
            work: Condvar::new(),
            handed_back: Condvar::new(),
            loop_interrupted: AtomicBool::new(false),
            idle_workers: AtomicUsize::new(0),
            waking_workers: AtomicUsize::new(0),
            events: Mutex::new(Vec::new()),
            schedule_topics: settings.schedule_topics.clone(),
            schedules: schedules.clone(),
            listener: Arc::new(Wake::default()),
            queues: Mutex::new(HashMap::new()),
            consumer: Mutex::new(Weak::new()),
            virtual_topics: settings
                .virtual_partitions
                .iter()
                .map(|(t, _)| t.clone())
                .collect(),
            unclassified: Mutex::new(Vec::new()),
            commit_in_flight: Mutex::new(None),
            outage: Mutex::default(),
        });
        let all_topics: Vec<String> = settings
            .topics
            .iter()
            .chain(&settings.schedule_topics)
            .cloned()
            .collect();
        let recipe =
            ConsumerRecipe::new(settings.kafka.clone(), all_topics, settings.reset_backoff);
        let consumer = recipe.build(&shared)?;
        let timer = match (schedules, &producer) {
            (Some(schedules), Some(producer)) => Some(ScheduleTimer::start(
                schedules,
                Arc::<Shared>::clone(&shared),
                Arc::clone(producer),
            )),
            _ => None,
        };
        let nudger = Nudger::start(Arc::clone(&shared));
        Ok(Self {
            shared,
            probe: Mutex::new(None),
            last_refresh: Mutex::new(Instant::now()),
            consumer: Mutex::new(Some(consumer)),
            max_wait: settings.max_wait,
            commit_interval: commit_interval(&settings.kafka),
            group,
            producer,
            timer,
            nudger,
            recipe,
        })
    }

    /// The consumer loop. Takes messages (as far as buffers have room), serves librdkafka's
    /// events and commits, until stopped (and idle), interrupted, or there are events for Ruby.
    pub fn run_loop(&self, interrupt: &Interrupt) -> CoreResult<LoopExit> {
        self.shared.loop_interrupted.store(false, Ordering::Relaxed);
        let mut guard = lock(&self.consumer);
        self.reset_if_fatal(&mut guard)?;
        let consumer = guard.as_ref().ok_or(CoreError::Closed)?;
        let mut last_commit = Instant::now();
        let mut final_refresh = false;
        let started = Instant::now();
        loop {
            if interrupt.is_set() {
                return Ok(LoopExit::Interrupted);
            }
            self.mark_round();
            if started.elapsed() >= TICK_INTERVAL {
                return Ok(LoopExit::Tick);
            }
            let taken = self.take_messages(consumer);
            if self.recipe.due(consumer, &self.shared) {
                return Ok(LoopExit::Events); // the next call replaces it (reset.rs)
            }
            self.verify_ownership(consumer);
            self.load_schedules(consumer);
            let (stopping, busy) = {
                let scheduler = lock(&self.shared.scheduler);
                let busy = scheduler.running() > 0
                    || scheduler.has_pending_commits()
                    || scheduler.buffered() > 0;
                (scheduler.is_stopping(), busy)
            };
            if stopping {
                // Shutdown: offsets must be on the broker before the process exits. An async
                // commit still unanswered is waited for first: landing after this one, it
                // would set the offsets back.
                let answered = !self.shared.commit_pending_answer(Instant::now());
                if answered {
                    if !final_refresh {
                        // Everything once more: a restarted broker may have lost what it
                        // acknowledged.
                        lock(&self.shared.scheduler).refresh_commits();
                        final_refresh = true;
                    }
                    self.commit(consumer, CommitMode::Sync);
                }
                let idle = {
                    let scheduler = lock(&self.shared.scheduler);
                    answered && scheduler.running() == 0 && !scheduler.has_pending_commits()
                };
                if idle {
                    return Ok(LoopExit::Stopped);
                }
            } else if last_commit.elapsed() >= self.commit_interval {
                let mut last_refresh = lock(&self.last_refresh);
                if last_refresh.elapsed() >= COMMIT_REFRESH {
                    lock(&self.shared.scheduler).refresh_commits();
                    *last_refresh = Instant::now();
                }
                drop(last_refresh);
                self.commit(consumer, CommitMode::Async);
                last_commit = Instant::now();
            }
            self.report_abandoned();
            if !lock(&self.shared.events).is_empty() {
                return Ok(LoopExit::Events);
            }
            if !lock(&self.shared.unclassified).is_empty() {
                return Ok(LoopExit::Classify);
            }
            if taken == 0 {
                // Short naps while jobs run, so their commits go out promptly.
                let nap = if busy || stopping {
                    BUSY_NAP
                } else {
                    self.max_wait.min(IDLE_WAIT)
                };
                self.shared.listener.wait(nap);
            }
        }
    }

    /// Tells the workers the loop is alive; a gap since the last round means we may have lost
    /// our partitions (see ownership.rs), so jobs wait until the group confirms them.
    fn mark_round(&self) {
        let (gap, running) = {
            let mut scheduler = lock(&self.shared.scheduler);
            let gap = scheduler.ownership.round(Instant::now());
            (gap, gap.map(|_| scheduler.running_jobs()))
        };
        if let (Some(gap), Some(running)) = (gap, running) {
            // A probe of an earlier gap must not confirm this one.
            *lock(&self.probe) = None;
            // Jobs already started cannot be held back: they finish here, and the new owner
            // (if there is one) may have run them meanwhile. Named, so nobody has to guess.
            let started = if running.is_empty() {
                String::new()
            } else {
                format!(
                    "; already running, they finish (and may also have run elsewhere): {}",
                    running.join(", ")
                )
            };
            self.shared.event(Event::Error {
                kind: "consumer.ownership",
                message: format!(
                    "the consumer loop did not run for {:.1} s (frozen or starved): no job starts \
                     until the group confirms this member still owns its partitions{started}",
                    gap.as_secs_f64()
                ),
            });
        }
    }

    /// After a gap: serve revocations first (the poll in `take_messages` did), then confirm
    /// with an offset commit that only the current generation's member may make.
    fn verify_ownership(&self, consumer: &BaseConsumer<EngineContext>) {
        let points = {
            let scheduler = lock(&self.shared.scheduler);
            if !scheduler.ownership.is_unverified() {
                return;
            }
            scheduler.commit_points()
        };
        let mut probe = lock(&self.probe);
        let probe = probe.get_or_insert_with(|| OwnershipProbe::new(consumer));
        let confirmed = match probe.answer() {
            ProbeAnswer::Confirmed => true,
            // Lost (librdkafka will revoke) or not yet known: nothing to confirm yet.
            _ if consumer.assignment_lost() => false,
            ProbeAnswer::Waiting | ProbeAnswer::Refused(_) if points.is_empty() => true,
            ProbeAnswer::Waiting | ProbeAnswer::Refused(_) => {
                if let Err(e) = probe.send(consumer, &commit_list(&points), Instant::now()) {
                    self.shared.event(Event::Error {
                        kind: "consumer.ownership",
                        message: format!("could not send the ownership probe: {e}"),
                    });
                }
                false
            }
        };
        if confirmed {
            lock(&self.shared.scheduler).ownership.confirmed();
            self.shared.work.notify_all();
        }
    }

    fn commit(&self, consumer: &BaseConsumer<EngineContext>, mode: CommitMode) {
        let asynchronous = matches!(mode, CommitMode::Async);
        if asynchronous && self.shared.commit_pending_answer(Instant::now()) {
            return; // the offsets stay pending and go out with the next one
        }
        let commits = lock(&self.shared.scheduler).take_commits();
        if commits.is_empty() {
            return;
        }
        if asynchronous {
            *lock(&self.shared.commit_in_flight) = Some(Instant::now());
        }
        let list = commit_list(&commits);
        let committed = match mode {
            CommitMode::Async => commit_async(consumer, &list).map_err(|e| e.to_string()),
            CommitMode::Sync => commit_sync(consumer, &list, SYNC_COMMIT_TIMEOUT),
        };
        let mut scheduler = lock(&self.shared.scheduler);
        match committed {
            Ok(()) if matches!(mode, CommitMode::Sync) => {
                scheduler.committed(&commits);
                drop(scheduler);
                self.shared.broker_answered();
            }
            Ok(()) => {}
            Err(e) if asynchronous => {
                *lock(&self.shared.commit_in_flight) = None;
                // Not even sent: they go out again with the next round.
                let ranges = scheduler.describe(&commits);
                for (tp, offset) in commits {
                    scheduler.retry_commit(tp, offset);
                }
                drop(scheduler);
                self.shared.event(Event::Error {
                    kind: "consumer.commit",
                    message: format!("{e}: {ranges} not committed yet, sent again next round"),
                });
            }
            // The shutdown commit: there is no next round.
            Err(e) => {
                let ranges = scheduler.describe(&commits);
                drop(scheduler);
                self.shared.event(Event::Error {
                    kind: "consumer.commit",
                    message: format!(
                        "abandoned the shutdown commit ({e}): {ranges} finished but not \
                         committed, they run again on the next start"
                    ),
                });
            }
        }
    }

    /// Finished jobs whose offsets can no longer be committed, reported once each.
    fn report_abandoned(&self) {
        let abandoned = lock(&self.shared.scheduler).take_abandoned();
        if !abandoned.is_empty() {
            self.shared.event(Event::Error {
                kind: "consumer.commit",
                message: format!("{} job(s): {}", abandoned.len(), abandoned.join("; ")),
            });
        }
    }

    /// Metadata of the messages waiting for their virtual partition, in order (no payloads).
    pub fn unclassified(&self) -> Vec<Job> {
        let waiting = lock(&self.shared.unclassified);
        let mut metadata = Vec::with_capacity(waiting.len());
        for job in waiting.iter() {
            let mut meta = job.clone();
            meta.payload = Vec::new();
            metadata.push(meta);
        }
        metadata
    }

    /// The lanes Ruby's partitioner chose for [`Engine::unclassified`], in the same order:
    /// the messages become jobs. `lanes` must have one entry per waiting message.
    pub fn classify(&self, lanes: &[usize]) -> CoreResult<()> {
        let jobs: Vec<Job> = std::mem::take(&mut *lock(&self.shared.unclassified));
        if jobs.len() != lanes.len() {
            let error = CoreError::Classify {
                waiting: jobs.len(),
                given: lanes.len(),
            };
            lock(&self.shared.unclassified).extend(jobs);
            return Err(error);
        }
        let mut scheduler = lock(&self.shared.scheduler);
        let mut woken = 0;
        for (mut job, lane) in jobs.into_iter().zip(lanes) {
            job.lane = *lane;
            woken += scheduler.push(job) as usize;
        }
        self.wake_for(scheduler, woken);
        Ok(())
    }

    /// `runnable` jobs became runnable. A worker running a job takes them when it finishes,
    /// so a waiting one is woken only when no job runs and none is being woken already;
    /// otherwise the nudger looks from now on whether the running ones compute or wait
    /// (nudger.rs).
    fn wake_for(&self, scheduler: MutexGuard<'_, Scheduler>, runnable: usize) {
        if runnable == 0 {
            return;
        }
        if scheduler.running() == 0 && self.shared.waking_workers.load(Ordering::Relaxed) == 0 {
            self.shared.wake_workers(scheduler, 1);
        } else {
            drop(scheduler);
            self.nudger.look_soon();
        }
    }

    /// Blocks until a job is runnable for this worker (`Ok(true)`, without taking it: claim it
    /// with [`Engine::try_next_job`]), the engine stops (`Ok(false)`), or `interrupt` fires.
    /// A runnable job is this worker's only while no job runs, or once it was called for it
    /// (`wake_for`, the nudger); otherwise the workers running jobs take it when they finish,
    /// and this one waits on, whatever woke it (a timeout, another worker's wake-up). A worker
    /// the nudger parked waits to be called even while no job runs: the nudger calls one
    /// within a tick if the jobs wait.
    pub fn wait_for_work(&self, interrupt: &Interrupt) -> CoreResult<bool> {
        let mut scheduler = lock(&self.shared.scheduler);
        let parked = PARKED.with(|parked| parked.replace(false));
        let mut called = false;
        loop {
            let mut timeout = match scheduler.poll_work(Instant::now()) {
                Next::Stopped => return Ok(false),
                Next::Wait(timeout) => timeout,
                Next::Run(_) => unreachable!("poll_work never hands out a job"),
            };
            if timeout.is_some_and(|wait| wait.is_zero()) {
                if called || (scheduler.running() == 0 && !parked) || scheduler.is_stopping() {
                    latency_trace::woken();
                    return Ok(true);
                }
                // Left to the running workers (a retry came due, say): the nudger watches.
                self.nudger.look_soon();
                timeout = None;
            }
            if interrupt.is_set() {
                return Err(CoreError::Interrupted);
            }
            let idle = &self.shared.idle_workers;
            idle.fetch_add(1, Ordering::Relaxed);
            scheduler = wait_on(&self.shared.work, scheduler, timeout);
            idle.fetch_sub(1, Ordering::Relaxed);
            // Called, timed out or woken spuriously: a pending call is this worker's either way.
            let waking = &self.shared.waking_workers;
            let pending = waking.load(Ordering::Relaxed);
            called = pending > 0;
            waking.store(pending.saturating_sub(1), Ordering::Relaxed);
        }
    }

    /// Registers the calling thread as a worker for as long as the result lives (nudger.rs).
    pub fn worker_clock(&self) -> Option<WorkerClock> {
        self.nudger.worker_clock()
    }

    /// Takes a job without blocking, if one is runnable right now.
    pub fn try_next_job(&self) -> Option<Job> {
        if self.nudger.take_park() {
            // The others keep the GVL busy: this worker waits until it is called (nudger.rs).
            PARKED.with(|parked| parked.set(true));
            return None;
        }
        let mut scheduler = lock(&self.shared.scheduler);
        let now = Instant::now();
        let next = scheduler.next_job(now);
        self.refill_if_drained(&mut scheduler);
        match next {
            Next::Run(job) => {
                self.nudger.job_started(now);
                latency_trace::claimed(&job.tp, job.offset);
                Some(job)
            }
            _ => None,
        }
    }

    /// A full partition drained to half: the consumer loop may take its messages again.
    fn refill_if_drained(&self, scheduler: &mut Scheduler) {
        if scheduler.take_refill() {
            self.shared.listener.notify();
        }
    }

    /// Wakes [`Engine::wait_for_work`] waiters; for the unblock function.
    /// The unblock function of [`Engine::run_loop`]: the loop returns, also from a rebalance
    /// callback waiting for running jobs (shared.rs).
    pub fn interrupt_loop(&self, interrupt: &Interrupt) {
        self.shared.loop_interrupted.store(true, Ordering::Relaxed);
        interrupt.fire(&self.shared.scheduler, &self.shared.handed_back);
    }

    pub fn interrupt_workers(&self, interrupt: &Interrupt) {
        interrupt.fire(&self.shared.scheduler, &self.shared.work);
    }

    pub fn complete(&self, job: Job, outcome: Outcome) -> Completion {
        let mut scheduler = lock(&self.shared.scheduler);
        let completion = scheduler.complete(job, outcome, Instant::now());
        if scheduler.is_handing_over() {
            self.shared.handed_back.notify_all();
        }
        // Nobody is woken: the finishing worker takes the next job itself, and another one
        // only for jobs the running ones leave waiting without computing (nudger.rs).
        completion
    }

    /// Begins shutdown: no new jobs start; running ones finish and are committed.
    pub fn stop(&self) {
        lock(&self.shared.scheduler).stop();
        self.shared.work.notify_all();
        self.shared.handed_back.notify_all(); // a hand-over stops waiting (shared.rs)
        if let Some(timer) = &self.timer {
            timer.stop();
        }
    }

    /// Quiet (TSTP): no new job starts; running ones finish and are committed; the consumer
    /// keeps polling and its partitions until [`Engine::stop`].
    pub fn quiet(&self) {
        lock(&self.shared.scheduler).quiet();
    }

    /// `(running, buffered)`: jobs running on workers now, and jobs buffered not yet started.
    pub fn load(&self) -> (usize, usize) {
        let scheduler = lock(&self.shared.scheduler);
        (scheduler.running(), scheduler.buffered())
    }

    pub fn take_events(&self) -> Vec<Event> {
        std::mem::take(&mut *lock(&self.shared.events))
    }

    /// Commits what is owed, synchronously, then leaves the group and closes the consumer.
    pub fn close(&self) -> CoreResult<()> {
        let Some(consumer) = lock(&self.consumer).take() else {
            return Ok(());
        };
        if let Some(timer) = &self.timer {
            // A dispatch in progress finishes and records its commits first.
            timer.join();
        }
        self.nudger.join();
        self.commit(&consumer, CommitMode::Sync);
        drop(lock(&self.probe).take());
        consumer.unsubscribe();
        // The partition queues hold the consumer too; dropping the last handle polls until
        // librdkafka has closed it (rebalance callbacks run meanwhile).
        lock(&self.shared.queues).clear();
        drop(consumer);
        latency_trace::write();
        Ok(())
    }
}

/// Ruby never called `close` (a forceful shutdown leaves it to the garbage collector or the
/// process exit): commit what is owed and leave the group all the same. A no-op after
/// `close`. Blocks like `close` (at most the sync commit's timeout plus librdkafka's close).
impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn commit_interval(kafka: &KafkaSettings) -> Duration {
    kafka
        .iter()
        .rev()
        .find(|(key, _)| key == "auto.commit.interval.ms")
        .and_then(|(_, value)| value.parse().ok())
        .map_or(DEFAULT_COMMIT_INTERVAL, Duration::from_millis)
}

/// See [`Ownership::limit_for`]; librdkafka's defaults where `config.kafka` is silent.
fn ownership_limit(kafka: &KafkaSettings) -> Duration {
    let ms = |key: &str, default: u64| {
        let value = kafka.iter().rev().find(|(k, _)| k == key);
        Duration::from_millis(value.and_then(|(_, v)| v.parse().ok()).unwrap_or(default))
    };
    Ownership::limit_for(
        ms("session.timeout.ms", 45_000),
        ms("heartbeat.interval.ms", 3_000),
        ms("max.poll.interval.ms", 300_000),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::consume::next_job::Next;
    use crate::core::job::{Job, TopicPartition};

    /// An engine whose broker is never reached: building and subscribing need none.
    fn offline_engine() -> Engine {
        let kafka = vec![
            ("bootstrap.servers".to_string(), "127.0.0.1:1".to_string()),
            ("group.id".to_string(), "offline".to_string()),
        ];
        Engine::new(EngineSettings {
            kafka,
            topics: vec!["jobs".into()],
            max_messages: 10,
            max_wait: Duration::from_millis(50),
            backoff: Backoff::default(),
            dead_letters: vec![],
            schedule_topics: vec![],
            virtual_partitions: vec![],
            reset_backoff: Duration::from_secs(1),
        })
        .expect("an engine needs no broker to be built")
    }

    #[test]
    fn interrupting_the_loop_ends_a_hand_over_waiting_for_a_running_job() {
        let engine = Arc::new(offline_engine());
        let tp = TopicPartition::new("jobs", 0);
        {
            let mut scheduler = lock(&engine.shared.scheduler);
            scheduler.assign([tp.clone()]);
            scheduler.push(Job::new(tp.clone(), 0, b"{}".to_vec()));
            assert!(matches!(scheduler.next_job(Instant::now()), Next::Run(_)));
        }
        // The job never finishes: only the interrupt can end the wait (else: a 10-minute hang).
        let waiting = Arc::clone(&engine);
        let tps = vec![tp];
        let hand_over = std::thread::spawn(move || {
            waiting
                .shared
                .let_running_finish(&tps, Duration::from_secs(600))
        });
        engine.interrupt_loop(&Interrupt::new());
        assert_eq!(
            hand_over.join().unwrap(),
            vec!["jobs/0/0"],
            "still running, handed over"
        );
    }

    #[test]
    fn commit_interval_comes_from_auto_commit_interval_ms() {
        let settings = |v: &str| vec![("auto.commit.interval.ms".to_string(), v.to_string())];
        assert_eq!(commit_interval(&vec![]), DEFAULT_COMMIT_INTERVAL);
        assert_eq!(commit_interval(&settings("5")), Duration::from_millis(5));
        assert_eq!(commit_interval(&settings("soon")), DEFAULT_COMMIT_INTERVAL);
    }
}
