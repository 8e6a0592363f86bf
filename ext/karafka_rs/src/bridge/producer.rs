//! `Karafka::Native::Producer`: the native half of `Karafka::Producer` (Ruby owns the keyword
//! API, validation and instrumentation; these methods are positional and `_`-prefixed).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use magnus::{function, method, prelude::*, Error, IntoValue, RArray, RModule, Ruby, Value};

use crate::bridge::convert;
use crate::bridge::errors::{code_symbol, to_ruby};
use crate::bridge::lazy::wrapped_class;
use crate::bridge::named::StructClass;
use crate::bridge::nogvl::{blocking, without_gvl, Blocked};
use crate::bridge::pending_deliveries::PendingDeliveries;
use crate::core::error::CoreError;
use crate::core::error_code::ErrorCode;
use crate::core::produce::delivery::{
    Acknowledged, DeliveryFailure, JobLabel, Report, SyncBatch, Taken,
};
use crate::core::produce::producer::{MessageRef, OutgoingMessage, Producer as CoreProducer};
use crate::core::wait::Interrupt;

pub struct Producer {
    // RwLock: produce calls share the producer; `_close` takes it away.
    inner: RwLock<Option<Arc<CoreProducer>>>,
    /// The process that made the handle. A forked child inherits the handle's memory but none
    /// of librdkafka's threads, so there it is never closed nor destroyed: destroying it joins
    /// threads that do not exist (a panic at the child's exit). See ext/README.md, "Fork".
    owner: u32,
}
wrapped_class!(Producer, "Karafka::Native::Producer");

impl Drop for Producer {
    fn drop(&mut self) {
        if std::process::id() != self.owner {
            let inherited = self
                .inner
                .get_mut()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            std::mem::forget(inherited);
        }
    }
}

impl Producer {
    fn new(ruby: &Ruby, settings: RArray) -> Result<Self, Error> {
        let settings = convert::settings(settings)?;
        let producer = CoreProducer::new(&settings).map_err(|e| to_ruby(ruby, e))?;
        Ok(Self {
            inner: RwLock::new(Some(Arc::new(producer))),
            owner: std::process::id(),
        })
    }

    fn producer(&self, ruby: &Ruby) -> Result<Arc<CoreProducer>, Error> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        guard
            .clone()
            .ok_or_else(|| to_ruby(ruby, CoreError::Closed))
    }

    /// Resolves `partition_key`s (a metadata request, GVL released) when any are present.
    fn prepare(
        ruby: &Ruby,
        producer: &CoreProducer,
        list: RArray,
    ) -> Result<Vec<OutgoingMessage>, Error> {
        let mut messages = convert::messages(ruby, list)?;
        if CoreProducer::needs_metadata(&messages) {
            // The metadata request is bounded by its own timeout, so no unblock is needed.
            let interrupt = Interrupt::new();
            blocking(
                ruby,
                &interrupt,
                || Some(producer.resolve_partitions(&mut messages)),
                || {},
            )?
            .map_err(|e| to_ruby(ruby, e))?;
        }
        Ok(messages)
    }

    /// Enqueues without waiting for delivery; failures reach `_take_failures`.
    fn produce_async(ruby: &Ruby, rb_self: &Self, list: RArray) -> Result<usize, Error> {
        let producer = rb_self.producer(ruby)?;
        if convert::any_partition_key(ruby, list)? {
            // A partition_key needs a metadata look-up (GVL released) first: copy everything.
            let messages = Self::prepare(ruby, &producer, list)?;
            for message in &messages {
                Self::send_async(ruby, &producer, message.as_ref())?;
            }
            producer.sent_async();
            return Ok(messages.len());
        }
        // One message at a time, straight from the Ruby strings: no copy before librdkafka's
        // own, and nothing held for the whole batch (bench/RESULTS.md, enqueue).
        let len = list.len();
        for index in 0..len {
            let fields = convert::fields(ruby, list.entry(index as isize)?)?;
            let headers = convert::headers(ruby, fields)?;
            // SAFETY: `message` is used only until `send_async` has copied it (librdkafka copies
            // on send; the slow path makes an owned copy before it releases the GVL), and
            // nothing in between calls Ruby, so the strings it borrows are neither freed, moved
            // nor changed meanwhile.
            let message = unsafe { convert::message_ref(ruby, fields, &headers)? };
            Self::send_async(ruby, &producer, message)?;
        }
        producer.sent_async();
        Ok(len)
    }

    /// Like [`Producer::produce_async`], keeping the messages' reports for delivery handles:
    /// returns a `Karafka::Native::PendingDeliveries`.
    fn produce_async_tracked(
        ruby: &Ruby,
        rb_self: &Self,
        list: RArray,
    ) -> Result<PendingDeliveries, Error> {
        let producer = rb_self.producer(ruby)?;
        let messages = Self::prepare(ruby, &producer, list)?;
        let batch = Arc::new(SyncBatch::for_async(messages.len()));
        for (index, message) in messages.iter().enumerate() {
            let target = Some((Arc::clone(&batch), index));
            Self::send_tracked(ruby, &producer, message, target)?;
        }
        producer.sent_async();
        Ok(PendingDeliveries::new(batch))
    }

    fn send_tracked(
        ruby: &Ruby,
        producer: &CoreProducer,
        message: &OutgoingMessage,
        target: Option<(Arc<SyncBatch>, usize)>,
    ) -> Result<(), Error> {
        if producer
            .try_send(message.as_ref(), target.clone())
            .map_err(|e| to_ruby(ruby, e))?
        {
            return Ok(());
        }
        let interrupt = Interrupt::new();
        blocking(
            ruby,
            &interrupt,
            || match producer.send_blocking(message, target.clone(), &interrupt) {
                Err(CoreError::Interrupted) => None,
                other => Some(other),
            },
            || interrupt.set(),
        )?
        .map_err(|e| to_ruby(ruby, e))
    }

    /// Fast path under the GVL; only a full librdkafka queue needs to block (on a copy).
    fn send_async(
        ruby: &Ruby,
        producer: &CoreProducer,
        message: MessageRef<'_>,
    ) -> Result<(), Error> {
        if producer
            .try_send(message, None)
            .map_err(|e| to_ruby(ruby, e))?
        {
            return Ok(());
        }
        let owned = message.to_owned();
        let interrupt = Interrupt::new();
        blocking(
            ruby,
            &interrupt,
            || match producer.send_blocking(&owned, None, &interrupt) {
                Err(CoreError::Interrupted) => None,
                other => Some(other),
            },
            || interrupt.set(),
        )?
        .map_err(|e| to_ruby(ruby, e))
    }

    /// Produces and waits for every delivery report, at most `max_wait_ms` (WaterDrop's
    /// `max_wait_timeout`: a full queue or a missing report past it is a failure, not a longer
    /// wait). Returns one entry per message:
    /// `[topic, partition, offset, nil, nil]` or `[topic, partition, nil, code, message]`.
    fn produce_sync(
        ruby: &Ruby,
        rb_self: &Self,
        list: RArray,
        max_wait_ms: u64,
    ) -> Result<RArray, Error> {
        let deadline = Instant::now() + Duration::from_millis(max_wait_ms);
        let producer = rb_self.producer(ruby)?;
        let messages = Self::prepare(ruby, &producer, list)?;
        let batch = Arc::new(SyncBatch::new(messages.len()));
        let interrupt = Interrupt::new();
        // Resumable: after a served interrupt, sending continues where it stopped.
        let mut next = 0;
        let reports = blocking(
            ruby,
            &interrupt,
            || {
                while let Some(message) = messages.get(next) {
                    let target = Some((Arc::clone(&batch), next));
                    match producer.send_blocking_until(message, target, &interrupt, Some(deadline))
                    {
                        Ok(()) => {}
                        Err(CoreError::Interrupted) => return None,
                        Err(e) => batch.report(next, Err(enqueue_failure(message, e))),
                    }
                    next += 1;
                }
                producer.wait_sync(&batch, &interrupt, Some(deadline))
            },
            || batch.interrupt(&interrupt),
        )?;
        let out = ruby.ary_new_capa(reports.len());
        for (report, message) in reports.into_iter().zip(&messages) {
            let report = report.map_err(|mut failure| {
                if failure.topic.is_empty() {
                    failure.topic = message.topic.clone();
                    failure.partition = message.partition.unwrap_or(-1);
                }
                failure
            });
            out.push(report_row(ruby, report)?)?;
        }
        Ok(out)
    }

    /// Waits up to `timeout_ms` for async delivery reports: `[failures, dropped, settled,
    /// acknowledged, acknowledged_dropped]` (failures as [`failure_rows`] builds them,
    /// `dropped`: failures lost to the queue bound meanwhile, `settled`: label tokens whose
    /// labels may be forgotten, `acknowledged`: `Karafka::Native::Acknowledgement`s, while
    /// `_acknowledge(true)`), or `nil` once `_stop_reporting` ran.
    fn take_failures(ruby: &Ruby, rb_self: &Self, timeout_ms: u64) -> Result<Value, Error> {
        let producer = rb_self.producer(ruby)?;
        let reports = producer.async_reports();
        let interrupt = Interrupt::new();
        let taken = match without_gvl(
            || reports.take(Duration::from_millis(timeout_ms), &interrupt),
            || reports.interrupt(&interrupt),
        )? {
            Blocked::Done(taken) => taken,
            Blocked::Interrupted => Some(Taken::default()),
        };
        match taken {
            None => Ok(ruby.qnil().as_value()),
            Some(taken) => Ok((
                failure_rows(ruby, taken.failures)?,
                taken.dropped,
                taken.settled_labels,
                acknowledgement_rows(ruby, taken.acknowledged)?,
                taken.acknowledged_dropped,
            )
                .into_value_with(ruby)),
        }
    }

    /// Whether async deliveries are reported to `_take_failures` (someone listens to
    /// `message.acknowledged`).
    fn acknowledge(ruby: &Ruby, rb_self: &Self, on: bool) -> Result<(), Error> {
        rb_self
            .producer(ruby)?
            .async_reports()
            .set_acknowledging(on);
        Ok(())
    }

    /// Ends the reporter thread's `_take_failures` loop, so that `_close` collects what fails
    /// from then on (and reports it in one place).
    fn stop_reporting(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        rb_self.producer(ruby)?.async_reports().stop_reporting();
        Ok(())
    }

    /// WaterDrop's `partition_count(topic)` (GVL released for the metadata request, which is
    /// bounded by its own timeout).
    fn partition_count(ruby: &Ruby, rb_self: &Self, topic: String) -> Result<i32, Error> {
        let producer = rb_self.producer(ruby)?;
        let interrupt = Interrupt::new();
        blocking(
            ruby,
            &interrupt,
            || Some(producer.partition_count(&topic)),
            || {},
        )?
        .map_err(|e| to_ruby(ruby, e))
    }

    /// Waits (GVL released) until queued messages are delivered; false on timeout.
    fn flush(ruby: &Ruby, rb_self: &Self, timeout_ms: u64) -> Result<bool, Error> {
        let producer = rb_self.producer(ruby)?;
        match without_gvl(|| producer.flush(Duration::from_millis(timeout_ms)), || {})? {
            Blocked::Done(result) => Ok(result.is_ok()),
            Blocked::Interrupted => Ok(false),
        }
    }

    /// Flushes for at most `timeout_ms`, gives up on what is still undelivered then, and
    /// releases librdkafka's handle. Returns `[flushed, failures, dropped, acknowledged]`: every
    /// message that failed since `_stop_reporting` (or since the last `_take_failures`),
    /// including those given up on here, so the caller can report them, and the deliveries
    /// acknowledged meanwhile. Already closed: `[true, [], 0, []]`.
    fn close(ruby: &Ruby, rb_self: &Self, timeout_ms: u64) -> Result<Value, Error> {
        let taken = rb_self
            .inner
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(producer) = taken else {
            return Ok((true, ruby.ary_new(), 0usize, ruby.ary_new()).into_value_with(ruby));
        };
        if std::process::id() != rb_self.owner {
            // Inherited through a fork: the parent's to deliver; left alone (see `owner`).
            std::mem::forget(producer);
            return Ok((true, ruby.ary_new(), 0usize, ruby.ary_new()).into_value_with(ruby));
        }
        let reports = Arc::clone(producer.async_reports());
        let flushed = match without_gvl(
            move || {
                let flushed = producer.flush(Duration::from_millis(timeout_ms)).is_ok();
                if !flushed {
                    producer.purge_undelivered();
                }
                // Dropping the handle purges and reports anything left, too.
                drop(producer);
                flushed
            },
            || {},
        )? {
            Blocked::Done(flushed) => flushed,
            Blocked::Interrupted => false,
        };
        let taken = reports.drain();
        Ok((
            flushed,
            failure_rows(ruby, taken.failures)?,
            taken.dropped,
            acknowledgement_rows(ruby, taken.acknowledged)?,
        )
            .into_value_with(ruby))
    }
}

/// `Karafka::Native::DeliveryFailure` (lib/karafka/native/deliveries.rb).
static DELIVERY_FAILURE: StructClass<9> = StructClass::new(
    "Karafka::Native::DeliveryFailure",
    [
        "topic",
        "partition",
        "code",
        "message",
        "retryable",
        "fatal",
        "job_class",
        "job_id",
        "label",
    ],
);
/// `Karafka::Native::Acknowledgement` (lib/karafka/native/deliveries.rb).
static ACKNOWLEDGEMENT: StructClass<4> = StructClass::new(
    "Karafka::Native::Acknowledgement",
    ["topic", "partition", "offset", "label"],
);
/// `Karafka::Native::Delivery` (lib/karafka/native/deliveries.rb).
static DELIVERY: StructClass<7> = StructClass::new(
    "Karafka::Native::Delivery",
    [
        "topic",
        "partition",
        "offset",
        "code",
        "message",
        "retryable",
        "fatal",
    ],
);

/// `[Karafka::Native::DeliveryFailure, ...]`.
fn failure_rows(ruby: &Ruby, failures: Vec<DeliveryFailure>) -> Result<RArray, Error> {
    let out = ruby.ary_new_capa(failures.len());
    for f in failures {
        let job = f.job.map(|job| *job).unwrap_or_default();
        out.push(DELIVERY_FAILURE.build(
            ruby,
            (
                f.topic,
                f.partition,
                code_symbol(ruby, &f.code),
                f.message,
                f.code.retryable,
                f.code.fatal,
                job.class,
                job.id,
                f.label,
            ),
        )?)?;
    }
    Ok(out)
}

/// `[Karafka::Native::Acknowledgement, ...]`.
fn acknowledgement_rows(ruby: &Ruby, acknowledged: Vec<Acknowledged>) -> Result<RArray, Error> {
    let out = ruby.ary_new_capa(acknowledged.len());
    for a in acknowledged {
        out.push(ACKNOWLEDGEMENT.build(ruby, (a.topic, a.partition, a.offset, a.label))?)?;
    }
    Ok(out)
}

fn enqueue_failure(message: &OutgoingMessage, error: CoreError) -> DeliveryFailure {
    DeliveryFailure {
        topic: message.topic.clone(),
        partition: message.partition.unwrap_or(-1),
        code: error
            .code()
            .unwrap_or(ErrorCode::local("enqueue_failed", false)),
        message: error.to_string(),
        job: JobLabel::read(message.payload.as_deref()),
        label: message.label,
    }
}

/// A `Karafka::Native::Delivery`.
pub(crate) fn report_row(ruby: &Ruby, report: Report) -> Result<Value, Error> {
    match report {
        Ok(d) => DELIVERY.build(ruby, (d.topic, d.partition, d.offset, (), (), false, false)),
        Err(f) => DELIVERY.build(
            ruby,
            (
                f.topic,
                f.partition,
                (),
                code_symbol(ruby, &f.code),
                f.message,
                f.code.retryable,
                f.code.fatal,
            ),
        ),
    }
}

pub fn define(ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let class = native.define_class("Producer", ruby.class_object())?;
    class.define_singleton_method("new", function!(Producer::new, 1))?;
    class.define_method("_produce_async", method!(Producer::produce_async, 1))?;
    class.define_method(
        "_produce_async_tracked",
        method!(Producer::produce_async_tracked, 1),
    )?;
    class.define_method("_produce_sync", method!(Producer::produce_sync, 2))?;
    class.define_method("_take_failures", method!(Producer::take_failures, 1))?;
    class.define_method("_acknowledge", method!(Producer::acknowledge, 1))?;
    class.define_method("_stop_reporting", method!(Producer::stop_reporting, 0))?;
    class.define_method("_flush", method!(Producer::flush, 1))?;
    class.define_method("_partition_count", method!(Producer::partition_count, 1))?;
    class.define_method("_close", method!(Producer::close, 1))?;
    Ok(())
}
