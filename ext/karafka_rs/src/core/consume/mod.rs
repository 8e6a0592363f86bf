//! Consuming: a fetched message's way to a worker and its offset's way back to the broker.
//!
//! - [`engine`]: the consumer loop and the workers' calls; `engine/intake.rs` takes messages
//!   from librdkafka into the scheduler, `engine/dead_letter.rs` dispatches jobs that keep
//!   failing.
//! - [`next_job`]: which job runs next, and which offsets may be committed (the scheduler);
//!   [`lanes`]: one partition's lanes (virtual partitions) and its commit point.
//! - [`commits`]: offsets to the broker; [`rebalance`]: librdkafka's rebalance and commit
//!   callbacks; [`ownership`]: whether we may still trust we own our partitions.
//! - [`shared`]: the state all of them share; [`backoff`], [`refusal_reports`]: retry pauses
//!   and throttled error reports; [`latency_trace`]: per-job hand-off stamps for
//!   `bench/latency.rb` (off unless `KARAFKA_RS_LATENCY_TRACE` is set).

pub mod backoff;
pub mod commits;
pub mod engine;
pub mod lanes;
pub mod latency_trace;
pub mod next_job;
pub mod ownership;
pub mod rebalance;
pub mod refusal_reports;
pub mod shared;
