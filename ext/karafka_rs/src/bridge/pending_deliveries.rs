//! `Karafka::Native::PendingDeliveries`: the delivery reports of one async dispatch, for
//! WaterDrop's delivery handles (`produce_async(...).wait`). Reports are kept only here, so a
//! dispatch nobody waits for costs the reports of its own messages and nothing more; its
//! failures are reported like every async failure either way (`SyncBatch::for_async`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use magnus::{method, prelude::*, Error, RArray, RModule, Ruby, Value};

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

    /// Waits at most `timeout_ms` (GVL released) for every message's report: one
    /// `Karafka::Native::Delivery` per message, or nil when some are still missing.
    fn wait(ruby: &Ruby, rb_self: &Self, timeout_ms: u64) -> Result<Value, Error> {
        if let Some(rows) = rb_self.rows(ruby)? {
            return Ok(rows.as_value());
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
            .rows(ruby)?
            .map_or_else(|| ruby.qnil().as_value(), |rows| rows.as_value()))
    }

    fn rows(&self, ruby: &Ruby) -> Result<Option<RArray>, Error> {
        let reports = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let Some(reports) = reports.as_ref() else {
            return Ok(None);
        };
        let out = ruby.ary_new_capa(reports.len());
        for report in reports {
            out.push(report_row(ruby, report.clone())?)?;
        }
        Ok(Some(out))
    }
}

pub fn define(ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let class = native.define_class("PendingDeliveries", ruby.class_object())?;
    class.define_method("_wait", method!(PendingDeliveries::wait, 1))?;
    Ok(())
}
