//! Running Rust without the GVL, so other Ruby threads run while we block.
//!
//! We call `rb_nogvl` with `RB_NOGVL_INTR_FAIL` rather than `rb_thread_call_without_gvl`:
//! the latter checks Ruby interrupts on the way out, and that check may raise - a `longjmp`
//! straight through our Rust frames. With the flag, Ruby never raises here; instead, when an
//! interrupt is pending, the blocking closure may not run at all (we report that as
//! [`Blocked::Interrupted`]) and the caller then runs the interrupt check itself through
//! magnus' protected `thread_check_ints`, which turns a raise into an `Err`.
//!
//! The unblock function runs on another thread while ours is blocked (Thread#kill,
//! Thread#raise, a signal for the main thread, VM shutdown); it must only wake the wait,
//! never call Ruby. Panics in either closure are caught and returned as errors.

use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

use magnus::{Error, Ruby};

use crate::core::wait::Interrupt;

/// The outcome of a blocking region.
pub enum Blocked<R> {
    Done(R),
    /// Ruby had an interrupt pending before the region started; nothing ran.
    Interrupted,
}

struct Region<F, R> {
    work: Option<F>,
    result: Option<Result<R, Box<dyn Any + Send>>>,
}

unsafe extern "C" fn run_region<F: FnOnce() -> R, R>(data: *mut c_void) -> *mut c_void {
    // SAFETY: `data` is the `Region` that `without_gvl` keeps alive for the whole call.
    let region = unsafe { &mut *(data as *mut Region<F, R>) };
    if let Some(work) = region.work.take() {
        region.result = Some(catch_unwind(AssertUnwindSafe(work)));
    }
    null_mut()
}

unsafe extern "C" fn run_unblock<U: Fn()>(data: *mut c_void) {
    // SAFETY: `data` is the `unblock` closure that `without_gvl` keeps alive for the call.
    let unblock = unsafe { &*(data as *const U) };
    let _ = catch_unwind(AssertUnwindSafe(unblock));
}

/// Runs `work` with the GVL released; `unblock` must make `work` return promptly. The `Send`
/// and `Sync` bounds keep Ruby values (which are neither) out of both closures and the result:
/// they run, or are read, while another thread may hold the GVL.
pub fn without_gvl<F, R, U>(work: F, unblock: U) -> Result<Blocked<R>, Error>
where
    F: FnOnce() -> R + Send,
    R: Send,
    U: Fn() + Sync,
{
    let mut region = Region {
        work: Some(work),
        result: None,
    };
    // SAFETY: both pointers outlive the call; the callbacks are the matching monomorphs.
    unsafe {
        rb_sys::rb_nogvl(
            Some(run_region::<F, R>),
            &mut region as *mut Region<F, R> as *mut c_void,
            Some(run_unblock::<U>),
            &unblock as *const U as *mut c_void,
            rb_sys::RB_NOGVL_INTR_FAIL as i32,
        );
    }
    match region.result {
        Some(Ok(value)) => Ok(Blocked::Done(value)),
        Some(Err(panic)) => Err(panic_error(panic)),
        None => Ok(Blocked::Interrupted),
    }
}

/// Runs `attempt` without the GVL until it yields a value, serving Ruby interrupts between
/// attempts (which may raise, as an `Err`). `attempt` returns `None` when `interrupt` cut it
/// short, and must be resumable: a served interrupt (a signal, a `Thread#raise` rescued
/// elsewhere) leads to another attempt. `unblock` fires `interrupt`.
///
/// The flag is cleared inside each region: Ruby only calls `unblock` while a region runs, and
/// with `RB_NOGVL_INTR_FAIL` a region does not start while an interrupt is pending, so no
/// wake-up is lost.
pub fn blocking<F, R, U>(
    ruby: &Ruby,
    interrupt: &Interrupt,
    mut attempt: F,
    unblock: U,
) -> Result<R, Error>
where
    F: FnMut() -> Option<R> + Send,
    R: Send,
    U: Fn() + Sync,
{
    loop {
        let region = || {
            interrupt.clear();
            attempt()
        };
        if let Blocked::Done(Some(value)) = without_gvl(region, &unblock)? {
            return Ok(value);
        }
        ruby.thread_check_ints()?;
    }
}

fn panic_error(panic: Box<dyn Any + Send>) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    let ruby = Ruby::get().expect("called on a Ruby thread holding the GVL");
    Error::new(
        ruby.exception_runtime_error(),
        format!("karafka-rs native panic: {message}"),
    )
}
