//! The consumer engine: one consumer loop feeding a [`Scheduler`], `concurrency` workers taking
//! jobs from it.
//!
//! Threads: [`Engine::run_loop`] is called by one Ruby-created thread with the GVL released;
//! librdkafka serves rebalances inside `poll`, so [`EngineContext`]'s callbacks run on that same
//! thread. [`Engine::next_job`] is called by each Ruby worker thread with the GVL released.
//! None of these call Ruby: what Ruby must hear about (rebalances, errors) is queued as
//! [`Event`]s and returned from `run_loop`.
//!
//! Flow control: every assigned partition gets its own librdkafka queue, and the loop takes a
//! partition's messages only while its buffer has room ([`Scheduler::room`]). Nothing is ever
//! paused: librdkafka's pause drops the prefetched messages and its fetcher notices a resume
//! only up to a second later, which held one busy partition to 1/20 of the Ruby limit.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::base_consumer::PartitionQueue;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Headers, Message};
use rdkafka::{Offset, TopicPartitionList};

use crate::core::backoff::Backoff;
use crate::core::config::{consumer_config, KafkaSettings};
use crate::core::dead_letter::{self, JobError};
use crate::core::delivery::SyncBatch;
use crate::core::error::{CoreError, CoreResult};
use crate::core::producer::JobProducer;
use crate::core::schedule_timer::{ScheduleTimer, Schedules};
use crate::core::scheduler::{
    Completion, DeadLetterPolicy, Job, Next, Outcome, Scheduler, TopicPartition,
};
use crate::core::schedules::ScheduleStore;
use crate::core::wait::{lock, wait_on, Interrupt, Wake};

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
}

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
}

/// State shared by the consumer loop, its rebalance callbacks and the workers.
pub struct Shared {
    scheduler: Mutex<Scheduler>,
    work: Condvar,
    events: Mutex<Vec<Event>>,
    schedule_topics: Vec<String>,
    schedules: Option<Arc<Schedules>>,
    /// Wakes the consumer loop: a queue got messages, or a full partition drained.
    listener: Arc<Wake>,
    /// One queue per assigned partition. Only the consumer loop's thread touches them (its
    /// rebalance callbacks included). They hold the consumer: `Engine::close` clears them.
    queues: Mutex<HashMap<TopicPartition, PartitionQueue<EngineContext>>>,
    /// For splitting partition queues inside rebalance callbacks.
    consumer: OnceLock<Weak<BaseConsumer<EngineContext>>>,
    virtual_topics: Vec<String>,
    /// Fetched messages of virtual-partition topics, in order, waiting for their lanes.
    unclassified: Mutex<Vec<Job>>,
}

impl Shared {
    pub(crate) fn event(&self, event: Event) {
        lock(&self.events).push(event);
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
    fn split_queues(&self, tps: &[TopicPartition]) {
        let Some(consumer) = self.consumer.get().and_then(Weak::upgrade) else {
            return;
        };
        let mut queues = lock(&self.queues);
        for tp in tps {
            if let Some(mut queue) = consumer.split_partition_queue(&tp.topic, tp.partition) {
                let listener = Arc::clone(&self.listener);
                queue.set_nonempty_callback(move || listener.notify());
                queues.insert(tp.clone(), queue);
            }
        }
    }

    fn is_schedules_topic(&self, topic: &str) -> bool {
        self.schedules.is_some() && self.schedule_topics.iter().any(|t| t == topic)
    }

    /// Runs `f` on the schedule store for the schedules partitions among `tps`.
    fn with_schedules(
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

pub struct EngineContext {
    shared: Arc<Shared>,
}

impl ClientContext for EngineContext {}

impl ConsumerContext for EngineContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let tps = to_topic_partitions(tpl);
            {
                let mut queues = lock(&self.shared.queues);
                tps.iter().for_each(|tp| drop(queues.remove(tp)));
            }
            self.shared
                .with_schedules(&tps, |store, tp| store.revoke(tp));
            let owed = lock(&self.shared.scheduler).revoke(&tps);
            // Commit what finished before we hand the partitions over, or the next owner
            // would run those jobs again.
            if !owed.is_empty() {
                if let Err(e) = consumer.commit(&commit_list(&owed), CommitMode::Sync) {
                    self.shared.event(Event::Error {
                        kind: "consumer.commit",
                        message: e.to_string(),
                    });
                }
            }
            self.shared.event(Event::Revoked(tps));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let tps = to_topic_partitions(tpl);
                lock(&self.shared.scheduler).assign(tps.iter().cloned());
                self.shared.split_queues(&tps);
                self.shared
                    .with_schedules(&tps, |store, tp| store.assign(tp.clone()));
                self.shared.event(Event::Assigned(tps));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => self.shared.event(Event::Error {
                kind: "consumer.rebalance",
                message: e.to_string(),
            }),
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, _offsets: &TopicPartitionList) {
        if let Err(e) = result {
            self.shared.event(Event::Error {
                kind: "consumer.commit",
                message: e.to_string(),
            });
        }
    }
}

/// Offsets are committed at most this often while jobs keep finishing: often enough that a
/// crash repeats only the last few milliseconds of work, rarely enough not to flood the broker.
const COMMIT_INTERVAL: Duration = Duration::from_millis(5);
/// Jobs buffered per partition, in `max_messages` batches. A full partition is taken from again
/// once it drained to half, so the other half keeps its workers busy meanwhile.
const BUFFERED_BATCHES: usize = 10;
/// The longest the loop sleeps when idle: librdkafka's main-queue events (rebalances) do not
/// always wake it, so it looks again at least this often.
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// Most main-queue messages taken per round (they only exist right after an assignment).
const MAIN_QUEUE_BATCH: usize = 10_000;
/// How often a dead letter wait checks its interrupt flag.
const DEAD_LETTER_POLL: Duration = Duration::from_millis(50);

pub struct Engine {
    shared: Arc<Shared>,
    consumer: Mutex<Option<Arc<BaseConsumer<EngineContext>>>>,
    max_wait: Duration,
    group: String,
    /// For dead letters and scheduled jobs (only when a route needs one).
    producer: Option<Arc<JobProducer>>,
    timer: Option<ScheduleTimer>,
}

impl Engine {
    pub fn new(settings: EngineSettings) -> CoreResult<Self> {
        let buffered = settings.max_messages.max(1) * BUFFERED_BATCHES;
        let mut scheduler = Scheduler::new(buffered, settings.backoff);
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
                .filter(|(k, _)| !k.starts_with("group."))
                .cloned()
                .collect();
            Some(Arc::new(JobProducer::new(&producer_settings)?))
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
            events: Mutex::new(Vec::new()),
            schedule_topics: settings.schedule_topics.clone(),
            schedules: schedules.clone(),
            listener: Arc::new(Wake::default()),
            queues: Mutex::new(HashMap::new()),
            consumer: OnceLock::new(),
            virtual_topics: settings
                .virtual_partitions
                .iter()
                .map(|(t, _)| t.clone())
                .collect(),
            unclassified: Mutex::new(Vec::new()),
        });
        let context = EngineContext {
            shared: Arc::clone(&shared),
        };
        let mut consumer: BaseConsumer<EngineContext> = consumer_config(&settings.kafka)
            .create_with_context(context)
            .map_err(CoreError::ClientCreation)?;
        let listener = Arc::clone(&shared.listener);
        consumer.set_nonempty_callback(move || listener.notify());
        let consumer = Arc::new(consumer);
        let _ = shared.consumer.set(Arc::downgrade(&consumer));
        let all_topics: Vec<String> = settings
            .topics
            .iter()
            .chain(&settings.schedule_topics)
            .cloned()
            .collect();
        let topics: Vec<&str> = all_topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|source| CoreError::Subscription {
                topics: all_topics.join(", "),
                source,
            })?;
        let timer = match (schedules, &producer) {
            (Some(schedules), Some(producer)) => Some(ScheduleTimer::start(
                schedules,
                Arc::clone(&shared),
                Arc::clone(producer),
            )),
            _ => None,
        };
        Ok(Self {
            shared,
            consumer: Mutex::new(Some(consumer)),
            max_wait: settings.max_wait,
            group,
            producer,
            timer,
        })
    }

    /// The consumer loop. Takes messages (as far as buffers have room), serves librdkafka's
    /// events and commits, until stopped (and idle), interrupted, or there are events for Ruby.
    pub fn run_loop(&self, interrupt: &Interrupt) -> CoreResult<LoopExit> {
        let guard = lock(&self.consumer);
        let consumer = guard.as_ref().ok_or(CoreError::Closed)?;
        let mut last_commit = Instant::now();
        loop {
            if interrupt.is_set() {
                return Ok(LoopExit::Interrupted);
            }
            let taken = self.take_messages(consumer);
            self.load_schedules(consumer);
            let (stopping, busy) = {
                let scheduler = lock(&self.shared.scheduler);
                let busy = scheduler.running() > 0
                    || scheduler.has_pending_commits()
                    || scheduler.buffered() > 0;
                (scheduler.is_stopping(), busy)
            };
            if stopping {
                // Shutdown: offsets must be on the broker before the process exits.
                self.commit(consumer, CommitMode::Sync);
                let idle = {
                    let scheduler = lock(&self.shared.scheduler);
                    scheduler.running() == 0 && !scheduler.has_pending_commits()
                };
                if idle {
                    return Ok(LoopExit::Stopped);
                }
            } else if last_commit.elapsed() >= COMMIT_INTERVAL {
                self.commit(consumer, CommitMode::Async);
                last_commit = Instant::now();
            }
            if !lock(&self.shared.events).is_empty() {
                return Ok(LoopExit::Events);
            }
            if !lock(&self.shared.unclassified).is_empty() {
                return Ok(LoopExit::Classify);
            }
            if taken == 0 {
                // Short naps while jobs run, so their commits go out promptly.
                let nap = if busy || stopping {
                    COMMIT_INTERVAL
                } else {
                    self.max_wait.min(IDLE_WAIT)
                };
                self.shared.listener.wait(nap);
            }
        }
    }

    /// Serves the main queue (events, rebalances, messages fetched before their partition's
    /// queue was split - these first, to keep each partition's order), then takes from each
    /// partition's queue what its buffer has room for. Returns how many messages were taken.
    fn take_messages(&self, consumer: &BaseConsumer<EngineContext>) -> usize {
        let mut jobs = Vec::new();
        let mut idle_polls = 0;
        // A consumed event also reads as "nothing": stop after two empty answers in a row.
        while idle_polls < 2 && jobs.len() < MAIN_QUEUE_BATCH {
            match consumer.poll(Duration::ZERO) {
                Some(Ok(message)) if self.shared.is_schedules_topic(message.topic()) => {
                    idle_polls = 0;
                    self.push_schedule(&message)
                }
                Some(Ok(message)) => {
                    idle_polls = 0;
                    jobs.push(to_job(&message))
                }
                Some(Err(e)) => self.shared.event(Event::Error {
                    kind: "consumer.poll",
                    message: e.to_string(),
                }),
                None => idle_polls += 1,
            }
        }
        let queues = lock(&self.shared.queues);
        let rooms: Vec<(TopicPartition, usize)> = {
            let scheduler = lock(&self.shared.scheduler);
            queues
                .keys()
                .map(|tp| (tp.clone(), scheduler.room(tp)))
                .collect()
        };
        for (tp, room) in rooms {
            let queue = &queues[&tp];
            let schedules = self.shared.is_schedules_topic(&tp.topic);
            // Schedules partitions have no job buffer: take everything.
            let limit = if schedules { usize::MAX } else { room };
            let mut taken = 0;
            while taken < limit {
                match queue.poll(Duration::ZERO) {
                    Some(Ok(message)) if schedules => self.push_schedule(&message),
                    Some(Ok(message)) => jobs.push(to_job(&message)),
                    Some(Err(e)) => self.shared.event(Event::Error {
                        kind: "consumer.poll",
                        message: e.to_string(),
                    }),
                    None => break,
                }
                taken += 1;
            }
        }
        drop(queues);
        let count = jobs.len();
        if !self.shared.virtual_topics.is_empty() {
            let virtual_topics = &self.shared.virtual_topics;
            let (waiting, plain): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|job| virtual_topics.iter().any(|t| **t == *job.tp.topic));
            lock(&self.shared.unclassified).extend(waiting);
            jobs = plain;
        }
        if !jobs.is_empty() {
            let mut scheduler = lock(&self.shared.scheduler);
            let woken = jobs
                .into_iter()
                .fold(0, |n, job| n + scheduler.push(job) as usize);
            drop(scheduler);
            for _ in 0..woken {
                self.shared.work.notify_one();
            }
        }
        count
    }

    /// A message of a schedules topic: a schedule, or the tombstone of a dispatched one.
    fn push_schedule(&self, message: &BorrowedMessage<'_>) {
        let Some(schedules) = &self.shared.schedules else {
            return;
        };
        let tp = TopicPartition::new(message.topic(), message.partition());
        let headers = to_job(message).headers;
        let mut store = lock(&schedules.store);
        let pushed = store.push(
            &tp,
            message.offset(),
            message.key(),
            message.payload(),
            &headers,
        );
        let commit = store.commit_offset(&tp);
        drop(store);
        schedules.wake();
        if let Err(invalid) = pushed {
            self.shared.event(Event::Error {
                kind: "scheduled_messages.invalid",
                message: format!(
                    "{}/{}/{}: {}",
                    tp.topic, tp.partition, invalid.offset, invalid.reason
                ),
            });
        }
        if let Some(offset) = commit {
            self.shared.record_commits(vec![(tp, offset)]);
        }
    }

    /// Newly assigned schedules partitions load up to their current high watermark before
    /// anything is dispatched (see schedules.rs); fetch those watermarks.
    fn load_schedules(&self, consumer: &BaseConsumer<EngineContext>) {
        let Some(schedules) = &self.shared.schedules else {
            return;
        };
        let needing = lock(&schedules.store).needing_watermark();
        for tp in needing {
            match consumer.fetch_watermarks(&tp.topic, tp.partition, Duration::from_secs(5)) {
                Ok((_, high)) => {
                    let mut store = lock(&schedules.store);
                    store.set_load_until(&tp, high);
                    let commit = store.commit_offset(&tp);
                    drop(store);
                    if let Some(offset) = commit {
                        self.shared.record_commits(vec![(tp, offset)]);
                    }
                }
                Err(e) => self.shared.event(Event::Error {
                    kind: "scheduled_messages.load",
                    message: format!("{}/{}: {e}", tp.topic, tp.partition),
                }),
            }
        }
        schedules.wake();
    }

    fn commit(&self, consumer: &BaseConsumer<EngineContext>, mode: CommitMode) {
        let commits = lock(&self.shared.scheduler).take_commits();
        if commits.is_empty() {
            return;
        }
        if let Err(e) = consumer.commit(&commit_list(&commits), mode) {
            self.shared.event(Event::Error {
                kind: "consumer.commit",
                message: e.to_string(),
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
            let message = format!(
                "classify: {} messages wait, {} lanes given",
                jobs.len(),
                lanes.len()
            );
            lock(&self.shared.unclassified).extend(jobs);
            return Err(CoreError::Admin(message));
        }
        let mut scheduler = lock(&self.shared.scheduler);
        let mut woken = 0;
        for (mut job, lane) in jobs.into_iter().zip(lanes) {
            job.lane = *lane;
            woken += scheduler.push(job) as usize;
        }
        drop(scheduler);
        for _ in 0..woken {
            self.shared.work.notify_one();
        }
        Ok(())
    }

    /// Blocks until a job can run, the engine stops (`None`), or `interrupt` fires (`Err`).
    pub fn next_job(&self, interrupt: &Interrupt) -> CoreResult<Option<Job>> {
        let mut scheduler = lock(&self.shared.scheduler);
        loop {
            let next = scheduler.next_job(Instant::now());
            self.refill_if_drained(&mut scheduler);
            match next {
                Next::Run(job) => return Ok(Some(job)),
                Next::Stopped => return Ok(None),
                Next::Wait(timeout) => {
                    if interrupt.is_set() {
                        return Err(CoreError::Interrupted);
                    }
                    scheduler = wait_on(&self.shared.work, scheduler, timeout);
                }
            }
        }
    }

    /// Takes a job without blocking, if one is runnable right now.
    pub fn try_next_job(&self) -> Option<Job> {
        let mut scheduler = lock(&self.shared.scheduler);
        let next = scheduler.next_job(Instant::now());
        self.refill_if_drained(&mut scheduler);
        match next {
            Next::Run(job) => Some(job),
            _ => None,
        }
    }

    /// A full partition drained to half: the consumer loop may take its messages again.
    fn refill_if_drained(&self, scheduler: &mut Scheduler) {
        if scheduler.take_refill() {
            self.shared.listener.notify();
        }
    }

    /// Wakes [`Engine::next_job`] waiters; for the unblock function.
    pub fn interrupt_workers(&self, interrupt: &Interrupt) {
        interrupt.fire(&self.shared.scheduler, &self.shared.work);
    }

    pub fn complete(&self, job: Job, outcome: Outcome) -> Completion {
        let mut scheduler = lock(&self.shared.scheduler);
        let completion = scheduler.complete(job, outcome, Instant::now());
        let runnable = scheduler.runnable();
        drop(scheduler);
        // The finishing worker takes the next job itself; wake another only when there is
        // more than one (waking one per job made workers trade the GVL back and forth).
        if runnable > 1 {
            self.shared.work.notify_one();
        }
        completion
    }

    /// Starts dispatching `job` to its dead letter `topic`; wait with
    /// [`Engine::await_dead_letter`]. Split in two so an interrupted wait never sends twice.
    pub fn send_dead_letter(
        &self,
        job: &Job,
        topic: &str,
        attempts: u32,
        error: &JobError,
    ) -> CoreResult<Arc<SyncBatch>> {
        let producer = self.producer.as_ref().ok_or(CoreError::Closed)?;
        let message = dead_letter::message(job, topic, &self.group, attempts, error);
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

    /// Begins shutdown: no new jobs start; running ones finish and are committed.
    pub fn stop(&self) {
        lock(&self.shared.scheduler).stop();
        self.shared.work.notify_all();
        if let Some(timer) = &self.timer {
            timer.stop();
        }
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
        self.commit(&consumer, CommitMode::Sync);
        consumer.unsubscribe();
        // The partition queues hold the consumer too; dropping the last handle polls until
        // librdkafka has closed it (rebalance callbacks run meanwhile).
        lock(&self.shared.queues).clear();
        drop(consumer);
        Ok(())
    }
}

fn to_job(message: &BorrowedMessage<'_>) -> Job {
    let mut job = Job::new(
        TopicPartition::new(message.topic(), message.partition()),
        message.offset(),
        message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
    );
    job.key = message.key().map(<[u8]>::to_vec);
    job.timestamp_ms = message.timestamp().to_millis();
    if let Some(headers) = message.headers() {
        job.headers = headers
            .iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                )
            })
            .collect();
    }
    job
}

fn to_topic_partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

fn commit_list(offsets: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (tp, offset) in offsets {
        // Infallible for a freshly added partition with an absolute offset.
        let _ = list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset));
    }
    list
}
