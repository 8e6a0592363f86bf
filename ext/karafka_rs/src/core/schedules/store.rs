//! Scheduled jobs waiting in a schedules topic, and which of them are due.
//!
//! A schedule is a message of the schedules topic: the job's payload plus `schedule_target_*`
//! headers (target topic, key / partition key / partition, due time). Karafka Pro's format
//! (its public docs, Pro/Scheduled-Messages): `schedule_schema_version` 1.x,
//! `schedule_source_type` (`schedule`; anything else, like a null payload, removes the
//! key's schedule: a cancel or a tombstone), `schedule_target_epoch` in seconds. karafka-rs
//! writes that format plus `schedule_target_epoch_ms` (its millisecond timer reads that
//! first), so schedules written by either survive a switch. Other headers are the target
//! message's own and go with it. After the timer has dispatched a schedule to its target, a
//! tombstone (same key, no payload) is written to the schedules topic. On assignment a partition is *loading* until the high watermark of that
//! moment has been read, so tombstones of schedules dispatched before a restart are seen
//! before anything is dispatched; only then do its schedules become due-able.
//!
//! The committed offset of a schedules partition is the lowest offset still pending (or the
//! next offset when nothing is): a restart re-reads exactly what may still be needed.
//! Plain data, no I/O: the engine's timer thread and listener drive it.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use crate::core::job::TopicPartition;
use crate::core::produce::producer::OutgoingMessage;

pub const TARGET_TOPIC: &str = "schedule_target_topic";
pub const TARGET_EPOCH_MS: &str = "schedule_target_epoch_ms";
/// Karafka Pro's due time, in epoch seconds.
pub const TARGET_EPOCH: &str = "schedule_target_epoch";
pub const SCHEMA_VERSION: &str = "schedule_schema_version";
pub const SOURCE_TYPE: &str = "schedule_source_type";
/// What karafka-rs writes in [`SCHEMA_VERSION`] (Karafka Pro's current schema).
pub const WRITTEN_SCHEMA_VERSION: &str = "1.0.0";
/// Every header of the schedule format starts so; others belong to the target message.
const SCHEDULE_HEADER_PREFIX: &str = "schedule_";
pub const TARGET_KEY: &str = "schedule_target_key";
pub const TARGET_PARTITION_KEY: &str = "schedule_target_partition_key";
pub const TARGET_PARTITION: &str = "schedule_target_partition";

/// A schedule ready for dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub tp: TopicPartition,
    pub offset: i64,
    pub key: Vec<u8>,
    pub target: OutgoingMessage,
    generation: u64,
}

#[derive(Debug)]
struct Entry {
    offset: i64,
    due_ms: i64,
    target: OutgoingMessage,
}

/// One assigned schedules partition: whether it is still loading, and its pending schedules.
#[derive(Debug)]
struct PartitionSchedules {
    generation: u64,
    /// High watermark at assignment; `None` until the listener has fetched it.
    load_until: Option<i64>,
    loaded: bool,
    next_offset: i64,
    by_key: HashMap<Vec<u8>, Entry>,
    /// Offsets of entries not yet dispatched (for the commit offset).
    pending: BTreeMap<i64, Vec<u8>>,
}

/// Why a schedules message was not accepted as a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSchedule {
    pub tp: TopicPartition,
    pub offset: i64,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct ScheduleStore {
    partitions: HashMap<TopicPartition, PartitionSchedules>,
    due: BinaryHeap<Reverse<(i64, TopicPartition, i64, u64)>>,
    next_generation: u64,
}

impl ScheduleStore {
    pub fn assign(&mut self, tp: TopicPartition) {
        self.next_generation += 1;
        self.partitions.insert(
            tp,
            PartitionSchedules {
                generation: self.next_generation,
                load_until: None,
                loaded: false,
                next_offset: 0,
                by_key: HashMap::new(),
                pending: BTreeMap::new(),
            },
        );
    }

    pub fn revoke(&mut self, tp: &TopicPartition) {
        self.partitions.remove(tp);
    }

    /// Partitions whose high watermark the listener still has to fetch.
    pub fn needing_watermark(&self) -> Vec<TopicPartition> {
        self.partitions
            .iter()
            .filter(|(_, s)| s.load_until.is_none())
            .map(|(tp, _)| tp.clone())
            .collect()
    }

    /// Records the high watermark taken at assignment; loading ends once it is read.
    pub fn set_load_until(&mut self, tp: &TopicPartition, high_watermark: i64) {
        if let Some(state) = self.partitions.get_mut(tp) {
            state.load_until = Some(high_watermark);
        }
        self.finish_loading(tp);
    }

    /// Takes a message of a schedules topic. `payload == None` is a tombstone.
    pub fn push(
        &mut self,
        tp: &TopicPartition,
        offset: i64,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: &[(String, Vec<u8>)],
    ) -> Result<(), InvalidSchedule> {
        let Some(state) = self.partitions.get_mut(tp) else {
            return Ok(());
        };
        state.next_offset = state.next_offset.max(offset + 1);
        let invalid = |reason: &str| InvalidSchedule {
            tp: tp.clone(),
            offset,
            reason: reason.into(),
        };
        // A cancel (or any non-schedule source type) removes the key's schedule, as a
        // tombstone does.
        let removal = header(headers, SOURCE_TYPE).is_some_and(|t| t != b"schedule");
        let payload = if removal { None } else { payload };
        let result = match (key, payload) {
            (None, _) => Err(invalid("a schedule needs a key")),
            (Some(key), None) => {
                if let Some(entry) = state.by_key.remove(key) {
                    state.pending.remove(&entry.offset);
                }
                Ok(())
            }
            (Some(key), Some(payload)) => match parse(payload, headers) {
                Err(reason) => Err(invalid(&reason)),
                Ok((due_ms, target)) => {
                    if let Some(old) = state.by_key.insert(
                        key.to_vec(),
                        Entry {
                            offset,
                            due_ms,
                            target,
                        },
                    ) {
                        state.pending.remove(&old.offset);
                    }
                    state.pending.insert(offset, key.to_vec());
                    if state.loaded {
                        self.due
                            .push(Reverse((due_ms, tp.clone(), offset, state.generation)));
                    }
                    Ok(())
                }
            },
        };
        self.finish_loading(tp);
        result
    }

    /// Removes and returns up to `limit` schedules due at `now_ms`, earliest first.
    pub fn take_due(&mut self, now_ms: i64, limit: usize) -> Vec<Due> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _, _, _))) = self.due.peek() {
            if *at > now_ms || due.len() >= limit {
                break;
            }
            let Reverse((_, tp, offset, generation)) = self.due.pop().expect("peeked");
            let Some(state) = self.partitions.get_mut(&tp) else {
                continue;
            };
            if state.generation != generation {
                continue;
            }
            let Some(key) = state.pending.get(&offset).cloned() else {
                continue;
            };
            let Some(entry) = state.by_key.get(&key) else {
                continue;
            };
            due.push(Due {
                tp: tp.clone(),
                offset,
                key,
                target: entry.target.clone(),
                generation,
            });
        }
        due
    }

    /// Milliseconds until the next schedule is due (0: now), if any is waiting.
    pub fn next_due_in(&self, now_ms: i64) -> Option<i64> {
        self.due
            .peek()
            .map(|Reverse((at, ..))| (*at - now_ms).max(0))
    }

    /// The schedule was dispatched and its tombstone written: forget it. Returns the offset
    /// now safe to commit for its partition.
    pub fn dispatched(&mut self, due: &Due) -> Option<i64> {
        let state = self
            .partitions
            .get_mut(&due.tp)
            .filter(|s| s.generation == due.generation)?;
        if state.pending.get(&due.offset) == Some(&due.key) {
            state.pending.remove(&due.offset);
            state.by_key.remove(&due.key);
        }
        Some(commit_offset(state))
    }

    /// Dispatching failed: try again at `retry_at_ms`.
    pub fn retry(&mut self, due: &Due, retry_at_ms: i64) {
        if self
            .partitions
            .get(&due.tp)
            .is_some_and(|s| s.generation == due.generation)
        {
            self.due.push(Reverse((
                retry_at_ms,
                due.tp.clone(),
                due.offset,
                due.generation,
            )));
        }
    }

    /// Offset to commit for a partition (after a message that changed nothing due, e.g. a
    /// tombstone or an invalid schedule).
    pub fn commit_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions
            .get(tp)
            .filter(|s| s.loaded)
            .map(commit_offset)
    }

    pub fn pending(&self) -> usize {
        self.partitions.values().map(|s| s.pending.len()).sum()
    }

    fn finish_loading(&mut self, tp: &TopicPartition) {
        let Some(state) = self.partitions.get_mut(tp) else {
            return;
        };
        let Some(until) = state.load_until else {
            return;
        };
        if state.loaded || state.next_offset < until {
            return;
        }
        state.loaded = true;
        for entry in state.by_key.values() {
            self.due.push(Reverse((
                entry.due_ms,
                tp.clone(),
                entry.offset,
                state.generation,
            )));
        }
    }
}

fn commit_offset(state: &PartitionSchedules) -> i64 {
    state
        .pending
        .keys()
        .next()
        .copied()
        .unwrap_or(state.next_offset)
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

fn parse(payload: &[u8], headers: &[(String, Vec<u8>)]) -> Result<(i64, OutgoingMessage), String> {
    let text = |name: &str| header(headers, name).map(|v| String::from_utf8_lossy(v).into_owned());
    if let Some(version) = text(SCHEMA_VERSION) {
        if version.split('.').next() != Some("1") {
            return Err(format!(
                "unsupported {SCHEMA_VERSION} {version:?} (this version reads 1.x)"
            ));
        }
    }
    let topic = text(TARGET_TOPIC)
        .filter(|t| !t.is_empty())
        .ok_or(format!("missing {TARGET_TOPIC}"))?;
    let due_ms = match (text(TARGET_EPOCH_MS), text(TARGET_EPOCH)) {
        (Some(ms), _) => ms.trim().parse::<i64>().ok(),
        (None, Some(seconds)) => seconds
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite())
            .map(|s| (s * 1000.0).round() as i64),
        (None, None) => None,
    }
    .ok_or(format!(
        "missing or invalid {TARGET_EPOCH_MS} / {TARGET_EPOCH}"
    ))?;
    let partition = match text(TARGET_PARTITION) {
        None => None,
        Some(v) => Some(
            v.trim()
                .parse::<i32>()
                .map_err(|_| format!("invalid {TARGET_PARTITION}"))?,
        ),
    };
    let target = OutgoingMessage {
        topic,
        payload: Some(payload.to_vec()),
        key: header(headers, TARGET_KEY).map(<[u8]>::to_vec),
        partition_key: header(headers, TARGET_PARTITION_KEY).map(<[u8]>::to_vec),
        partition,
        headers: headers
            .iter()
            .filter(|(name, _)| !name.starts_with(SCHEDULE_HEADER_PREFIX))
            .cloned()
            .collect(),
        ..Default::default()
    };
    Ok((due_ms, target))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tp() -> TopicPartition {
        TopicPartition::new("schedules", 0)
    }

    fn headers(due_ms: i64) -> Vec<(String, Vec<u8>)> {
        vec![
            (TARGET_TOPIC.into(), b"jobs".to_vec()),
            (TARGET_EPOCH_MS.into(), due_ms.to_string().into_bytes()),
            (TARGET_KEY.into(), b"user-7".to_vec()),
        ]
    }

    impl ScheduleStore {
        fn take_due_all(&mut self, now_ms: i64) -> Vec<Due> {
            self.take_due(now_ms, usize::MAX)
        }
    }

    fn loaded_store(high_watermark: i64) -> ScheduleStore {
        let mut store = ScheduleStore::default();
        store.assign(tp());
        store.set_load_until(&tp(), high_watermark);
        store
    }

    #[test]
    fn dispatches_in_due_order_and_only_when_due() {
        let mut store = loaded_store(0);
        store
            .push(&tp(), 0, Some(b"b"), Some(b"job-b"), &headers(2_000))
            .unwrap();
        store
            .push(&tp(), 1, Some(b"a"), Some(b"job-a"), &headers(1_000))
            .unwrap();

        assert!(store.take_due_all(999).is_empty());
        assert_eq!(store.next_due_in(900), Some(100));
        let due = store.take_due_all(2_000);
        assert_eq!(
            due.iter().map(|d| d.key.as_slice()).collect::<Vec<_>>(),
            vec![&b"a"[..], &b"b"[..]]
        );
        assert_eq!(due[0].target.topic, "jobs");
        assert_eq!(due[0].target.key.as_deref(), Some(&b"user-7"[..]));
        assert_eq!(due[0].target.payload.as_deref(), Some(&b"job-a"[..]));
    }

    #[test]
    fn nothing_is_due_before_loading_reached_the_high_watermark_and_tombstones_win() {
        let mut store = ScheduleStore::default();
        store.assign(tp());
        store
            .push(&tp(), 0, Some(b"done"), Some(b"x"), &headers(0))
            .unwrap();
        store
            .push(&tp(), 1, Some(b"todo"), Some(b"y"), &headers(0))
            .unwrap();
        assert!(store.take_due_all(10).is_empty(), "no watermark yet");

        store.set_load_until(&tp(), 3);
        assert!(store.take_due_all(10).is_empty(), "still loading");
        store.push(&tp(), 2, Some(b"done"), None, &[]).unwrap();

        let due = store.take_due_all(10);
        assert_eq!(
            due.iter().map(|d| d.key.as_slice()).collect::<Vec<_>>(),
            vec![&b"todo"[..]]
        );
    }

    #[test]
    fn commits_up_to_the_lowest_pending_schedule() {
        let mut store = loaded_store(0);
        store
            .push(&tp(), 0, Some(b"late"), Some(b"x"), &headers(5_000))
            .unwrap();
        store
            .push(&tp(), 1, Some(b"soon"), Some(b"y"), &headers(1_000))
            .unwrap();
        assert_eq!(store.commit_offset(&tp()), Some(0));

        let due = store.take_due_all(1_000);
        assert_eq!(store.dispatched(&due[0]), Some(0), "offset 0 still pending");
        let due = store.take_due_all(5_000);
        assert_eq!(
            store.dispatched(&due[0]),
            Some(2),
            "everything read is done"
        );
    }

    #[test]
    fn failed_dispatches_come_back_and_revoked_partitions_are_forgotten() {
        let mut store = loaded_store(0);
        store
            .push(&tp(), 0, Some(b"k"), Some(b"x"), &headers(0))
            .unwrap();
        let due = store.take_due_all(0);
        store.retry(&due[0], 500);
        assert!(store.take_due_all(499).is_empty());
        assert_eq!(store.take_due_all(500).len(), 1);

        store.revoke(&tp());
        assert!(store.take_due_all(i64::MAX).is_empty());
        assert_eq!(store.dispatched(&due[0]), None);
    }

    /// A schedule as Karafka Pro writes it (its documented headers), plus a user header.
    fn karafka_headers(epoch_seconds: i64) -> Vec<(String, Vec<u8>)> {
        vec![
            ("trace-id".into(), b"t-1".to_vec()),
            (SCHEMA_VERSION.into(), b"1.0.0".to_vec()),
            (TARGET_EPOCH.into(), epoch_seconds.to_string().into_bytes()),
            (SOURCE_TYPE.into(), b"schedule".to_vec()),
            (TARGET_TOPIC.into(), b"jobs".to_vec()),
            (TARGET_PARTITION_KEY.into(), b"user-7".to_vec()),
            (TARGET_PARTITION.into(), b"2".to_vec()),
        ]
    }

    #[test]
    fn reads_karafka_pros_format_in_seconds_and_passes_user_headers_on() {
        let mut store = loaded_store(0);
        store
            .push(
                &tp(),
                0,
                Some(b"jobs-uuid"),
                Some(b"job"),
                &karafka_headers(1_700),
            )
            .unwrap();

        assert!(store.take_due_all(1_699_999).is_empty());
        let due = store.take_due_all(1_700_000);
        assert_eq!(due.len(), 1);
        let target = &due[0].target;
        assert_eq!(target.topic, "jobs");
        assert_eq!(target.partition, Some(2));
        assert_eq!(target.partition_key.as_deref(), Some(&b"user-7"[..]));
        assert_eq!(target.key, None);
        assert_eq!(target.headers, vec![("trace-id".into(), b"t-1".to_vec())]);
    }

    #[test]
    fn milliseconds_win_over_seconds_when_both_are_written() {
        let mut store = loaded_store(0);
        let mut headers = karafka_headers(2);
        headers.push((TARGET_EPOCH_MS.into(), b"1500".to_vec()));
        store
            .push(&tp(), 0, Some(b"k"), Some(b"job"), &headers)
            .unwrap();
        assert_eq!(store.take_due_all(1_500).len(), 1);
    }

    #[test]
    fn a_karafka_cancel_removes_the_schedule() {
        let mut store = loaded_store(0);
        store
            .push(&tp(), 0, Some(b"k"), Some(b"job"), &karafka_headers(0))
            .unwrap();
        let cancel = vec![(SOURCE_TYPE.into(), b"cancel".to_vec())];
        store
            .push(&tp(), 1, Some(b"k"), Some(b""), &cancel)
            .unwrap();

        assert!(store.take_due_all(i64::MAX).is_empty());
        assert_eq!(store.commit_offset(&tp()), Some(2));
    }

    #[test]
    fn rejects_a_schema_version_it_cannot_read() {
        let mut store = loaded_store(0);
        let mut headers = karafka_headers(0);
        headers[1].1 = b"2.0.0".to_vec();
        let error = store
            .push(&tp(), 0, Some(b"k"), Some(b"job"), &headers)
            .unwrap_err();
        assert!(error.reason.contains(SCHEMA_VERSION), "{}", error.reason);
    }

    #[test]
    fn rejects_schedules_without_target_or_time() {
        let mut store = loaded_store(0);
        let error = store
            .push(&tp(), 0, Some(b"k"), Some(b"x"), &[])
            .unwrap_err();
        assert!(error.reason.contains(TARGET_TOPIC));
        assert_eq!(
            store.commit_offset(&tp()),
            Some(1),
            "an invalid schedule does not block commits"
        );
    }
}
