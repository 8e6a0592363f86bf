//! Named values across the boundary: Ruby Structs declared in `lib/karafka/native/` (and
//! `Karafka::ActiveJob::Outcome`), read and built here by member name, never as anonymous
//! arrays read by index.
//!
//! A [`StructClass`] names the Ruby constant and the members Rust relies on. On first use
//! (on a Ruby thread, holding the GVL) it looks the class up once and checks that its members
//! are exactly those, in that order; a mismatch is a clear `TypeError` naming both lists, so
//! the Ruby and Rust halves cannot drift apart silently. After that, reading a member is a
//! lookup of its name in the short member list and one `Struct#[]` by position, and building
//! an instance is `Class#new` with the values in member order.

use std::sync::OnceLock;

use magnus::rb_sys::AsRawValue;
use magnus::value::Opaque;
use magnus::{
    prelude::*, ArgList, Error, RArray, RClass, RStruct, Ruby, Symbol, TryConvert, Value,
};

/// A Ruby Struct class, by constant path and member names.
pub struct StructClass<const N: usize> {
    path: &'static str,
    members: [&'static str; N],
    class: OnceLock<Opaque<RClass>>,
}

impl<const N: usize> StructClass<N> {
    pub const fn new(path: &'static str, members: [&'static str; N]) -> Self {
        Self {
            path,
            members,
            class: OnceLock::new(),
        }
    }

    /// The class, looked up and checked once.
    pub fn class(&self, ruby: &Ruby) -> Result<RClass, Error> {
        if let Some(class) = self.class.get() {
            return Ok(ruby.get_inner(*class));
        }
        let class = self.lookup(ruby)?;
        // A constant's class is reachable anyway; marked so a removed constant cannot free it.
        ruby.gc_register_mark_object(class);
        let _ = self.class.set(Opaque::from(class));
        Ok(class)
    }

    fn lookup(&self, ruby: &Ruby) -> Result<RClass, Error> {
        let class: RClass = ruby.class_object().funcall("const_get", (self.path,))?;
        let members: RArray = class.funcall("members", ())?;
        let members: Vec<String> = members
            .into_iter()
            .map(|member| Ok(Symbol::try_convert(member)?.name()?.into_owned()))
            .collect::<Result<_, Error>>()?;
        if members != self.members {
            return Err(Error::new(
                ruby.exception_type_error(),
                format!(
                    "{} has members {members:?}, the native extension reads {:?}",
                    self.path, self.members
                ),
            ));
        }
        Ok(class)
    }

    /// `value` as an instance of the class (or a subclass), else a `TypeError` naming both.
    pub fn view(&self, ruby: &Ruby, value: Value) -> Result<View<'_, N>, Error> {
        let class = self.class(ruby)?;
        let same_class = value.class().as_raw() == class.as_raw();
        match RStruct::from_value(value) {
            Some(instance) if same_class || value.is_kind_of(class) => Ok(View {
                class: self,
                instance,
            }),
            _ => Err(Error::new(
                ruby.exception_type_error(),
                format!("expected a {}, got {}", self.path, value.class()),
            )),
        }
    }

    /// A new instance from its members' values, in member order.
    pub fn build<A: ArgList>(&self, ruby: &Ruby, values: A) -> Result<Value, Error> {
        Ok(self.class(ruby)?.new_instance(values)?.as_value())
    }

    fn position(&self, member: &str) -> usize {
        self.members
            .iter()
            .position(|m| *m == member)
            .unwrap_or_else(|| panic!("{} has no member {member} (native code bug)", self.path))
    }
}

/// One instance of a [`StructClass`], read by member name.
#[derive(Clone, Copy)]
pub struct View<'a, const N: usize> {
    class: &'a StructClass<N>,
    instance: RStruct,
}

impl<const N: usize> View<'_, N> {
    /// The member's value.
    pub fn value(&self, member: &str) -> Result<Value, Error> {
        self.instance.aref(self.class.position(member) as isize)
    }

    /// The member's value, converted; a failed conversion names the member.
    pub fn get<T: TryConvert>(&self, member: &str) -> Result<T, Error> {
        T::try_convert(self.value(member)?).map_err(|e| self.name_member(member, e))
    }

    /// Prefixes an error with `Class#member: `.
    pub fn name_member(&self, member: &str, error: Error) -> Error {
        name_member(self.class.path, member, error)
    }
}

/// `error` with `path#member: ` in front of its message (its class kept).
pub fn name_member(path: &str, member: &str, error: Error) -> Error {
    match error.error_type() {
        magnus::error::ErrorType::Error(class, message) => {
            Error::new(*class, format!("{path}#{member}: {message}"))
        }
        magnus::error::ErrorType::Exception(exception) => {
            let message = exception
                .funcall::<_, _, String>("message", ())
                .unwrap_or_default();
            Error::new(
                exception.exception_class(),
                format!("{path}#{member}: {message}"),
            )
        }
        magnus::error::ErrorType::Jump(_) => error,
    }
}
