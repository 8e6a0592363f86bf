//! Ruby exceptions raised by the native code. The classes are declared in Ruby
//! (`lib/karafka/errors.rb`, loaded before the extension) and looked up once each, on first
//! use (a `Lazy` static, kept from the garbage collector), not by name on every raise.

use magnus::value::Lazy;
use magnus::{prelude::*, Error, ExceptionClass, RModule, Ruby};

use crate::core::error::CoreError;

/// `Karafka::Errors::<name>`, or RuntimeError should Ruby not define it.
fn lookup(ruby: &Ruby, name: &str) -> ExceptionClass {
    let lookup = || -> Result<ExceptionClass, Error> {
        let karafka: RModule = ruby.class_object().const_get("Karafka")?;
        let errors: RModule = karafka.const_get("Errors")?;
        errors.const_get(name)
    };
    lookup().unwrap_or_else(|_| ruby.exception_runtime_error())
}

static INVALID_KAFKA_CONFIG: Lazy<ExceptionClass> =
    Lazy::new(|ruby| lookup(ruby, "InvalidKafkaConfigError"));
static SUBSCRIPTION: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "SubscriptionError"));
static PRODUCE: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "ProduceError"));
static ADMIN: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "AdminError"));
static CLOSED: Lazy<ExceptionClass> = Lazy::new(|ruby| lookup(ruby, "ClosedError"));

/// Maps a core error to `Karafka::Errors::<Class>`.
pub fn to_ruby(ruby: &Ruby, error: CoreError) -> Error {
    let class = match &error {
        CoreError::ClientCreation(_) => &INVALID_KAFKA_CONFIG,
        CoreError::Subscription { .. } => &SUBSCRIPTION,
        CoreError::Enqueue { .. } | CoreError::Metadata { .. } | CoreError::Flush(_) => &PRODUCE,
        // A classify mismatch raised AdminError before it had its own variant; kept so.
        CoreError::Admin(_) | CoreError::Classify { .. } => &ADMIN,
        CoreError::Interrupted | CoreError::Closed => &CLOSED,
    };
    Error::new(ruby.get_inner(class), error.to_string())
}
