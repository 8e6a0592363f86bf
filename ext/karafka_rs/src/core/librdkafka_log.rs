//! librdkafka's own log lines (its `log_cb`, run on librdkafka's threads) kept for Ruby: the
//! producers' and engines' contexts push them here and one Ruby thread takes them and writes
//! them to `Karafka.logger` (lib/karafka/instrumentation/librdkafka_log.rb), as Karafka's
//! rdkafka-ruby does. rdkafka's default would hand them to the `log` crate, which has no
//! logger here: connection errors and `debug` contexts were dropped.
//!
//! The queue is bounded (the oldest lines give way, counted) and only ever `try_lock`ed, a
//! pusher retrying a moment: a forked child inherits the lock as the parent's threads left
//! it, and a lock held by a thread that does not exist in the child must cost lines (counted
//! too), never a hang of librdkafka's threads or of the Ruby thread taking them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::config::RDKafkaLogLevel;

use crate::core::wait::Interrupt;

/// Lines kept until Ruby takes them.
pub const MAX_LINES: usize = 10_000;
/// How often [`take`] looks again while the queue is empty.
const POLL: Duration = Duration::from_millis(50);
/// How many times a pusher tries the lock (yielding between tries) before it gives the line up.
const PUSH_TRIES: usize = 1_000;
/// Lines given up on because the lock stayed taken.
static CONTENDED: AtomicUsize = AtomicUsize::new(0);

/// One line: librdkafka's syslog level (0 emergency .. 7 debug), facility and text.
pub struct LogLine {
    pub level: u8,
    pub facility: String,
    pub message: String,
}

struct Lines {
    lines: VecDeque<LogLine>,
    dropped: usize,
}

static QUEUE: Mutex<Lines> = Mutex::new(Lines {
    lines: VecDeque::new(),
    dropped: 0,
});

/// From a client context's `log`: on librdkafka's threads, plain Rust only.
pub fn push(level: RDKafkaLogLevel, facility: &str, message: &str) {
    let Some(mut queue) = (0..PUSH_TRIES).find_map(|_| {
        QUEUE.try_lock().ok().or_else(|| {
            thread::yield_now();
            None
        })
    }) else {
        CONTENDED.fetch_add(1, Ordering::Relaxed);
        return;
    };
    if queue.lines.len() >= MAX_LINES {
        queue.lines.pop_front();
        queue.dropped += 1;
    }
    queue.lines.push_back(LogLine {
        level: level as u8,
        facility: facility.to_owned(),
        message: message.to_owned(),
    });
}

/// The lines so far and how many gave way since the last take, waiting up to `timeout` for
/// one (checking `interrupt` every [`POLL`]).
pub fn take(timeout: Duration, interrupt: &Interrupt) -> (Vec<LogLine>, usize) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(mut queue) = QUEUE.try_lock() {
            let contended = CONTENDED.swap(0, Ordering::Relaxed);
            if !queue.lines.is_empty() || queue.dropped > 0 || contended > 0 {
                let dropped = std::mem::take(&mut queue.dropped) + contended;
                return (std::mem::take(&mut queue.lines).into(), dropped);
            }
        }
        if interrupt.is_set() || Instant::now() >= deadline {
            return (Vec::new(), 0);
        }
        thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test, as the queue is the process' own: a second test taking lines at the same
    // time would take these; other tests' clients may push lines meanwhile, so it looks at its
    // own facility only.
    #[test]
    fn lines_are_taken_in_order_the_oldest_give_way_and_an_interrupt_ends_the_wait() {
        for index in 0..(MAX_LINES + 3) {
            push(
                RDKafkaLogLevel::Warning,
                "ORDERTEST",
                &format!("line {index}"),
            );
        }
        let (lines, dropped) = take(Duration::ZERO, &Interrupt::new());
        let own: Vec<usize> = lines
            .iter()
            .filter(|line| line.facility == "ORDERTEST" && line.level == 4)
            .map(|line| line.message["line ".len()..].parse().unwrap())
            .collect();
        assert!(dropped >= 3);
        assert_eq!(own.last(), Some(&(MAX_LINES + 2)));
        assert!(own.windows(2).all(|pair| pair[0] < pair[1]));

        let interrupt = Interrupt::new();
        interrupt.set();
        let started = Instant::now();
        let _ = take(Duration::from_secs(30), &interrupt);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
