//! `Karafka::Native::PendingDeliveries`: the delivery reports of one async dispatch, for
//! WaterDrop's delivery handles (`produce_async(...).wait`). Reports are kept only here, so a
//! dispatch nobody waits for costs the reports of its own messages and nothing more; its
//! failures are reported like every async failure either way (`SyncBatch::for_async`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use magnus::{method, prelude::*, Error, RModule, Ruby, Value};

use crate::bridge::lazy::wrapped_class;
use crate::bridge::nogvl::{without_gvl, Blocked};
use crate::bridge::producer::report_row;
use crate::core::produce::delivery::{Report, SyncBatch};
use crate::core::wait::Interrupt;

pub struct PendingDeliveries {
    batch: Arc<SyncBatch>,
    /// The reports once every one arrived (the batch hands them over only once).
    reports: Mutex<Option<Vec<Report>>>,
}
wrapped_class!(PendingDeliveries, "Karafka::Native::PendingDeliveries");

impl PendingDeliveries {
    pub fn new(batch: Arc<SyncBatch>) -> Self {
        Self {
            batch,
            reports: Mutex::new(None),
        }
    }

    /// Waits at most `timeout_ms` (GVL released) until every message of the dispatch is
    /// reported, then returns message `index`'s `Karafka::Native::Delivery`; nil while some
    /// are still missing. One row per call: each handle asks for its own.
    fn wait(ruby: &Ruby, rb_self: &Self, index: usize, timeout_ms: u64) -> Result<Value, Error> {
        if let Some(row) = rb_self.row(ruby, index)? {
            return Ok(row);
        }
        let batch = Arc::clone(&rb_self.batch);
        let interrupt = Interrupt::new();
        let waited = without_gvl(
            || batch.wait_timeout(Duration::from_millis(timeout_ms)),
            || batch.interrupt(&interrupt),
        )?;
        if let Blocked::Done(Some(reports)) = waited {
            *rb_self.reports.lock().unwrap_or_else(|p| p.into_inner()) = Some(reports);
        }
        Ok(rb_self
            .row(ruby, index)?
            .unwrap_or_else(|| ruby.qnil().as_value()))
    }

    fn row(&self, ruby: &Ruby, index: usize) -> Result<Option<Value>, Error> {
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let Some(report) = reports.as_ref().and_then(|reports| reports.get(index)) else {
            return Ok(None);
        };
        report_row(ruby, report.clone()).map(Some)
    }
}

pub fn define(ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let class = native.define_class("PendingDeliveries", ruby.class_object())?;
    class.define_method("_wait", method!(PendingDeliveries::wait, 2))?;
    Ok(())
}
