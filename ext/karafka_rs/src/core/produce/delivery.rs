//! Delivery reports. librdkafka reports each message's fate on its own thread; these types
//! keep the reports as plain data until a Ruby thread collects them.
//!
//! - [`SyncBatch`]: a `produce_sync` / `produce_many_sync` call waits (GVL released) until
//!   every message of its batch is reported.
//! - [`AsyncReports`]: what async dispatches report: failures, which a Ruby reporter thread
//!   publishes as `error.occurred` so they are never dropped silently, and, while someone
//!   listens to WaterDrop's `message.acknowledged`, deliveries.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::core::error_code::ErrorCode;
use crate::core::wait::{lock, wait_on, Interrupt};

/// Where a message ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

/// Why a message did not get there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub topic: String,
    pub partition: i32,
    /// librdkafka's error code (e.g. `msg_timed_out`), or karafka-rs' own (`wait_timeout`).
    pub code: ErrorCode,
    pub message: String,
    /// `job_class` and `job_id` read from the payload, when it is a serialized Active Job
    /// (boxed: reports are moved around by value, and most carry none).
    pub job: Option<Box<JobLabel>>,
    /// The message's WaterDrop label token, if it had a label (producer.rs, `DeliveryTarget`).
    pub label: Option<u64>,
}

/// Which job a message carried, so an undelivered one can be reported by class and id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobLabel {
    pub class: Option<String>,
    pub id: Option<String>,
}

/// How far into a payload [`JobLabel::read`] looks: `job.serialize` puts `job_class` and
/// `job_id` first, and a failure must not cost a scan of a megabyte of arguments.
const LABEL_SCAN_BYTES: usize = 4096;
/// Longest class name or id kept.
const LABEL_MAX_CHARS: usize = 200;

impl JobLabel {
    /// Reads `"job_class":"..."` and `"job_id":"..."` from a JSON payload (without parsing
    /// it: only failures pay for this, and they may be anything). `None` when neither is there.
    pub fn read(payload: Option<&[u8]>) -> Option<Box<Self>> {
        let payload = payload?;
        let head = &payload[..payload.len().min(LABEL_SCAN_BYTES)];
        let label = Self {
            class: string_field(head, b"\"job_class\":\""),
            id: string_field(head, b"\"job_id\":\""),
        };
        (label.class.is_some() || label.id.is_some()).then(|| Box::new(label))
    }
}

fn string_field(head: &[u8], prefix: &[u8]) -> Option<String> {
    let start = head.windows(prefix.len()).position(|w| w == prefix)? + prefix.len();
    let rest = &head[start..];
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    let value = std::str::from_utf8(&rest[..end]).ok()?;
    Some(value.chars().take(LABEL_MAX_CHARS).collect())
}

pub type Report = Result<Delivered, DeliveryFailure>;

/// The reports of one synchronous dispatch, indexed like the messages it sent; or of an
/// async one whose caller may wait for them later (WaterDrop's delivery handles).
pub struct SyncBatch {
    reports: Mutex<Reports>,
    done: Condvar,
    /// An async dispatch's: nobody may ever wait, so its failures are also reported as every
    /// async failure is (see [`AsyncReports`]).
    async_dispatch: bool,
}

struct Reports {
    by_index: Vec<Option<Report>>,
    /// Messages not reported yet: counted, not scanned for (a batch can hold 100,000, and
    /// scanning on every report made large batches quadratic).
    remaining: usize,
    /// Taken before it was complete: later reports are dropped.
    abandoned: bool,
}

impl Reports {
    fn complete(&self) -> bool {
        self.remaining == 0
    }

    fn take(&mut self) -> Vec<Report> {
        self.by_index
            .iter_mut()
            .map(|r| r.take().expect("every message was reported"))
            .collect()
    }
}

impl SyncBatch {
    pub fn new(size: usize) -> Self {
        let reports = Reports {
            by_index: vec![None; size],
            remaining: size,
            abandoned: false,
        };
        Self {
            reports: Mutex::new(reports),
            done: Condvar::new(),
            async_dispatch: false,
        }
    }

    /// For an async dispatch whose reports may be waited for (see `async_dispatch`).
    pub fn for_async(size: usize) -> Self {
        Self {
            async_dispatch: true,
            ..Self::new(size)
        }
    }

    /// Whether its failures go to [`AsyncReports`] too.
    pub fn async_dispatch(&self) -> bool {
        self.async_dispatch
    }

    /// Called on librdkafka's thread.
    pub fn report(&self, index: usize, report: Report) {
        let mut reports = lock(&self.reports);
        if reports.abandoned {
            return; // the caller stopped waiting (take_timed_out)
        }
        if reports.by_index[index].replace(report).is_none() {
            reports.remaining -= 1;
        }
        if reports.complete() {
            self.done.notify_all();
        }
    }

    /// Blocks until every message is reported, or `interrupt` fires (then `None`).
    pub fn wait(&self, interrupt: &Interrupt) -> Option<Vec<Report>> {
        let mut reports = lock(&self.reports);
        loop {
            if reports.complete() {
                return Some(reports.take());
            }
            if interrupt.is_set() {
                return None;
            }
            reports = wait_on(&self.done, reports, None);
        }
    }

    /// Every report, if all arrived (without waiting).
    pub fn take_if_complete(&self) -> Option<Vec<Report>> {
        let mut reports = lock(&self.reports);
        reports.complete().then(|| reports.take())
    }

    /// Every report so far, the missing ones as `WaitTimeout` failures; the batch takes no
    /// report after this (the sync wait's bound ran out).
    pub fn take_timed_out(&self) -> Vec<Report> {
        let mut reports = lock(&self.reports);
        reports.abandoned = true;
        reports.remaining = 0;
        reports
            .by_index
            .iter_mut()
            .map(|r| {
                r.take().unwrap_or_else(|| {
                    Err(DeliveryFailure {
                        topic: String::new(),
                        partition: -1,
                        code: ErrorCode::local("wait_timeout", true),
                        message: "no delivery report within max_wait_timeout".into(),
                        job: None,
                        label: None,
                    })
                })
            })
            .collect()
    }

    /// Like [`SyncBatch::wait`], but gives up after `timeout` (`None`), for callers that poll
    /// an interrupt flag between waits.
    pub fn wait_timeout(&self, timeout: Duration) -> Option<Vec<Report>> {
        let mut reports = lock(&self.reports);
        if !reports.complete() {
            reports = wait_on(&self.done, reports, Some(timeout));
        }
        reports.complete().then(|| reports.take())
    }

    /// Wakes [`SyncBatch::wait`]; for the unblock function.
    pub fn interrupt(&self, interrupt: &Interrupt) {
        interrupt.fire(&self.reports, &self.done);
    }
}

/// Reports of async dispatches, waiting for the Ruby reporter thread (or, once the reporter
/// was stopped for closing, for [`AsyncReports::drain`]).
#[derive(Default)]
pub struct AsyncReports {
    queue: Mutex<Queue>,
    arrived: Condvar,
    /// Someone listens to `message.acknowledged`: deliveries are reported too (the Ruby
    /// reporter sets it; without listeners a delivery costs nothing here).
    acknowledging: AtomicBool,
}

/// An async message the broker took (WaterDrop's `message.acknowledged`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledged {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Its label token: handed back here instead of being settled.
    pub label: Option<u64>,
}

#[derive(Default)]
struct Queue {
    failures: VecDeque<DeliveryFailure>,
    /// Failures dropped because the queue was full, not yet reported.
    dropped: usize,
    acknowledged: VecDeque<Acknowledged>,
    /// Acknowledgements dropped because the queue was full, not yet reported.
    acknowledged_dropped: usize,
    /// The reporter was stopped: `take` returns at once, failures wait for `drain`.
    reporting_stopped: bool,
    /// Label tokens of labelled async messages that were delivered, or whose failure was
    /// dropped: the Ruby side forgets their labels.
    settled_labels: Vec<u64>,
}

/// What [`AsyncReports::take`] and [`AsyncReports::drain`] hand over.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub failures: Vec<DeliveryFailure>,
    /// Failures dropped (over the bound) since the last take, counted only.
    pub dropped: usize,
    pub settled_labels: Vec<u64>,
    pub acknowledged: Vec<Acknowledged>,
    /// Acknowledgements dropped (over the bound) since the last take, counted only.
    pub acknowledged_dropped: usize,
}

/// At most this many failures are kept; older ones are counted but dropped, so a dead broker
/// cannot grow memory without bound while nobody reads them.
const MAX_KEPT_FAILURES: usize = 10_000;
/// The same bound for acknowledgements, whose listener may be slower than the broker.
const MAX_KEPT_ACKNOWLEDGED: usize = 100_000;

impl AsyncReports {
    pub fn push(&self, failure: DeliveryFailure) {
        let queue = &mut *lock(&self.queue);
        let (failures, settled) = (&mut queue.failures, &mut queue.settled_labels);
        if push_bounded(failures, failure, MAX_KEPT_FAILURES, |f| f.label, settled) {
            queue.dropped += 1;
        }
        self.arrived.notify_all();
    }

    /// A labelled async message was delivered. Collected with the next `take`, without waking
    /// the reporter: one wake-up per delivery would cost more than the label.
    pub fn settle(&self, label: u64) {
        lock(&self.queue).settled_labels.push(label);
    }

    /// Whether deliveries are to be reported ([`AsyncReports::acknowledge`]).
    pub fn acknowledging(&self) -> bool {
        self.acknowledging.load(Ordering::Relaxed)
    }

    pub fn set_acknowledging(&self, on: bool) {
        self.acknowledging.store(on, Ordering::Relaxed);
    }

    /// An async message was delivered while [`AsyncReports::acknowledging`].
    pub fn acknowledge(&self, delivered: Acknowledged) {
        let queue = &mut *lock(&self.queue);
        let (acknowledged, settled) = (&mut queue.acknowledged, &mut queue.settled_labels);
        if push_bounded(
            acknowledged,
            delivered,
            MAX_KEPT_ACKNOWLEDGED,
            |a| a.label,
            settled,
        ) {
            queue.acknowledged_dropped += 1;
        }
        self.arrived.notify_all();
    }

    /// Waits up to `timeout` for failures and takes them all with the count of those dropped
    /// meanwhile and the labels settled (empty on timeout/interrupt). `None` once
    /// [`AsyncReports::stop_reporting`] ran.
    pub fn take(&self, timeout: Duration, interrupt: &Interrupt) -> Option<Taken> {
        let mut queue = lock(&self.queue);
        let empty = queue.failures.is_empty() && queue.acknowledged.is_empty();
        if empty && !interrupt.is_set() && !queue.reporting_stopped {
            queue = wait_on(&self.arrived, queue, Some(timeout));
        }
        if queue.reporting_stopped {
            return None;
        }
        Some(Self::take_all(&mut queue))
    }

    /// Ends the reporter's `take` loop; what fails from now on waits for `drain`.
    pub fn stop_reporting(&self) {
        lock(&self.queue).reporting_stopped = true;
        self.arrived.notify_all();
    }

    /// Every failure not taken yet, and how many were dropped (for the report at close).
    pub fn drain(&self) -> Taken {
        Self::take_all(&mut lock(&self.queue))
    }

    fn take_all(queue: &mut Queue) -> Taken {
        Taken {
            failures: queue.failures.drain(..).collect(),
            dropped: std::mem::take(&mut queue.dropped),
            settled_labels: std::mem::take(&mut queue.settled_labels),
            acknowledged: queue.acknowledged.drain(..).collect(),
            acknowledged_dropped: std::mem::take(&mut queue.acknowledged_dropped),
        }
    }

    pub fn interrupt(&self, interrupt: &Interrupt) {
        interrupt.fire(&self.queue, &self.arrived);
    }
}

/// Appends `item`, first dropping the oldest when `queue` holds `bound` (then true): the
/// dropped one's label is settled, so the Ruby side forgets it.
fn push_bounded<T>(
    queue: &mut VecDeque<T>,
    item: T,
    bound: usize,
    label: fn(&T) -> Option<u64>,
    settled_labels: &mut Vec<u64>,
) -> bool {
    let dropped = queue.len() >= bound;
    if dropped {
        settled_labels.extend(queue.pop_front().and_then(|oldest| label(&oldest)));
    }
    queue.push_back(item);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    fn delivered(offset: i64) -> Report {
        Ok(Delivered {
            topic: "t".into(),
            partition: 0,
            offset,
        })
    }

    #[test]
    fn sync_batch_is_taken_only_once_complete() {
        let batch = SyncBatch::new(2);
        batch.report(1, delivered(11));
        assert!(batch.take_if_complete().is_none());
        batch.report(0, delivered(10));
        assert_eq!(
            batch.take_if_complete(),
            Some(vec![delivered(10), delivered(11)])
        );
    }

    #[test]
    fn a_timed_out_sync_batch_reports_the_missing_and_ignores_late_reports() {
        let batch = SyncBatch::new(2);
        batch.report(0, delivered(10));
        let reports = batch.take_timed_out();
        assert_eq!(reports[0], delivered(10));
        assert_eq!(reports[1].as_ref().unwrap_err().code.name, "wait_timeout");
        batch.report(1, delivered(11)); // late: ignored (no underflow, no panic)
    }

    #[test]
    fn sync_batch_waits_for_every_report() {
        let batch = Arc::new(SyncBatch::new(2));
        let reporter = {
            let batch = Arc::clone(&batch);
            thread::spawn(move || {
                batch.report(1, delivered(11));
                batch.report(0, delivered(10));
            })
        };
        let reports = batch.wait(&Interrupt::new()).unwrap();
        reporter.join().unwrap();
        assert_eq!(reports, vec![delivered(10), delivered(11)]);
    }

    #[test]
    fn sync_batch_wait_returns_none_when_interrupted() {
        let batch = SyncBatch::new(1);
        let interrupt = Interrupt::new();
        batch.interrupt(&interrupt);
        assert!(batch.wait(&interrupt).is_none());
    }

    #[test]
    fn async_reports_are_bounded() {
        let failures = AsyncReports::default();
        for i in 0..(MAX_KEPT_FAILURES + 5) {
            failures.push(DeliveryFailure {
                topic: "t".into(),
                partition: 0,
                code: ErrorCode::local("x", false),
                message: i.to_string(),
                job: None,
                label: Some(i as u64),
            });
        }
        let taken = failures.take(Duration::ZERO, &Interrupt::new()).unwrap();
        assert_eq!(taken.failures.len(), MAX_KEPT_FAILURES);
        assert_eq!(taken.failures[0].message, "5");
        assert_eq!(
            taken.dropped, 5,
            "dropped failures are counted, not forgotten"
        );
        assert_eq!(
            taken.settled_labels,
            vec![0, 1, 2, 3, 4],
            "a dropped failure's label is settled, so Ruby does not keep it forever"
        );
    }

    #[test]
    fn once_reporting_stopped_failures_wait_for_drain() {
        let failures = AsyncReports::default();
        failures.stop_reporting();
        failures.push(DeliveryFailure {
            topic: "t".into(),
            partition: 0,
            code: ErrorCode::local("purge_queue", false),
            message: "purged".into(),
            job: None,
            label: None,
        });
        assert!(failures
            .take(Duration::from_secs(5), &Interrupt::new())
            .is_none());
        assert_eq!(failures.drain().failures.len(), 1);
    }

    #[test]
    fn acknowledgements_wake_the_reporter_and_are_bounded() {
        let reports = Arc::new(AsyncReports::default());
        let acked = |offset: i64| Acknowledged {
            topic: "t".into(),
            partition: 0,
            offset,
            label: Some(offset as u64),
        };
        let waiter = {
            let reports = Arc::clone(&reports);
            thread::spawn(move || reports.take(Duration::from_secs(30), &Interrupt::new()))
        };
        reports.acknowledge(acked(0));
        let taken = waiter.join().unwrap().unwrap();
        assert_eq!(
            taken.acknowledged,
            vec![acked(0)],
            "woken before its timeout"
        );

        for offset in 0..(MAX_KEPT_ACKNOWLEDGED as i64 + 2) {
            reports.acknowledge(acked(offset));
        }
        let taken = reports.take(Duration::ZERO, &Interrupt::new()).unwrap();
        assert_eq!(taken.acknowledged.len(), MAX_KEPT_ACKNOWLEDGED);
        assert_eq!(taken.acknowledged_dropped, 2);
        assert_eq!(
            taken.settled_labels,
            vec![0, 1],
            "a dropped acknowledgement's label is settled"
        );
    }

    #[test]
    fn settled_labels_go_with_the_next_take_without_waking_it() {
        let failures = AsyncReports::default();
        failures.settle(7);
        failures.settle(8);
        let taken = failures.take(Duration::ZERO, &Interrupt::new()).unwrap();
        assert_eq!(taken.settled_labels, vec![7, 8]);
        assert!(taken.failures.is_empty());
        let again = failures.take(Duration::ZERO, &Interrupt::new()).unwrap();
        assert!(
            again.settled_labels.is_empty(),
            "each settled label is handed over once"
        );
    }

    #[test]
    fn job_label_is_read_from_a_serialized_job() {
        let payload = br#"{"job_class":"WelcomeJob","job_id":"3f1c-9a","provider_job_id":null}"#;
        assert_eq!(
            JobLabel::read(Some(payload)),
            Some(Box::new(JobLabel {
                class: Some("WelcomeJob".into()),
                id: Some("3f1c-9a".into())
            }))
        );
        assert_eq!(JobLabel::read(Some(b"not json")), None);
        assert_eq!(JobLabel::read(None), None);
        let unterminated = br#"{"job_class":"Welc"#;
        assert_eq!(JobLabel::read(Some(unterminated)), None);
    }
}
