//! `Karafka::Native::Engine`: the consumer engine seen from Ruby.
//!
//! `Karafka::Server` starts the Ruby threads that enter here:
//! - one calls `_run_loop` repeatedly: it polls Kafka with the GVL released and returns
//!   `:events` when there is something to instrument (`_take_events`), `:stopped` at the end;
//! - `concurrency` threads call `_work(executor)`: each claims a runnable job while holding the
//!   GVL, calls `executor.call(...)` on its own Ruby thread, reports the outcome and loops;
//!   with nothing runnable it waits with the GVL released (without claiming anything) until
//!   there is, and returns nil when the engine stops.
//!
//! A Ruby exception escaping the executor is returned as an `Err` (re-raised by magnus after
//! our frames are gone), after the job was recorded as failed so its partition is not stuck.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use magnus::rb_sys::AsRawValue;
use magnus::value::Id;
use magnus::{function, method, prelude::*, Error, RArray, RModule, RString, Ruby, Symbol, Value};

use crate::bridge::convert;
use crate::bridge::errors::{code_symbol, to_ruby};
use crate::bridge::lazy::{wrapped_class, LazyValue};
use crate::bridge::named::StructClass;
use crate::bridge::nogvl::{blocking, without_gvl, Blocked};
use crate::bridge::running_jobs::{Running, RunningJobs};
use crate::bridge::topic_names::TopicNames;
use crate::core::consume::backoff::Backoff;
use crate::core::consume::engine::dead_letter::{Dispatch, JobError, Shape};
use crate::core::consume::engine::{Engine as CoreEngine, EngineSettings, LoopExit};
use crate::core::error::CoreError;
use crate::core::event::Event;
use crate::core::job::{Completion, DeadLetterPolicy, Job, Outcome};
use crate::core::wait::Interrupt;

pub struct Engine {
    /// Forgotten, never dropped, in a forked child (see `owner`).
    core: std::mem::ManuallyDrop<Arc<CoreEngine>>,
    /// The process that made the engine: a forked child has none of its threads, so there it
    /// is never destroyed (ext/README.md, "Fork").
    owner: u32,
    /// Dead letters are dispatched one at a time (see core::consume::engine::dead_letter::Dispatch).
    dead_letter_gate: Mutex<()>,
    /// For Karafka::Web's report (running_jobs.rs).
    running: RunningJobs,
}
wrapped_class!(Engine, "Karafka::Native::Engine");

impl Drop for Engine {
    fn drop(&mut self) {
        if std::process::id() == self.owner {
            // SAFETY: dropped once, here, and never used again.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.core) };
        }
    }
}

/// `Karafka::Native::EngineSettings` (lib/karafka/native/engine_settings.rb).
static SETTINGS: StructClass<11> = StructClass::new(
    "Karafka::Native::EngineSettings",
    [
        "kafka",
        "topics",
        "max_messages",
        "max_wait_ms",
        "pause_timeout_ms",
        "pause_max_timeout_ms",
        "exponential_backoff",
        "dead_letters",
        "schedule_topics",
        "virtual_partitions",
        "reset_backoff_ms",
    ],
);
static DEAD_LETTER: StructClass<4> = StructClass::new(
    "Karafka::Native::DeadLetter",
    ["source", "topic", "max_retries", "independent"],
);
static VIRTUAL_LANES: StructClass<2> =
    StructClass::new("Karafka::Native::VirtualLanes", ["topic", "lanes"]);
/// `Karafka::Native::EngineEvent` (lib/karafka/native/engine_event.rb).
static ENGINE_EVENT: StructClass<5> = StructClass::new(
    "Karafka::Native::EngineEvent",
    ["kind", "partitions", "detail", "message", "code"],
);
/// `Karafka::Native::Unclassified` (lib/karafka/native/unclassified.rb).
static UNCLASSIFIED: StructClass<5> = StructClass::new(
    "Karafka::Native::Unclassified",
    ["topic", "partition", "offset", "key", "headers"],
);

impl Engine {
    /// `Native::Engine.new(Karafka::Native::EngineSettings)`.
    fn new(ruby: &Ruby, settings: Value) -> Result<Self, Error> {
        let read = SETTINGS.view(ruby, settings)?;
        let dead_letters = read
            .get::<RArray>("dead_letters")?
            .into_iter()
            .map(|value| {
                let policy = DEAD_LETTER.view(ruby, value)?;
                Ok((
                    policy.get("source")?,
                    DeadLetterPolicy {
                        topic: policy.get("topic")?,
                        max_retries: policy.get("max_retries")?,
                        independent: policy.get("independent")?,
                    },
                ))
            })
            .collect::<Result<_, Error>>()?;
        let virtual_partitions = read
            .get::<RArray>("virtual_partitions")?
            .into_iter()
            .map(|value| {
                let lanes = VIRTUAL_LANES.view(ruby, value)?;
                Ok((lanes.get("topic")?, lanes.get("lanes")?))
            })
            .collect::<Result<_, Error>>()?;
        let kafka =
            convert::settings(read.get("kafka")?).map_err(|e| read.name_member("kafka", e))?;
        let settings = EngineSettings {
            kafka,
            topics: read.get("topics")?,
            max_messages: read.get("max_messages")?,
            max_wait: Duration::from_millis(read.get("max_wait_ms")?),
            backoff: Backoff {
                timeout: Duration::from_millis(read.get("pause_timeout_ms")?),
                max_timeout: Duration::from_millis(read.get("pause_max_timeout_ms")?),
                exponential: read.get("exponential_backoff")?,
            },
            dead_letters,
            schedule_topics: read.get("schedule_topics")?,
            virtual_partitions,
            reset_backoff: Duration::from_millis(read.get("reset_backoff_ms")?),
        };
        let core = CoreEngine::new(settings).map_err(|e| to_ruby(ruby, e))?;
        Ok(Self {
            core: std::mem::ManuallyDrop::new(Arc::new(core)),
            owner: std::process::id(),
            dead_letter_gate: Mutex::new(()),
            running: RunningJobs::default(),
        })
    }

    /// One stretch of the consumer loop: `:stopped`, `:events`, `:classify`, `:tick` or
    /// `:interrupted`.
    fn run_loop(ruby: &Ruby, rb_self: &Self) -> Result<Symbol, Error> {
        let interrupt = Interrupt::new();
        let exit = without_gvl(
            || rb_self.core.run_loop(&interrupt),
            || rb_self.core.interrupt_loop(&interrupt),
        )?;
        let name = match exit {
            Blocked::Done(Ok(LoopExit::Stopped)) => "stopped",
            Blocked::Done(Ok(LoopExit::Events)) => "events",
            Blocked::Done(Ok(LoopExit::Classify)) => "classify",
            Blocked::Done(Ok(LoopExit::Tick)) => "tick",
            Blocked::Done(Err(e)) => return Err(to_ruby(ruby, e)),
            Blocked::Done(Ok(LoopExit::Interrupted)) | Blocked::Interrupted => {
                ruby.thread_check_ints()?;
                "interrupted"
            }
        };
        Ok(ruby.to_symbol(name))
    }

    /// A `Karafka::Native::EngineEvent` per event (lib/karafka/native/engine_event.rb says
    /// what each kind carries).
    fn take_events(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let out = ruby.ary_new();
        let nil = || ruby.qnil().as_value();
        for event in rb_self.core.take_events() {
            let (kind, partitions, detail, message, code) = match event {
                Event::Assigned(tps) => ("assigned", partitions(ruby, &tps)?, nil(), nil(), nil()),
                Event::Revoked(tps) => ("revoked", partitions(ruby, &tps)?, nil(), nil(), nil()),
                Event::Info(message) => (
                    "info",
                    nil(),
                    nil(),
                    ruby.str_new(&message).as_value(),
                    nil(),
                ),
                Event::Reset(message) => (
                    "reset",
                    nil(),
                    nil(),
                    ruby.str_new(&message).as_value(),
                    nil(),
                ),
                Event::Error { kind, message } => (
                    "error",
                    nil(),
                    ruby.str_new(kind).as_value(),
                    ruby.str_new(&message).as_value(),
                    nil(),
                ),
                Event::ClientError {
                    kind,
                    code,
                    message,
                } => (
                    "error",
                    nil(),
                    ruby.str_new(kind).as_value(),
                    ruby.str_new(&message).as_value(),
                    code.map_or_else(nil, |code| code_symbol(ruby, &code).as_value()),
                ),
                Event::Statistics(json) => (
                    "statistics",
                    nil(),
                    ruby.enc_str_new(&json, ruby.utf8_encoding()).as_value(),
                    nil(),
                    nil(),
                ),
            };
            out.push(ENGINE_EVENT.build(
                ruby,
                (ruby.to_symbol(kind), partitions, detail, message, code),
            )?)?;
        }
        Ok(out)
    }

    /// Messages waiting for their virtual partition, as `Karafka::Native::Unclassified`s
    /// (key and header values are binary Strings, or nil).
    fn unclassified(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        let jobs = rb_self.core.unclassified();
        let out = ruby.ary_new_capa(jobs.len());
        for job in jobs {
            let headers = ruby.hash_new();
            for (name, value) in &job.headers {
                headers.aset(name.as_str(), ruby.str_from_slice(value))?;
            }
            out.push(UNCLASSIFIED.build(
                ruby,
                (
                    &*job.tp.topic,
                    job.tp.partition,
                    job.offset,
                    job.key.as_ref().map(|k| ruby.str_from_slice(k)),
                    headers,
                ),
            )?)?;
        }
        Ok(out)
    }

    /// The lanes for `_unclassified`'s messages, in the same order.
    fn classify(ruby: &Ruby, rb_self: &Self, lanes: Vec<usize>) -> Result<(), Error> {
        rb_self.core.classify(&lanes).map_err(|e| to_ruby(ruby, e))
    }

    /// A worker's life: run jobs until the engine stops.
    fn work(ruby: &Ruby, rb_self: &Self, executor: Value) -> Result<(), Error> {
        let core = &rb_self.core;
        let interrupt = Interrupt::new();
        let call = ruby.intern("call");
        let mut topics = TopicNames::default();
        let _clock = core.worker_clock();
        let slot = rb_self.running.register();
        loop {
            // Fast path: a runnable job is taken without giving up the GVL.
            // Jobs are claimed only while holding the GVL: a job claimed by a thread still
            // waiting for the GVL would block its partition meanwhile (measured: 6 partitions
            // at 0.66 of the Ruby limit when workers claimed jobs while waiting).
            let Some(job) = core.try_next_job() else {
                let more = blocking(
                    ruby,
                    &interrupt,
                    || match core.wait_for_work(&interrupt) {
                        Err(CoreError::Interrupted) => None,
                        other => Some(other),
                    },
                    || core.interrupt_workers(&interrupt),
                )?;
                if !more.map_err(|e| to_ruby(ruby, e))? {
                    return Ok(());
                }
                continue;
            };
            let topic = topics.get(ruby, &job.tp.topic);
            let payload = ruby.enc_str_new(&job.payload, ruby.utf8_encoding());
            let (partition, offset) = (job.tp.partition, job.offset);
            let running = Running {
                payload,
                topic,
                partition,
                offset,
            };
            rb_self.running.started(slot, running);
            let result = call_executor(ruby, executor, call, payload, topic, &job);
            rb_self.running.finished(slot, matches!(result, Ok(None)));
            let outcome = match &result {
                Ok(None) => Outcome::Success,
                // Past its deadline with `on_overdue: :dead_letter`: no retries.
                Ok(Some(error)) if error.deadline_exceeded.is_some() => Outcome::FailedNoRetry,
                Ok(Some(_)) => Outcome::Failure,
                // Not the job's failure (Interrupt, SystemExit, a killed thread): run it again
                // later, and let the exception stop this worker.
                Err(_) => Outcome::Abandoned,
            };
            let (topic, partition, offset) = (job.tp.topic.clone(), job.tp.partition, job.offset);
            match core.complete(job, outcome) {
                Completion::Done => {}
                Completion::Retry(retry) => {
                    let _: Value = executor.funcall(
                        "paused",
                        (
                            &*topic,
                            partition,
                            offset,
                            retry.failures,
                            retry.pause.as_millis() as u64,
                        ),
                    )?;
                }
                Completion::DeadLetter {
                    job,
                    topic: target,
                    attempts,
                } => {
                    let error = result.as_ref().ok().cloned().flatten().unwrap_or_default();
                    let gate = &rb_self.dead_letter_gate;
                    dead_letter(ruby, core, gate, executor, job, target, attempts, &error)?;
                }
            }
            result?;
        }
    }

    /// `[[payload, topic, partition, offset, started_at], ...]`: the jobs the workers run now
    /// (Karafka::Web's report).
    fn running(ruby: &Ruby, rb_self: &Self) -> Result<RArray, Error> {
        rb_self.running.rows(ruby)
    }

    /// Jobs the workers finished without an error (Karafka::Web's report).
    fn processed(rb_self: &Self) -> u64 {
        rb_self.running.processed()
    }

    /// `[running, buffered]` jobs (a gauge for the process title and metrics; takes the
    /// scheduler's lock briefly, so callers sample it, never per job).
    fn load(rb_self: &Self) -> (usize, usize) {
        rb_self.core.load()
    }

    fn stop(rb_self: &Self) {
        rb_self.core.stop();
    }

    /// `karafka server` got TSTP: no new job starts until `_stop`.
    fn quiet(rb_self: &Self) {
        rb_self.core.quiet();
    }

    /// Final synchronous commit and leaving the group (GVL released).
    fn close(ruby: &Ruby, rb_self: &Self) -> Result<(), Error> {
        let core = Arc::clone(&rb_self.core);
        match without_gvl(move || core.close(), || {})? {
            Blocked::Done(result) => result.map_err(|e| to_ruby(ruby, e)),
            Blocked::Interrupted => {
                ruby.thread_check_ints()?;
                Self::close(ruby, rb_self)
            }
        }
    }
}

/// Dispatches a job that spent its retries to its dead letter topic (GVL released while
/// waiting for the broker; smaller if it is refused as too large), reports it to the executor,
/// and lets its partition move on. A failed dispatch retries the job after a back-off
/// instead: nothing is lost.
#[allow(clippy::too_many_arguments)]
fn dead_letter(
    ruby: &Ruby,
    core: &CoreEngine,
    gate: &Mutex<()>,
    executor: Value,
    job: Job,
    target: Option<String>,
    attempts: u32,
    error: &JobError,
) -> Result<(), Error> {
    let dispatched = match &target {
        None => Ok(Shape::Full),
        Some(topic) => {
            let interrupt = Interrupt::new();
            let mut dispatch = Dispatch::new(&job, topic, attempts, error);
            let waited = blocking(
                ruby,
                &interrupt,
                || dispatch.run(core, gate, &interrupt),
                || interrupt.set(),
            );
            drop(dispatch);
            match waited {
                Ok(result) => result,
                Err(exception) => {
                    core.complete(job, Outcome::Abandoned);
                    return Err(exception);
                }
            }
        }
    };
    let (source, partition, offset) = (job.tp.topic.clone(), job.tp.partition, job.offset);
    let reduced = dispatched
        .as_ref()
        .ok()
        .and_then(|shape| shape.describe(&job));
    let outcome = if dispatched.is_ok() {
        Outcome::DeadLettered
    } else {
        Outcome::DeadLetterFailed
    };
    core.complete(job, outcome);
    let _: Value = executor.funcall(
        "dead_lettered",
        (
            &*source,
            partition,
            offset,
            target,
            attempts,
            dispatched.err(),
            reduced,
        ),
    )?;
    Ok(())
}

/// `Karafka::ActiveJob::Outcome` (lib/karafka/active_job/outcome.rb).
static OUTCOME: StructClass<4> = StructClass::new(
    "Karafka::ActiveJob::Outcome",
    ["kind", "error_class", "error_message", "deadline_exceeded"],
);
/// `Karafka::ActiveJob::Outcome::SUCCESS`, looked up once: a success is recognised by
/// identity, without reading a member.
static SUCCESS: LazyValue<Value> = LazyValue::new(|ruby| {
    OUTCOME
        .class(ruby)
        .and_then(|class| class.const_get("SUCCESS"))
        // Never identical to what an executor returns: every outcome then reads as a failure.
        .unwrap_or_else(|_| ruby.ary_new().as_value())
});

/// `executor.call(payload, topic, partition, offset, key, headers, attempt, timestamp_ms)`: an
/// `Outcome`, `SUCCESS` or a failure naming the error (with `deadline_exceeded` when it failed
/// past its deadline and must be dead-lettered without retries: `on_overdue: :dead_letter`).
fn call_executor(
    ruby: &Ruby,
    executor: Value,
    call: Id,
    payload: RString,
    topic: RString,
    job: &Job,
) -> Result<Option<JobError>, Error> {
    let key = job
        .key
        .as_ref()
        .map(|k| ruby.enc_str_new(k, ruby.utf8_encoding()));
    let headers = if job.headers.is_empty() {
        None
    } else {
        let hash = ruby.hash_new();
        for (name, value) in &job.headers {
            hash.aset(name.as_str(), ruby.enc_str_new(value, ruby.utf8_encoding()))?;
        }
        Some(hash)
    };
    let result: Value = executor.funcall(
        call,
        (
            payload,
            topic,
            job.tp.partition,
            job.offset,
            key,
            headers,
            job.attempt,
            job.timestamp_ms,
        ),
    )?;
    if result.as_raw() == SUCCESS.get(ruby).as_raw() {
        return Ok(None);
    }
    job_error(ruby, result)
}

/// What a failed `Outcome` names (None: another successful one); anything that is not an
/// `Outcome` is a failure too.
fn job_error(ruby: &Ruby, result: Value) -> Result<Option<JobError>, Error> {
    let Ok(outcome) = OUTCOME.view(ruby, result) else {
        return Ok(Some(JobError {
            class: "UnknownError".into(),
            message: format!("the executor returned {}, not an Outcome", result.class()),
            deadline_exceeded: None,
        }));
    };
    let kind: Symbol = outcome.get("kind")?;
    if kind.name()? == "success" {
        return Ok(None);
    }
    Ok(Some(JobError {
        class: outcome
            .get::<Option<String>>("error_class")?
            .unwrap_or_else(|| "UnknownError".into()),
        message: outcome
            .get::<Option<String>>("error_message")?
            .unwrap_or_else(|| "the job failed".into()),
        deadline_exceeded: outcome.get::<Option<String>>("deadline_exceeded")?,
    }))
}

fn partitions(ruby: &Ruby, tps: &[crate::core::job::TopicPartition]) -> Result<Value, Error> {
    let out = ruby.ary_new_capa(tps.len());
    for tp in tps {
        out.push((&*tp.topic, tp.partition))?;
    }
    Ok(out.as_value())
}

pub fn define(ruby: &Ruby, native: &RModule) -> Result<(), Error> {
    let class = native.define_class("Engine", ruby.class_object())?;
    class.define_singleton_method("new", function!(Engine::new, 1))?;
    class.define_method("_run_loop", method!(Engine::run_loop, 0))?;
    class.define_method("_take_events", method!(Engine::take_events, 0))?;
    class.define_method("_unclassified", method!(Engine::unclassified, 0))?;
    class.define_method("_classify", method!(Engine::classify, 1))?;
    class.define_method("_work", method!(Engine::work, 1))?;
    class.define_method("_stop", method!(Engine::stop, 0))?;
    class.define_method("_quiet", method!(Engine::quiet, 0))?;
    class.define_method("_load", method!(Engine::load, 0))?;
    class.define_method("_running", method!(Engine::running, 0))?;
    class.define_method("_processed", method!(Engine::processed, 0))?;
    class.define_method("_close", method!(Engine::close, 0))?;
    Ok(())
}
