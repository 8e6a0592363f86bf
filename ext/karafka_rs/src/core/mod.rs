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
pub mod backoff;
pub mod config;
pub mod consumer;
pub mod dead_letter;
pub mod delivery;
pub mod error;
mod intake;
pub mod latency_trace;
pub mod ownership;
pub mod partition;
pub mod partitioner;
pub mod producer;
pub mod rebalance;
pub mod refusal_reports;
mod reset;
pub mod schedule_timer;
pub mod scheduler;
pub mod schedules;
pub mod shared;
pub mod wait;
