//! The pure-Rust core of karafka-rs. Nothing in here knows about Ruby: no `magnus`, no
//! `rb_sys`. Everything that blocks takes an [`wait::Interrupt`] so that the bridge can wake it
//! from Ruby's unblock function, and nothing here ever calls back into Ruby: results travel to
//! Ruby by being returned from a call that a Ruby thread made.
//!
//! Threads that exist in the core:
//! - librdkafka's own threads (and the `ThreadedProducer` poll thread): they only touch
//!   Rust state (delivery reports, failure queues), never Ruby.
//! - Ruby-created threads that entered Rust: the consumer loop and the job workers. They run
//!   core code with the GVL released and only re-acquire it in the bridge.

pub mod admin;
pub mod config;
pub mod consume;
pub mod error;
pub mod error_code;
pub mod event;
pub mod job;
pub mod librdkafka_log;
pub mod produce;
pub mod schedules;
pub mod wait;
