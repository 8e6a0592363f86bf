//! Scheduled messages (`scheduled_messages(...)` topics): [`store`] keeps the schedules read
//! from the schedules topic and says which are due; [`timer`] is the thread that fires them
//! (produces them to their targets) when they are due.

pub mod store;
pub mod timer;
