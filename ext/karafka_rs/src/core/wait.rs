//! A condition-variable wait that an outside thread can cut short.
//!
//! Ruby's unblock function (run on another thread when the waiting Ruby thread is killed,
//! raised into or signalled) calls [`Interrupt::fire`]; the waiter notices the flag the next
//! time it holds the lock, so the wake-up can never be lost between the check and the wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// One waiter's "please return now" flag. Created per blocking call.
#[derive(Default)]
pub struct Interrupt(AtomicBool);

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    /// Re-arms the flag before a new wait (see `bridge::nogvl::blocking`).
    pub fn clear(&self) {
        self.0.store(false, Ordering::Release);
    }

    /// Sets the flag, for waits that poll it (no condition variable to wake).
    pub fn set(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Sets the flag and wakes every waiter of `signal`. Taking the lock first means a waiter
    /// is either before its flag check (and sees the flag) or already waiting (and is woken).
    pub fn fire<T>(&self, lock: &Mutex<T>, signal: &Condvar) {
        self.set();
        drop(lock.lock().unwrap_or_else(|p| p.into_inner()));
        signal.notify_all();
    }
}

/// Waits on `signal` for at most `timeout` (forever when `None`), tolerating poisoning: a
/// panicking worker must not take the whole engine down with it.
pub fn wait_on<'a, T>(
    signal: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Option<Duration>,
) -> MutexGuard<'a, T> {
    match timeout {
        Some(limit) => {
            signal
                .wait_timeout(guard, limit)
                .unwrap_or_else(|p| p.into_inner())
                .0
        }
        None => signal.wait(guard).unwrap_or_else(|p| p.into_inner()),
    }
}

/// Locks a mutex, ignoring poisoning for the same reason as [`wait_on`].
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn a_wake_before_the_wait_is_not_lost() {
        let wake = Wake::default();
        wake.notify();
        let started = std::time::Instant::now();
        wake.wait(Duration::from_secs(10));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn fire_wakes_a_thread_waiting_without_timeout() {
        let state = Arc::new((Mutex::new(()), Condvar::new(), Interrupt::new()));
        let waiter = {
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let (lock_, signal, interrupt) = &*state;
                let mut guard = lock(lock_);
                while !interrupt.is_set() {
                    guard = wait_on(signal, guard, None);
                }
            })
        };
        let (lock_, signal, interrupt) = &*state;
        interrupt.fire(lock_, signal);
        waiter.join().unwrap();
        assert!(interrupt.is_set());
    }
}

/// A wake-up call for one sleeping thread (the consumer loop): `notify` from anywhere -
/// librdkafka's queue callbacks, workers - and the next `wait` returns at once. A notify that
/// comes while nobody waits is kept, so it is never lost.
#[derive(Default)]
pub struct Wake {
    pending: Mutex<bool>,
    signal: Condvar,
}

impl Wake {
    pub fn notify(&self) {
        *lock(&self.pending) = true;
        self.signal.notify_one();
    }

    /// Sleeps until notified or `timeout` passes.
    pub fn wait(&self, timeout: Duration) {
        let mut pending = lock(&self.pending);
        if !*pending {
            pending = wait_on(&self.signal, pending, Some(timeout));
        }
        *pending = false;
    }
}
