//! When to wake another worker. Only one Ruby thread runs at a time (the GVL), so for jobs
//! that never block, extra awake workers only trade the GVL back and forth (measured: 6
//! partitions at 0.84 of the Ruby limit with every runnable lane waking a worker, against 0.93
//! for 1 partition, where only one worker was ever awake). Extra workers pay off only while
//! a job blocks (I/O, sleep) and releases the GVL. So a worker that finishes a short job goes
//! on alone, and the consumer loop wakes idle workers when jobs wait but none started for a
//! while: the running ones are blocked.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A job that ran at least this long probably blocked: its worker wakes another for the
/// other runnable lanes (as a blocked job would have let one run meanwhile).
pub const BLOCKING_JOB: Duration = Duration::from_millis(1);

/// Jobs are runnable and workers idle, yet no job started for this long: wake them.
pub const STALLED_AFTER: Duration = Duration::from_millis(1);

/// Idle workers and the last job start, shared by the workers and the consumer loop.
#[derive(Debug)]
pub struct WorkerPool {
    origin: Instant,
    idle: AtomicUsize,
    /// Microseconds since `origin` of the last job start (0: none yet).
    last_start_us: AtomicU64,
}

impl Default for WorkerPool {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            idle: AtomicUsize::new(0),
            last_start_us: AtomicU64::new(0),
        }
    }
}

/// Counts a worker as idle while it lives (while the worker waits for work).
pub struct Idle<'a>(&'a WorkerPool);

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.idle.fetch_sub(1, Ordering::Relaxed);
    }
}

impl WorkerPool {
    pub fn idle(&self) -> Idle<'_> {
        self.idle.fetch_add(1, Ordering::Relaxed);
        Idle(self)
    }

    pub fn started(&self, now: Instant) {
        let us = now.saturating_duration_since(self.origin).as_micros() as u64;
        self.last_start_us.store(us.max(1), Ordering::Relaxed);
    }

    /// How many idle workers to wake, with `runnable` lanes waiting at `now`.
    pub fn to_wake(&self, runnable: usize, now: Instant) -> usize {
        let idle = self.idle.load(Ordering::Relaxed);
        if runnable == 0 || idle == 0 {
            return 0;
        }
        let last = Duration::from_micros(self.last_start_us.load(Ordering::Relaxed));
        let since = now.saturating_duration_since(self.origin + last);
        if since >= STALLED_AFTER {
            runnable.min(idle)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_idle_workers_only_when_no_job_started_lately() {
        let pool = WorkerPool::default();
        let start = Instant::now();
        let _a = pool.idle();
        let _b = pool.idle();
        pool.started(start);

        assert_eq!(pool.to_wake(5, start + Duration::from_micros(200)), 0);
        assert_eq!(pool.to_wake(5, start + STALLED_AFTER * 2), 2);
        assert_eq!(pool.to_wake(1, start + STALLED_AFTER * 2), 1);
        assert_eq!(pool.to_wake(0, start + STALLED_AFTER * 2), 0);
    }

    #[test]
    fn a_worker_stops_counting_as_idle_when_it_wakes() {
        let pool = WorkerPool::default();
        let later = Instant::now() + STALLED_AFTER * 2;
        {
            let _idle = pool.idle();
            assert_eq!(pool.to_wake(3, later), 1);
        }
        assert_eq!(pool.to_wake(3, later), 0);
    }
}
