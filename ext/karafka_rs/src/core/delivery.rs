//! Delivery reports. librdkafka reports each message's fate on its own thread; these types
//! keep the reports as plain data until a Ruby thread collects them.
//!
//! - [`SyncBatch`]: a `produce_sync` / `produce_many_sync` call waits (GVL released) until
//!   every message of its batch is reported.
//! - [`AsyncFailures`]: failures of async dispatches; a Ruby reporter thread drains them and
//!   publishes `error.occurred`, so they are never dropped silently.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

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
    /// librdkafka's error code name, e.g. `MessageTimedOut`.
    pub code: String,
    pub message: String,
}

pub type Report = Result<Delivered, DeliveryFailure>;

/// The reports of one synchronous dispatch, indexed like the messages it sent.
pub struct SyncBatch {
    reports: Mutex<Reports>,
    done: Condvar,
}

struct Reports {
    by_index: Vec<Option<Report>>,
    /// Messages not reported yet: counted, not scanned for (a batch can hold 100,000, and
    /// scanning on every report made large batches quadratic).
    remaining: usize,
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
        };
        Self {
            reports: Mutex::new(reports),
            done: Condvar::new(),
        }
    }

    /// Called on librdkafka's thread.
    pub fn report(&self, index: usize, report: Report) {
        let mut reports = lock(&self.reports);
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

/// Failures of async dispatches, waiting for the Ruby reporter thread.
#[derive(Default)]
pub struct AsyncFailures {
    queue: Mutex<VecDeque<DeliveryFailure>>,
    arrived: Condvar,
}

/// At most this many failures are kept; older ones are counted but dropped, so a dead broker
/// cannot grow memory without bound while nobody reads them.
const MAX_KEPT_FAILURES: usize = 10_000;

impl AsyncFailures {
    pub fn push(&self, failure: DeliveryFailure) {
        let mut queue = lock(&self.queue);
        if queue.len() >= MAX_KEPT_FAILURES {
            queue.pop_front();
        }
        queue.push_back(failure);
        self.arrived.notify_all();
    }

    /// Waits up to `timeout` for failures and takes them all (empty on timeout/interrupt).
    pub fn take(&self, timeout: Duration, interrupt: &Interrupt) -> Vec<DeliveryFailure> {
        let mut queue = lock(&self.queue);
        if queue.is_empty() && !interrupt.is_set() {
            queue = wait_on(&self.arrived, queue, Some(timeout));
        }
        queue.drain(..).collect()
    }

    pub fn interrupt(&self, interrupt: &Interrupt) {
        interrupt.fire(&self.queue, &self.arrived);
    }
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
    fn async_failures_are_bounded() {
        let failures = AsyncFailures::default();
        for i in 0..(MAX_KEPT_FAILURES + 5) {
            failures.push(DeliveryFailure {
                topic: "t".into(),
                partition: 0,
                code: "X".into(),
                message: i.to_string(),
            });
        }
        let taken = failures.take(Duration::ZERO, &Interrupt::new());
        assert_eq!(taken.len(), MAX_KEPT_FAILURES);
        assert_eq!(taken[0].message, "5");
    }
}
