//! The consumer loop's intake: messages from librdkafka's queues into the scheduler (as far
//! as buffers have room), the schedule store, or the virtual-partition classification queue.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers, Message};

use crate::core::consume::engine::Engine;
use crate::core::consume::latency_trace;
use crate::core::consume::shared::EngineContext;
use crate::core::event::Event;
use crate::core::job::{Job, TopicPartition};
use crate::core::wait::lock;

/// Most main-queue messages taken per round (they only exist right after an assignment).
const MAIN_QUEUE_BATCH: usize = 10_000;

impl Engine {
    /// Serves the main queue (events, rebalances, messages fetched before their partition's
    /// queue was split - these first, to keep each partition's order), then takes from each
    /// partition's queue what its buffer has room for. Returns how many messages were taken.
    pub(crate) fn take_messages(&self, consumer: &BaseConsumer<EngineContext>) -> usize {
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
                Some(Err(e)) => self.shared.poll_error(&e),
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
                    Some(Err(e)) => self.shared.poll_error(&e),
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
            self.wake_for(scheduler, woken);
        }
        count
    }

    /// A message of a schedules topic: a schedule, or the tombstone of a dispatched one.
    fn push_schedule(&self, message: &BorrowedMessage<'_>) {
        let Some(schedules) = &self.shared.schedules else {
            return;
        };
        let tp = TopicPartition::new(message.topic(), message.partition());
        let headers = headers_of(message);
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
    pub(crate) fn load_schedules(&self, consumer: &BaseConsumer<EngineContext>) {
        let Some(schedules) = &self.shared.schedules else {
            return;
        };
        let needing = lock(&schedules.store).needing_watermark();
        if needing.is_empty() {
            return; // the usual case: this runs every loop round
        }
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
}

fn to_job(message: &BorrowedMessage<'_>) -> Job {
    let mut job = Job::new(
        TopicPartition::new(message.topic(), message.partition()),
        message.offset(),
        message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
    );
    job.null_payload = message.payload().is_none();
    job.key = message.key().map(<[u8]>::to_vec);
    job.timestamp_ms = message.timestamp().to_millis();
    job.headers = headers_of(message);
    latency_trace::fetched(&job.tp, job.offset);
    job
}

fn headers_of(message: &BorrowedMessage<'_>) -> Vec<(String, Vec<u8>)> {
    let Some(headers) = message.headers() else {
        return Vec::new();
    };
    headers
        .iter()
        .map(|h| {
            (
                h.key.to_string(),
                h.value.map(<[u8]>::to_vec).unwrap_or_default(),
            )
        })
        .collect()
}
