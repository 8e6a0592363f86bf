//! Ruby glue, one file per native class. Everything here runs on Ruby threads holding the GVL,
//! except the closures handed to [`nogvl::without_gvl`], which must not touch Ruby.

pub mod admin;
pub mod convert;
pub mod engine;
pub mod errors;
pub mod lazy;
pub mod librdkafka_log;
pub mod named;
pub mod nogvl;
pub mod pending_deliveries;
pub mod producer;
pub mod running_jobs;
pub mod topic_names;

use magnus::{Error, Module, Ruby};

pub fn init(ruby: &Ruby) -> Result<(), Error> {
    let karafka = ruby.define_module("Karafka")?;
    let native = karafka.define_module("Native")?;
    producer::define(ruby, &native)?;
    pending_deliveries::define(ruby, &native)?;
    engine::define(ruby, &native)?;
    admin::define(ruby, &native)?;
    librdkafka_log::define(&native)?;
    Ok(())
}
