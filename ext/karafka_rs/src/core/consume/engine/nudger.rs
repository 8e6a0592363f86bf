//! Wakes a waiting worker when the jobs running now leave Ruby unused.
//!
//! A worker that finishes a job takes the next runnable one itself, still holding the GVL,
//! and wakes nobody. Only one thread runs Ruby at a time, so a worker woken while another
//! computes only waits for the GVL, and Ruby then switches between the waiting workers every
//! time slice: measured on Ruby 3.3, a backlog of trivial jobs on 6 partitions ran at about
//! 38k jobs/s with 5 busy workers against 41k with one. More workers help only while the
//! running jobs wait (I/O, sleep, a lock) and leave the GVL unused, or while one computes for
//! long and the other partitions should share the GVL with it (Ruby's time slices).
//!
//! So while jobs are runnable, this thread looks every [`TICK`] at the CPU the worker threads
//! used since its last look (their own CPU clocks: the process clock lags by a kernel tick).
//! Under [`WAITING_CORES`], the running jobs are waiting rather than computing, and one more
//! worker is woken (one per look: the pool grows to what the jobs' waits need); after
//! [`FAIR_WAIT`] without a job starting, one is woken all the same. Over [`BUSY_CORES`] with
//! more than one worker awake and jobs starting, the GVL is the limit, and the next worker to
//! finish a job waits instead of taking another (one per look), until one is left or the
//! jobs wait again.
//!
//! A plain Rust thread: it never calls Ruby.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::core::consume::shared::Shared;
use crate::core::wait::{lock, Wake};

/// How often it looks while jobs wait for a worker.
const TICK: Duration = Duration::from_millis(1);
/// How long it sleeps while no job waits (new jobs wake it sooner: [`Nudger::look_soon`]).
const IDLE_WAIT: Duration = Duration::from_millis(100);
/// Below this many cores the worker threads are taken to be waiting, not computing.
const WAITING_CORES: f64 = 0.5;
/// Over this many, they keep the GVL busy (one core is all they can use).
const BUSY_CORES: f64 = 0.85;
/// The longest runnable jobs wait while one job keeps the GVL busy.
const FAIR_WAIT: Duration = Duration::from_millis(10);

struct State {
    origin: Instant,
    /// When a job last started, in nanoseconds since `origin`.
    last_start: AtomicU64,
    /// The CPU clocks of the worker threads, by registration number.
    workers: Mutex<Vec<(u64, libc::clockid_t)>>,
    registered: AtomicU64,
    /// The next worker to finish a job waits instead of taking another.
    park_one: AtomicBool,
    stopping: AtomicBool,
    wake: Wake,
}

pub(crate) struct Nudger {
    state: Arc<State>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// A worker thread's registration: its CPU clock is read until this is dropped.
pub struct WorkerClock {
    state: Arc<State>,
    number: u64,
}

impl Drop for WorkerClock {
    fn drop(&mut self) {
        lock(&self.state.workers).retain(|(number, _)| *number != self.number);
    }
}

impl Nudger {
    pub(crate) fn start(shared: Arc<Shared>) -> Self {
        let state = Arc::new(State {
            origin: Instant::now(),
            last_start: AtomicU64::new(0),
            workers: Mutex::new(Vec::new()),
            registered: AtomicU64::new(0),
            park_one: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            wake: Wake::default(),
        });
        let thread = {
            let state = Arc::clone(&state);
            std::thread::Builder::new()
                .name("karafka.nudger".into())
                .spawn(move || watch(&state, &shared))
                .ok()
        };
        Self {
            state,
            thread: Mutex::new(thread),
        }
    }

    /// Registers the calling thread as a worker (None if its CPU clock is unavailable: it
    /// then counts as computing, and only [`FAIR_WAIT`] wakes others for it).
    pub(crate) fn worker_clock(&self) -> Option<WorkerClock> {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: pthread_self() is the calling thread, alive; the clock id is written only.
        if unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut clock) } != 0 {
            return None;
        }
        let number = self.state.registered.fetch_add(1, Ordering::Relaxed);
        lock(&self.state.workers).push((number, clock));
        Some(WorkerClock {
            state: Arc::clone(&self.state),
            number,
        })
    }

    /// A worker claimed a job (called with the scheduler's `now`).
    pub(crate) fn job_started(&self, now: Instant) {
        let since = now.saturating_duration_since(self.state.origin).as_nanos() as u64;
        self.state.last_start.store(since, Ordering::Relaxed);
    }

    /// Whether the calling worker, which just finished a job, should wait rather than take
    /// another: the others keep the GVL busy.
    pub(crate) fn take_park(&self) -> bool {
        self.state.park_one.load(Ordering::Relaxed)
            && self.state.park_one.swap(false, Ordering::Relaxed)
    }

    /// Jobs were left for the workers running jobs: look every tick from now on rather than
    /// after an idle wait, in case those do not get to them.
    pub(crate) fn look_soon(&self) {
        self.state.wake.notify();
    }

    /// Stops the thread and waits for it.
    pub(crate) fn join(&self) {
        self.state.stopping.store(true, Ordering::Relaxed);
        self.state.wake.notify();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn watch(state: &State, shared: &Shared) {
    let mut last_look = (Instant::now(), workers_cpu(state));
    while !state.stopping.load(Ordering::Relaxed) {
        let watching = jobs_wait(shared);
        state.wake.wait(if watching { TICK } else { IDLE_WAIT });
        let now = Instant::now();
        let cpu = workers_cpu(state);
        let elapsed = now.saturating_duration_since(last_look.0).as_secs_f64();
        let cores = if elapsed > 0.0 {
            (cpu - last_look.1) / elapsed
        } else {
            0.0
        };
        last_look = (now, cpu);
        // After an idle wait the window is mostly idleness, whatever started just now: the
        // next tick's window tells.
        if !watching {
            continue;
        }
        let scheduler = lock(&shared.scheduler);
        let idle = shared.idle_workers.load(Ordering::Relaxed);
        if scheduler.runnable() == 0 {
            continue;
        }
        let last_start = Duration::from_nanos(state.last_start.load(Ordering::Relaxed));
        let stalled = state.origin.elapsed().saturating_sub(last_start) >= FAIR_WAIT;
        let awake = lock(&state.workers).len().saturating_sub(idle);
        // Not while one job holds everything up: the woken worker is there to share the GVL.
        if cores >= BUSY_CORES && awake > 1 && !stalled {
            state.park_one.store(true, Ordering::Relaxed);
            continue;
        }
        state.park_one.store(false, Ordering::Relaxed);
        if idle > 0 && (cores < WAITING_CORES || stalled) {
            shared.wake_workers(scheduler, 1);
        }
    }
}

/// Jobs are runnable (workers may be waiting for them, or too many may be awake).
fn jobs_wait(shared: &Shared) -> bool {
    lock(&shared.scheduler).runnable() > 0
}

/// Seconds of CPU the registered worker threads have used (a worker registering or leaving
/// between two looks makes one window read high or low: one wake more or less).
fn workers_cpu(state: &State) -> f64 {
    lock(&state.workers)
        .iter()
        .map(|(_, clock)| {
            let mut spec = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: writes the timespec it is given; a clock of a thread gone fails (0).
            if unsafe { libc::clock_gettime(*clock, &mut spec) } != 0 {
                return 0.0;
            }
            spec.tv_sec as f64 + spec.tv_nsec as f64 / 1e9
        })
        .sum()
}
