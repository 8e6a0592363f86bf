//! A worker's Ruby Strings for topic names: every job of a topic is handed to the executor
//! with the same frozen String, instead of a new String per job (on Ruby 3.3 each allocation
//! and copy shows per job). Held by one worker thread, always with the GVL.

use std::sync::Arc;

use magnus::value::{BoxValue, ReprValue};
use magnus::{RString, Ruby};

/// A server has a handful of topics; a pattern route may match many more over time, and
/// those past this many get a new String per job again rather than a growing list.
const MAX_KEPT: usize = 64;

#[derive(Default)]
pub struct TopicNames {
    // BoxValue: registered with the GC, which does not see Rust's heap.
    kept: Vec<(Arc<str>, BoxValue<RString>)>,
}

impl TopicNames {
    pub fn get(&mut self, ruby: &Ruby, topic: &Arc<str>) -> RString {
        if let Some((_, name)) = self.kept.iter().find(|(kept, _)| **kept == **topic) {
            return *name.as_ref();
        }
        let name = ruby.str_new(topic);
        name.freeze();
        if self.kept.len() < MAX_KEPT {
            self.kept.push((Arc::clone(topic), BoxValue::new(name)));
        }
        name
    }
}
