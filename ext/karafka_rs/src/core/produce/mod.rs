//! Producing: [`producer`] sends messages (for `Karafka.producer`, dead letters and scheduled
//! jobs), [`delivery`] tracks their delivery reports, [`partitioner`] picks a partition from a
//! partition key, [`idle_send`] sends a message that finds the producer idle at once.

pub mod delivery;
pub mod idle_send;
pub mod partitioner;
pub mod producer;
