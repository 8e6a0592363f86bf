//! karafka-rs native extension: `Karafka::Native`.
//!
//! `core` is pure Rust (Kafka, scheduling, offsets); `bridge` is the thin Ruby glue. This file
//! only wires the two together. The threading rules are written down in `ext/README.md`.

pub mod bridge;
pub mod core;

#[magnus::init(name = "karafka_rs")]
fn init(ruby: &magnus::Ruby) -> Result<(), magnus::Error> {
    bridge::init(ruby)
}
