//! Ruby exceptions raised by the native code. The classes are declared in Ruby
//! (`lib/karafka/errors.rb`) and looked up here by name when needed.

use magnus::{prelude::*, Error, ExceptionClass, RModule, Ruby};

use crate::core::error::CoreError;

fn class(ruby: &Ruby, name: &str) -> ExceptionClass {
    let lookup = || -> Result<ExceptionClass, Error> {
        let karafka: RModule = ruby.class_object().const_get("Karafka")?;
        let errors: RModule = karafka.const_get("Errors")?;
        errors.const_get(name)
    };
    lookup().unwrap_or_else(|_| ruby.exception_runtime_error())
}

/// Maps a core error to `Karafka::Errors::<Class>`.
pub fn to_ruby(ruby: &Ruby, error: CoreError) -> Error {
    let name = match &error {
        CoreError::ClientCreation(_) => "InvalidKafkaConfigError",
        CoreError::Subscription { .. } => "SubscriptionError",
        CoreError::Enqueue { .. } | CoreError::Metadata { .. } => "ProduceError",
        CoreError::Admin(_) => "AdminError",
        CoreError::Interrupted | CoreError::Closed => "ClosedError",
    };
    Error::new(class(ruby, name), error.to_string())
}
