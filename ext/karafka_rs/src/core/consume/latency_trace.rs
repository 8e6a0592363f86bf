//! Opt-in per-job stamps for `bench/latency.rb`: with `KARAFKA_RS_LATENCY_TRACE=<path>` in a
//! server's environment, the engine notes the wall clock (epoch seconds, the clock of Ruby's
//! `Time.now.to_f`) at three points of each job's way and writes them to `<path>` when it
//! closes, one line per job: `topic partition offset notified fetched woken claimed`.
//!
//! - notified: the last time before `fetched` that librdkafka told the loop a queue had
//!   messages (its queue callback, on librdkafka's thread);
//! - fetched: the consumer loop took the message from librdkafka's queue;
//! - woken: the worker that ran it returned from its wait for work, still without the GVL
//!   (equal to `claimed` when the worker went straight on from its previous job);
//! - claimed: the worker, holding the GVL again, took the job.
//!
//! Unset (always, outside the benchmark), each call is one load of an initialised `OnceLock`.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::core::job::TopicPartition;
use crate::core::wait::lock;

type Key = (String, i32, i64);

struct Trace {
    path: String,
    /// When a queue callback last fired (f64 bits).
    notified: AtomicU64,
    fetched: Mutex<HashMap<Key, (f64, f64)>>,
    claimed: Mutex<Vec<(Key, f64, f64)>>,
}

static TRACE: OnceLock<Option<Trace>> = OnceLock::new();

thread_local! {
    static WOKEN: Cell<Option<f64>> = const { Cell::new(None) };
}

fn trace() -> Option<&'static Trace> {
    TRACE
        .get_or_init(|| {
            std::env::var("KARAFKA_RS_LATENCY_TRACE")
                .ok()
                .filter(|path| !path.is_empty())
                .map(|path| Trace {
                    path,
                    notified: AtomicU64::new(0),
                    fetched: Mutex::default(),
                    claimed: Mutex::default(),
                })
        })
        .as_ref()
}

/// Reads `KARAFKA_RS_LATENCY_TRACE` once, on the thread creating the engine (a Ruby thread
/// holding the GVL, so never while Ruby changes ENV), before librdkafka's threads look.
pub fn init() {
    trace();
}

fn clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn key(tp: &TopicPartition, offset: i64) -> Key {
    (tp.topic.to_string(), tp.partition, offset)
}

/// librdkafka's callback: a queue got messages.
pub fn notified() {
    if let Some(trace) = trace() {
        trace.notified.store(clock().to_bits(), Ordering::Relaxed);
    }
}

/// The consumer loop took this message from librdkafka.
pub fn fetched(tp: &TopicPartition, offset: i64) {
    if let Some(trace) = trace() {
        let notified = f64::from_bits(trace.notified.load(Ordering::Relaxed));
        lock(&trace.fetched).insert(key(tp, offset), (notified, clock()));
    }
}

/// This worker thread's wait for work returned.
pub fn woken() {
    if trace().is_some() {
        WOKEN.with(|woken| woken.set(Some(clock())));
    }
}

/// This worker thread claimed the job.
pub fn claimed(tp: &TopicPartition, offset: i64) {
    if let Some(trace) = trace() {
        let now = clock();
        let woken = WOKEN.with(|woken| woken.take()).unwrap_or(now);
        lock(&trace.claimed).push((key(tp, offset), woken, now));
    }
}

/// Writes what was noted (at the engine's close). A failure is printed, never raised: the
/// trace is for the benchmark only.
pub fn write() {
    let Some(trace) = trace() else {
        return;
    };
    let out = lines(&lock(&trace.fetched), &lock(&trace.claimed));
    let written = std::fs::File::create(&trace.path).and_then(|mut f| f.write_all(out.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "karafka-rs: could not write KARAFKA_RS_LATENCY_TRACE {}: {e}",
            trace.path
        );
    }
}

/// One line per claimed job: `topic partition offset notified fetched woken claimed` (`NaN`
/// for a job whose fetch was not noted).
fn lines(fetched: &HashMap<Key, (f64, f64)>, claimed: &[(Key, f64, f64)]) -> String {
    let mut out = String::new();
    for (key, woken, claimed) in claimed {
        let (topic, partition, offset) = key;
        let (notified, fetched) = fetched.get(key).copied().unwrap_or((f64::NAN, f64::NAN));
        out.push_str(&format!(
            "{topic} {partition} {offset} {notified:.6} {fetched:.6} {woken:.6} {claimed:.6}\n"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_per_claimed_job_with_its_fetch() {
        let key = |offset| ("jobs".to_string(), 3, offset);
        let fetched = HashMap::from([(key(7), (10.25, 10.5))]);
        let claimed = vec![(key(7), 11.25, 11.5), (key(8), 12.0, 12.0)];
        assert_eq!(
            lines(&fetched, &claimed),
            "jobs 3 7 10.250000 10.500000 11.250000 11.500000\n\
             jobs 3 8 NaN NaN 12.000000 12.000000\n"
        );
    }
}
