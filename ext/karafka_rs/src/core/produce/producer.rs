//! The Kafka producer behind `Karafka.producer` (and WaterDrop's API on it), dead letters and
//! scheduled jobs' dispatch: async (fire and report failures later) or sync (wait for the
//! broker's acknowledgement of every message of the call).
//!
//! `send` never blocks while librdkafka's queue has room, so the bridge can call it while
//! holding the GVL; only a full queue or a sync wait blocks, and those take an [`Interrupt`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Message, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};

use crate::core::config::{producer_config, KafkaSettings};
use crate::core::error::{CoreError, CoreResult};
use crate::core::error_code::ErrorCode;
use crate::core::librdkafka_log;
use crate::core::produce::delivery::{
    Acknowledged, AsyncReports, Delivered, DeliveryFailure, JobLabel, Report, SyncBatch,
};
use crate::core::produce::idle_send::{self, IdleSend};
use crate::core::produce::partitioner::Partitioner;
use crate::core::wait::{lock, Interrupt};

/// One message to produce, converted from Ruby before the GVL is released.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub topic: String,
    pub payload: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
    /// Chooses the partition like a key would, without setting the message key.
    pub partition_key: Option<Vec<u8>>,
    pub partition: Option<i32>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Milliseconds since the epoch (WaterDrop's `timestamp:`); else librdkafka's clock.
    pub timestamp: Option<i64>,
    /// The token under which `Karafka::Producer` keeps the message's WaterDrop `label:`
    /// (any Ruby object, so it stays on the Ruby side; see [`DeliveryTarget`]).
    pub label: Option<u64>,
}

/// A message to send, borrowed: from an [`OutgoingMessage`], or straight from Ruby strings
/// while the GVL is held (no copy before librdkafka's own; see bridge/producer.rs).
#[derive(Debug, Clone, Copy)]
pub struct MessageRef<'a> {
    pub topic: &'a str,
    pub payload: Option<&'a [u8]>,
    pub key: Option<&'a [u8]>,
    pub partition: Option<i32>,
    pub headers: &'a [(String, Vec<u8>)],
    pub timestamp: Option<i64>,
    pub label: Option<u64>,
}

impl OutgoingMessage {
    pub fn as_ref(&self) -> MessageRef<'_> {
        MessageRef {
            topic: &self.topic,
            payload: self.payload.as_deref(),
            key: self.key.as_deref(),
            partition: self.partition,
            headers: &self.headers,
            timestamp: self.timestamp,
            label: self.label,
        }
    }
}

impl MessageRef<'_> {
    pub fn to_owned(self) -> OutgoingMessage {
        OutgoingMessage {
            topic: self.topic.to_string(),
            payload: self.payload.map(<[u8]>::to_vec),
            key: self.key.map(<[u8]>::to_vec),
            partition_key: None,
            partition: self.partition,
            headers: self.headers.to_vec(),
            timestamp: self.timestamp,
            label: self.label,
        }
    }
}

/// Where a delivery report goes: a waiting sync call, or the async failure queue.
pub struct DeliveryTarget {
    batch: Option<(Arc<SyncBatch>, usize)>,
    /// A labelled async message's token: its failure carries it, and its success settles
    /// it, so that the Ruby side can forget the label (see [`AsyncReports::settle`]).
    label: Option<u64>,
}

pub struct DeliveryContext {
    async_reports: Arc<AsyncReports>,
}

impl ClientContext for DeliveryContext {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        librdkafka_log::push(level, fac, log_message);
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = Box<DeliveryTarget>;

    // Runs on the ThreadedProducer's poll thread: plain Rust only.
    fn delivery(&self, result: &DeliveryResult<'_>, target: Self::DeliveryOpaque) {
        if let Ok(message) = result {
            self.delivered(message, &target);
            // Async successes need no report: skip building one (a String per message).
            if target.batch.is_none() {
                return;
            }
        }
        let report: Report = match result {
            Ok(message) => Ok(Delivered {
                topic: message.topic().to_string(),
                partition: message.partition(),
                offset: message.offset(),
            }),
            Err((error, message)) => Err(DeliveryFailure {
                topic: message.topic().to_string(),
                partition: message.partition(),
                code: ErrorCode::of_error_or_unknown(error),
                message: error.to_string(),
                job: JobLabel::read(message.payload()),
                label: target.label,
            }),
        };
        match (&target.batch, report) {
            (Some((batch, index)), report) => {
                if let (true, Err(failure)) = (batch.async_dispatch(), &report) {
                    self.async_reports.push(failure.clone());
                }
                batch.report(*index, report)
            }
            (None, Err(failure)) => self.async_reports.push(failure),
            (None, Ok(_)) => {}
        }
    }
}

impl DeliveryContext {
    /// An async message was delivered: acknowledged while someone listens to
    /// `message.acknowledged` (its label goes with it), else its label is settled.
    fn delivered(&self, message: &BorrowedMessage<'_>, target: &DeliveryTarget) {
        let async_dispatch = target
            .batch
            .as_ref()
            .is_none_or(|(batch, _)| batch.async_dispatch());
        if !async_dispatch {
            return; // a sync call's reports go to its caller, which acknowledges them
        }
        if self.async_reports.acknowledging() {
            self.async_reports.acknowledge(Acknowledged {
                topic: message.topic().to_string(),
                partition: message.partition(),
                offset: message.offset(),
                label: target.label,
            });
        } else if let Some(label) = target.label {
            self.async_reports.settle(label);
        }
    }
}

/// Milliseconds of one flush step of [`Producer::wait_sync`].
const SYNC_FLUSH_STEP_MS: i32 = 1;

/// How long [`Producer::purge_undelivered`] waits for the purged messages' reports.
const PURGE_REPORTS_WAIT: Duration = Duration::from_secs(2);

/// How long a topic's partition count is trusted for `partition_key` routing.
const PARTITION_COUNT_TTL: Duration = Duration::from_secs(30);

/// One librdkafka producer and its delivery tracking (see the module docs).
pub struct Producer {
    /// Sends a message that finds the producer idle at once (idle_send.rs). Declared before
    /// `inner` so that its thread is joined before the client is destroyed.
    idle_send: Option<IdleSend>,
    inner: ThreadedProducer<DeliveryContext>,
    async_reports: Arc<AsyncReports>,
    partition_counts: Mutex<HashMap<String, (i32, Instant)>>,
    /// `partitioner` of the producer's settings, for `partition_key` (as rdkafka-ruby does).
    partitioner: Partitioner,
}

impl Producer {
    pub fn new(settings: &KafkaSettings) -> CoreResult<Self> {
        let async_reports = Arc::new(AsyncReports::default());
        let context = DeliveryContext {
            async_reports: Arc::clone(&async_reports),
        };
        let config = producer_config(settings);
        // librdkafka rejects an unknown name when the client is created, below.
        let partitioner = config
            .get("partitioner")
            .and_then(Partitioner::parse)
            .unwrap_or(Partitioner::DEFAULT);
        let inner: ThreadedProducer<DeliveryContext> = config
            .create_with_context(context)
            .map_err(CoreError::ClientCreation)?;
        // Without the thread (it could not be spawned) messages simply linger.
        let idle_send = idle_send::wanted(settings)
            // SAFETY: `inner` outlives it (field order, see `Producer`).
            .then(|| unsafe { IdleSend::start(inner.client().native_ptr()) }.ok())
            .flatten();
        Ok(Self {
            idle_send,
            inner,
            async_reports,
            partition_counts: Mutex::new(HashMap::new()),
            partitioner,
        })
    }

    pub fn async_reports(&self) -> &Arc<AsyncReports> {
        &self.async_reports
    }

    /// Messages that need a metadata look-up (partition_key) before they can be sent.
    pub fn needs_metadata(messages: &[OutgoingMessage]) -> bool {
        messages
            .iter()
            .any(|m| m.partition.is_none() && m.partition_key.is_some())
    }

    /// Resolves `partition_key` to a partition (may block on a metadata request).
    pub fn resolve_partitions(&self, messages: &mut [OutgoingMessage]) -> CoreResult<()> {
        for message in messages.iter_mut() {
            if message.partition.is_some() {
                continue;
            }
            if let Some(partition_key) = &message.partition_key {
                let count = self.partition_count(&message.topic)?;
                message.partition = Some(
                    self.partitioner
                        .partition_for_partition_key(partition_key, count),
                );
            }
        }
        Ok(())
    }

    /// The topic's partitions, from librdkafka's metadata (a request of at most 10 s), cached
    /// for [`PARTITION_COUNT_TTL`].
    pub fn partition_count(&self, topic: &str) -> CoreResult<i32> {
        if let Some((count, at)) = lock(&self.partition_counts).get(topic) {
            if at.elapsed() < PARTITION_COUNT_TTL {
                return Ok(*count);
            }
        }
        let metadata_error = |reason: String| CoreError::Metadata {
            topic: topic.into(),
            reason,
        };
        let metadata = self
            .inner
            .client()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map_err(|e| metadata_error(e.to_string()))?;
        let found = metadata.topics().iter().find(|t| t.name() == topic);
        let count = match found {
            Some(t) if t.error().is_none() && !t.partitions().is_empty() => {
                t.partitions().len() as i32
            }
            Some(t) => return Err(metadata_error(format!("{:?}", t.error()))),
            None => return Err(metadata_error("topic not found".into())),
        };
        lock(&self.partition_counts).insert(topic.to_string(), (count, Instant::now()));
        Ok(count)
    }

    /// Enqueues one message without blocking. `Ok(false)`: librdkafka's queue is full, try
    /// again after waiting a little (see [`Producer::send_blocking`]).
    pub fn try_send(
        &self,
        message: MessageRef<'_>,
        target: Option<(Arc<SyncBatch>, usize)>,
    ) -> CoreResult<bool> {
        let mut record: BaseRecord<'_, [u8], [u8], Box<DeliveryTarget>> =
            BaseRecord::with_opaque_to(
                message.topic,
                Box::new(DeliveryTarget {
                    batch: target,
                    label: message.label,
                }),
            );
        if let Some(payload) = message.payload {
            record = record.payload(payload);
        }
        if let Some(key) = message.key {
            record = record.key(key);
        }
        if let Some(partition) = message.partition {
            record = record.partition(partition);
        }
        if let Some(timestamp) = message.timestamp {
            record = record.timestamp(timestamp);
        }
        if !message.headers.is_empty() {
            let headers = message
                .headers
                .iter()
                .fold(OwnedHeaders::new(), |h, (k, v)| {
                    h.insert(Header {
                        key: k,
                        value: Some(v.as_slice()),
                    })
                });
            record = record.headers(headers);
        }
        match self.inner.send(record) {
            Ok(()) => Ok(true),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => Ok(false),
            Err((source, _)) => Err(CoreError::Enqueue {
                topic: message.topic.to_string(),
                source,
            }),
        }
    }

    /// After an async call queued its messages: if they are all that is queued or in flight,
    /// they go out at once instead of lingering (idle_send.rs). Once per call, not per
    /// message: a bulk call's messages share requests as before.
    pub fn sent_async(&self) {
        if let Some(idle_send) = &self.idle_send {
            idle_send.queued(self.inner.in_flight_count());
        }
    }

    /// Enqueues, waiting while librdkafka's queue is full (delivery reports drain it).
    pub fn send_blocking(
        &self,
        message: &OutgoingMessage,
        target: Option<(Arc<SyncBatch>, usize)>,
        interrupt: &Interrupt,
    ) -> CoreResult<()> {
        self.send_blocking_until(message, target, interrupt, None)
    }

    /// Like [`Producer::send_blocking`], but a queue still full at `deadline` is an
    /// `Enqueue` error (`QueueFull`) instead of a longer wait.
    pub fn send_blocking_until(
        &self,
        message: &OutgoingMessage,
        target: Option<(Arc<SyncBatch>, usize)>,
        interrupt: &Interrupt,
        deadline: Option<Instant>,
    ) -> CoreResult<()> {
        loop {
            if self.try_send(message.as_ref(), target.clone())? {
                return Ok(());
            }
            if interrupt.is_set() {
                return Err(CoreError::Interrupted);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(CoreError::Enqueue {
                    topic: message.topic.clone(),
                    source: KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull),
                });
            }
            // The ThreadedProducer's thread serves delivery reports; give it a moment.
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Waits for a sync batch's reports (`None` when `interrupt` fires), keeping librdkafka
    /// in flush mode meanwhile: it ignores `linger.ms` while a flush runs, and a sync dispatch
    /// waits for its acknowledgement anyway, so lingering would only add `linger.ms` to every
    /// call. Each flush returns when nothing is in flight or after [`SYNC_FLUSH_STEP_MS`], so the
    /// interrupt flag is seen within that.
    ///
    /// At `deadline` (WaterDrop's `max_wait_timeout`) the wait ends: messages not reported by
    /// then get a `WaitTimeout` failure (they may still be delivered later, as in WaterDrop).
    pub fn wait_sync(
        &self,
        batch: &SyncBatch,
        interrupt: &Interrupt,
        deadline: Option<Instant>,
    ) -> Option<Vec<Report>> {
        loop {
            if let Some(reports) = batch.take_if_complete() {
                return Some(reports);
            }
            if interrupt.is_set() {
                return None;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Some(batch.take_timed_out());
            }
            // SAFETY: the client handle is alive for as long as `self.inner`.
            unsafe {
                rdkafka::bindings::rd_kafka_flush(
                    self.inner.client().native_ptr(),
                    SYNC_FLUSH_STEP_MS,
                )
            };
        }
    }

    /// Gives up on every message not delivered yet (queued or in flight): each is reported as
    /// failed (`PurgeQueue` / `PurgeInflight`), so a producer that closes with messages it could
    /// not deliver says which, instead of dropping them with its handle.
    pub fn purge_undelivered(&self) {
        use rdkafka::producer::PurgeConfig;
        self.inner.purge(PurgeConfig::default().queue().inflight());
        // The purged messages' reports are served by the flush (or the poll thread).
        let _ = self.flush(PURGE_REPORTS_WAIT);
    }

    /// Waits until everything queued so far is delivered or failed.
    pub fn flush(&self, timeout: Duration) -> CoreResult<()> {
        // librdkafka's own flush, not rdkafka's wrapper: the wrapper polls in 100 ms steps
        // while the ThreadedProducer's thread takes the reports, so every flush slept 100 ms.
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: the client handle is alive for as long as `self.inner`.
        let code =
            unsafe { rdkafka::bindings::rd_kafka_flush(self.inner.client().native_ptr(), millis) };
        if code == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Ok(())
        } else {
            Err(CoreError::Flush(format!("{code:?}")))
        }
    }
}
