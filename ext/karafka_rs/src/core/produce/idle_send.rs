//! A message that finds the producer idle goes out at once; `linger.ms` only batches what
//! arrives while earlier messages are still on their way.
//!
//! librdkafka waits `linger.ms` after a message before it sends its batch, and its broker
//! thread sleeps in whole milliseconds, so the default 0.5 ms cost about 1.2 ms between
//! `perform_later` and the produce request on the wire (bench/wire_split.py): the largest part
//! of a job's latency at low rates. `linger.ms=0` removes it but makes every message a
//! request of its own under load (`perform_later` 0.73 -> 0.50 of its floor, and a worse tail
//! at 2,000 jobs/s). So: when an async call's message is the only one queued or in flight,
//! this thread puts librdkafka in flush mode (`rd_kafka_flush`, in which it treats `linger.ms`
//! as elapsed) until that message is delivered or [`FLUSH_STEP_MS`] passed; while messages are
//! in flight, the next ones linger and share a request as before, and a bulk call's messages
//! (several queued at once) never trigger it.
//!
//! The thread only calls librdkafka (never Ruby), and is joined before the producer's client
//! is destroyed. It exists only while `linger.ms` has its default: a user who sets `linger.ms`
//! (or `queue.buffering.max.ms`) gets exactly that.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rdkafka::bindings as rd;

use crate::core::config::KafkaSettings;
use crate::core::wait::{lock, wait_on};

/// How long one flush keeps librdkafka from lingering: about what a produce request takes on
/// loopback; a message not delivered by then is delivered without the thread's help.
const FLUSH_STEP_MS: i32 = 1;

/// Whether the settings leave `linger.ms` to karafka-rs's default (see the module docs).
pub fn wanted(settings: &KafkaSettings) -> bool {
    !settings
        .iter()
        .any(|(key, _)| key == "linger.ms" || key == "queue.buffering.max.ms")
}

#[derive(Default)]
struct Signal {
    /// (a message found the producer idle, the producer closes)
    state: Mutex<(bool, bool)>,
    wake: Condvar,
}

/// The thread that sends idle messages at once (see the module docs).
pub struct IdleSend {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

/// The producer's librdkafka handle, for the thread (thread-safe; it outlives the thread:
/// [`IdleSend`] is dropped, and its thread joined, before the client).
struct Client(*mut rd::rd_kafka_t);

// SAFETY: librdkafka handles may be used from any thread; see `Client` for the lifetime.
unsafe impl Send for Client {}

impl IdleSend {
    /// Starts the thread.
    ///
    /// # Safety
    /// `client` must stay alive until the returned value is dropped.
    pub unsafe fn start(client: *mut rd::rd_kafka_t) -> std::io::Result<Self> {
        let signal = Arc::new(Signal::default());
        let theirs = Arc::clone(&signal);
        let client = Client(client);
        let thread = std::thread::Builder::new()
            .name("karafka.idle_send".into())
            .spawn(move || run(&theirs, &client))?;
        Ok(Self {
            signal,
            thread: Some(thread),
        })
    }

    /// After an async call queued its messages: `queued` is librdkafka's count of messages
    /// queued, in flight or awaiting their report, the call's own included.
    pub fn queued(&self, queued: i32) {
        if queued > 1 {
            return; // several on their way: they linger and share requests
        }
        let mut state = lock(&self.signal.state);
        if !state.0 {
            state.0 = true;
            self.signal.wake.notify_one();
        }
    }
}

fn run(signal: &Signal, client: &Client) {
    loop {
        {
            let mut state = lock(&signal.state);
            while !state.0 && !state.1 {
                state = wait_on(&signal.wake, state, None);
            }
            if state.1 {
                return;
            }
            state.0 = false;
        }
        // SAFETY: the client is alive while this thread runs (see `Client`).
        unsafe { rd::rd_kafka_flush(client.0, FLUSH_STEP_MS) };
    }
}

impl Drop for IdleSend {
    fn drop(&mut self) {
        lock(&self.signal.state).1 = true;
        self.signal.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_default_linger_gets_idle_sends() {
        let set = |key: &str| vec![(key.to_string(), "5".to_string())];
        assert!(wanted(&vec![]));
        assert!(wanted(&set("acks")));
        assert!(!wanted(&set("linger.ms")));
        assert!(!wanted(&set("queue.buffering.max.ms")));
    }
}
