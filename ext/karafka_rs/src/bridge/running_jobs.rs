//! What each worker of an engine runs now, and how many jobs it finished, for
//! Karafka::Web's report (`Native::Engine#_running`, `#_processed`): written by the worker
//! around each job, read by the reporter thread every few seconds. Kept here rather than by
//! the executor in Ruby: on Ruby 3.3 the Ruby tracker's slot, Array and clock read cost every
//! job about 3% of a trivial job's time; this costs two uncontended locks.
//!
//! The payload and topic Strings are referenced only while their job runs: the worker's
//! `executor.call` holds them on its stack meanwhile, and every access is under the GVL.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use magnus::value::Opaque;
use magnus::{Error, RArray, RString, Ruby};

use crate::core::wait::lock;

pub struct Running {
    pub payload: RString,
    pub topic: RString,
    pub partition: i32,
    pub offset: i64,
}

struct Current {
    payload: Opaque<RString>,
    topic: Opaque<RString>,
    partition: i32,
    offset: i64,
    /// Epoch seconds, as the report shows a start.
    started_at: f64,
}

#[derive(Default)]
struct Slot {
    current: Option<Current>,
    /// Jobs that finished without an error.
    processed: u64,
}

#[derive(Default)]
pub struct RunningJobs {
    slots: Mutex<Vec<Slot>>,
}

impl RunningJobs {
    /// A slot for a worker entering `_work`; it keeps it for its life.
    pub fn register(&self) -> usize {
        let mut slots = lock(&self.slots);
        slots.push(Slot::default());
        slots.len() - 1
    }

    pub fn started(&self, slot: usize, job: Running) {
        let started_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64());
        lock(&self.slots)[slot].current = Some(Current {
            payload: job.payload.into(),
            topic: job.topic.into(),
            partition: job.partition,
            offset: job.offset,
            started_at,
        });
    }

    pub fn finished(&self, slot: usize, succeeded: bool) {
        let mut slots = lock(&self.slots);
        slots[slot].current = None;
        slots[slot].processed += u64::from(succeeded);
    }

    /// `[[payload, topic, partition, offset, started_at], ...]` of the jobs running now.
    pub fn rows(&self, ruby: &Ruby) -> Result<RArray, Error> {
        let rows = ruby.ary_new();
        for current in lock(&self.slots)
            .iter()
            .filter_map(|slot| slot.current.as_ref())
        {
            rows.push((
                ruby.get_inner(current.payload),
                ruby.get_inner(current.topic),
                current.partition,
                current.offset,
                current.started_at,
            ))?;
        }
        Ok(rows)
    }

    pub fn processed(&self) -> u64 {
        lock(&self.slots).iter().map(|slot| slot.processed).sum()
    }
}
