//! Ruby exceptions raised by the native code. The classes are declared in Ruby
//! (`lib/karafka/errors.rb`, loaded before the extension) and looked up once each, on first
//! use (a [`LazyValue`] static, kept from the garbage collector), not by name on every raise.

use magnus::{prelude::*, Error, Exception, ExceptionClass, KwArgs, RModule, Ruby, Symbol};

use crate::bridge::lazy::LazyValue;
use crate::core::error::CoreError;
use crate::core::error_code::ErrorCode;

/// `Karafka::Errors::<name>`, or RuntimeError should Ruby not define it.
fn lookup(ruby: &Ruby, name: &str) -> ExceptionClass {
    let lookup = || -> Result<ExceptionClass, Error> {
        let karafka: RModule = ruby.class_object().const_get("Karafka")?;
        let errors: RModule = karafka.const_get("Errors")?;
        errors.const_get(name)
    };
    lookup().unwrap_or_else(|_| ruby.exception_runtime_error())
}

static INVALID_KAFKA_CONFIG: LazyValue<ExceptionClass> =
    LazyValue::new(|ruby| lookup(ruby, "InvalidKafkaConfigError"));
static SUBSCRIPTION: LazyValue<ExceptionClass> =
    LazyValue::new(|ruby| lookup(ruby, "SubscriptionError"));
static PRODUCE: LazyValue<ExceptionClass> = LazyValue::new(|ruby| lookup(ruby, "ProduceError"));
static ADMIN: LazyValue<ExceptionClass> = LazyValue::new(|ruby| lookup(ruby, "AdminError"));
static CLOSED: LazyValue<ExceptionClass> = LazyValue::new(|ruby| lookup(ruby, "ClosedError"));

/// Maps a core error to `Karafka::Errors::<Class>`, with librdkafka's code when it has one
/// (`code:`, `retryable:`, `fatal:`, see `Karafka::Errors::BaseError`).
pub fn to_ruby(ruby: &Ruby, error: CoreError) -> Error {
    let class = match &error {
        CoreError::ClientCreation(_) => &INVALID_KAFKA_CONFIG,
        CoreError::Subscription { .. } => &SUBSCRIPTION,
        CoreError::Enqueue { .. } | CoreError::Metadata { .. } | CoreError::Flush(_) => &PRODUCE,
        // A classify mismatch raised AdminError before it had its own variant; kept so.
        CoreError::Admin(_) | CoreError::Classify { .. } => &ADMIN,
        CoreError::Interrupted | CoreError::Closed => &CLOSED,
    };
    let class = class.get(ruby);
    let message = error.to_string();
    let Some(code) = error.code() else {
        return Error::new(class, message);
    };
    let with_code = || -> Result<Exception, Error> {
        let options = ruby.hash_new();
        options.aset(ruby.to_symbol("code"), code_symbol(ruby, &code))?;
        options.aset(ruby.to_symbol("retryable"), code.retryable)?;
        options.aset(ruby.to_symbol("fatal"), code.fatal)?;
        class.new_instance((message.as_str(), KwArgs(options)))
    };
    match with_code() {
        Ok(exception) => exception.into(),
        Err(_) => Error::new(class, message),
    }
}

/// karafka-rdkafka's Symbol for a code (`:msg_timed_out`).
pub fn code_symbol(ruby: &Ruby, code: &ErrorCode) -> Symbol {
    ruby.to_symbol(&code.name)
}
