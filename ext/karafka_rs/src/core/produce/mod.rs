//! Producing: [`producer`] sends messages (for `Karafka.producer`, dead letters and scheduled
//! jobs), [`delivery`] tracks their delivery reports, [`partitioner`] picks a partition from a
//! partition key.

pub mod delivery;
pub mod partitioner;
pub mod producer;
