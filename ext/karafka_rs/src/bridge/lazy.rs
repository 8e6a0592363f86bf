//! A Ruby value looked up once, on first use, by a Ruby thread holding the GVL.
//!
//! Why not `magnus::value::Lazy`: it runs the look-up inside `OnceLock::get_or_init`, and a
//! look-up calls Ruby, which may hand the GVL to another thread (any method call can be
//! preempted). Should that thread need the same value meanwhile, it waits for the `OnceLock`
//! while holding the GVL the first thread needs to finish: the whole process hangs. Seen in
//! `karafka server`: two workers finished their first jobs at once (each reads
//! `Outcome::SUCCESS`), and nothing ran after that. Here a thread that finds the value
//! missing looks it up itself; the first one stored is kept, and returned to every caller.

use std::sync::OnceLock;

use magnus::value::{Opaque, ReprValue};
use magnus::Ruby;

pub struct LazyValue<T: ReprValue> {
    look_up: fn(&Ruby) -> T,
    value: OnceLock<Opaque<T>>,
}

impl<T: ReprValue> LazyValue<T> {
    pub const fn new(look_up: fn(&Ruby) -> T) -> Self {
        Self {
            look_up,
            value: OnceLock::new(),
        }
    }

    /// The value, looked up now if nobody has stored it yet (never waiting for another thread).
    pub fn get(&self, ruby: &Ruby) -> T {
        if let Some(value) = self.value.get() {
            return ruby.get_inner(*value);
        }
        let found = (self.look_up)(ruby);
        if self.value.set(Opaque::from(found)).is_ok() {
            // Kept for the life of the process: nothing else may hold it.
            ruby.gc_register_mark_object(found);
            return found;
        }
        // Another thread stored one meanwhile: everyone uses that one.
        self.value
            .get()
            .map_or(found, |value| ruby.get_inner(*value))
    }
}

/// What `#[magnus::wrap(class = "...", free_immediately, size)]` generates for a Rust type
/// wrapped in a Ruby object, but with the class kept in a [`LazyValue`]: the macro keeps it
/// in a magnus `Lazy`, so two threads wrapping their first objects at once could hang.
macro_rules! wrapped_class {
    ($type:ty, $path:literal) => {
        impl magnus::DataTypeFunctions for $type {}

        // SAFETY: as the macro's: the data type names $type, which is what the class wraps.
        unsafe impl magnus::TypedData for $type {
            fn class(ruby: &magnus::Ruby) -> magnus::RClass {
                use magnus::Class as _;
                static CLASS: $crate::bridge::lazy::LazyValue<magnus::RClass> =
                    $crate::bridge::lazy::LazyValue::new(|ruby| {
                        let class: magnus::RClass = magnus::value::ReprValue::funcall(
                            ruby.class_object(),
                            "const_get",
                            ($path,),
                        )
                        .expect(concat!($path, " is defined by the extension itself"));
                        class.undef_default_alloc_func();
                        class
                    });
                CLASS.get(ruby)
            }

            fn data_type() -> &'static magnus::DataType {
                const NAME: &std::ffi::CStr =
                    match std::ffi::CStr::from_bytes_with_nul(concat!($path, "\0").as_bytes()) {
                        Ok(name) => name,
                        Err(_) => panic!("a class path has no NUL"),
                    };
                static DATA_TYPE: magnus::DataType =
                    magnus::typed_data::DataTypeBuilder::<$type>::new(NAME)
                        .size()
                        .free_immediately()
                        .build();
                &DATA_TYPE
            }
        }
    };
}
pub(crate) use wrapped_class;
