//! librdkafka's rebalance and commit callbacks. They run inside `poll`, on the consumer loop's
//! thread (a Ruby thread, GVL released), and only touch Rust state.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::core::refusal_reports::RefusalReports;
use crate::core::scheduler::TopicPartition;
use crate::core::shared::{Event, Shared};
use crate::core::wait::lock;

/// The longest a synchronous commit (revocation, shutdown) waits for the broker's answer.
pub(crate) const SYNC_COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct EngineContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) refusals: Mutex<RefusalReports>,
}

impl ClientContext for EngineContext {
    /// Runs on whichever thread serves librdkafka's main queue: the JSON is only stored, and
    /// the consumer loop hands it to Ruby with the other events (`statistics.emitted`).
    fn stats_raw(&self, statistics: &[u8]) {
        let json = String::from_utf8_lossy(statistics).into_owned();
        self.shared.event(Event::Statistics(json));
    }
}

impl ConsumerContext for EngineContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance {
            let tps = to_topic_partitions(tpl);
            {
                let mut queues = lock(&self.shared.queues);
                tps.iter().for_each(|tp| drop(queues.remove(tp)));
            }
            self.shared
                .with_schedules(&tps, |store, tp| store.revoke(tp));
            let revoked = lock(&self.shared.scheduler).revoke(&tps);
            // Commit what finished before we hand the partitions over, or the next owner
            // would run those jobs again. Refused now, it is abandoned for good: say which.
            if !revoked.owed.is_empty() {
                let list = commit_list(&revoked.owed);
                if let Err(e) = commit_sync(consumer, &list, SYNC_COMMIT_TIMEOUT) {
                    self.shared.event(Event::Error {
                        kind: "consumer.commit",
                        message: format!(
                            "abandoned the commit of revoked partitions ({e}): {} finished but \
                             not committed, their next owner runs them again",
                            revoked.ranges.join("; ")
                        ),
                    });
                }
            }
            self.shared.event(Event::Revoked(tps));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => {
                let tps = to_topic_partitions(tpl);
                lock(&self.shared.scheduler).assign(tps.iter().cloned());
                self.shared.split_queues(&tps);
                self.shared
                    .with_schedules(&tps, |store, tp| store.assign(tp.clone()));
                self.shared.broker_answered();
                self.shared.event(Event::Assigned(tps));
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => self.shared.event(Event::Error {
                kind: "consumer.rebalance",
                message: e.to_string(),
            }),
        }
    }

    /// The result of a [`commit_async`]. A refused commit's offsets go out again with the next
    /// commit, and the refusal is reported (once per [`RefusalReports`] interval while it
    /// persists). Errors come for the whole request or per partition.
    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        *lock(&self.shared.commit_in_flight) = None;
        let whole_request = result.is_err();
        let mut failures = Vec::new();
        let mut retries = Vec::new();
        for e in offsets.elements() {
            let code = e.error().err().and_then(|e| e.rdkafka_error_code());
            if let Some(code) = code {
                failures.push(format!("{}/{}: {code}", e.topic(), e.partition()));
            }
            if let (true, Offset::Offset(offset)) = (whole_request || code.is_some(), e.offset()) {
                retries.push((TopicPartition::new(e.topic(), e.partition()), offset));
            }
        }
        if let Err(e) = result {
            failures.insert(0, e.to_string());
        }
        let mut scheduler = lock(&self.shared.scheduler);
        if !whole_request {
            let accepted: Vec<_> = offsets
                .elements()
                .iter()
                .filter(|e| e.error().is_ok())
                .filter_map(|e| match e.offset() {
                    Offset::Offset(offset) => {
                        Some((TopicPartition::new(e.topic(), e.partition()), offset))
                    }
                    _ => None,
                })
                .collect();
            scheduler.committed(&accepted);
        }
        if failures.is_empty() {
            drop(scheduler);
            lock(&self.refusals).accepted();
            self.shared.broker_answered();
            return;
        }
        for (tp, offset) in retries {
            scheduler.retry_commit(tp, offset);
        }
        drop(scheduler);
        let report = lock(&self.refusals).refused(failures.join("; "), Instant::now());
        if let Some(message) = report {
            self.shared.event(Event::Error {
                kind: "consumer.commit",
                message,
            });
        }
    }
}

/// Commits `list` without waiting, with its result reported to
/// [`EngineContext::commit_callback`]. rust-rdkafka's `commit(.., CommitMode::Async)` passes
/// librdkafka no reply queue, so librdkafka drops the result and a refused commit went
/// unnoticed (rust-rdkafka issue #856). Given the consumer queue, librdkafka sends the result
/// there as an event, and the consumer loop's `poll` hands it to the callback.
pub(crate) fn commit_async(
    consumer: &BaseConsumer<EngineContext>,
    list: &TopicPartitionList,
) -> KafkaResult<()> {
    use rdkafka::bindings as rd;
    use rdkafka::error::{IsError, KafkaError};
    // SAFETY: the client and the list outlive the call; librdkafka keeps its own reference
    // to the queue for the reply, so our handle is released right after.
    let code = unsafe {
        let client = consumer.client().native_ptr();
        let queue = rd::rd_kafka_queue_get_consumer(client);
        let code = rd::rd_kafka_commit_queue(client, list.ptr(), queue, None, std::ptr::null_mut());
        rd::rd_kafka_queue_destroy(queue);
        code
    };
    if code.is_error() {
        return Err(KafkaError::ConsumerCommit(code.into()));
    }
    Ok(())
}

/// Commits `list` and waits (at most `timeout`) for the broker's answer, per partition.
/// rust-rdkafka's sync `commit` returns only the request's error: a commit refused partition
/// by partition (as right after a broker restart) came back `Ok`, and the shutdown's offsets
/// were lost without a word.
pub(crate) fn commit_sync(
    consumer: &BaseConsumer<EngineContext>,
    list: &TopicPartitionList,
    timeout: std::time::Duration,
) -> Result<(), String> {
    use crate::core::ownership::{error_name, read_answer, ProbeAnswer};
    use rdkafka::bindings as rd;
    // SAFETY: a queue of our own for the one reply, destroyed before returning; the client
    // and the list outlive the call (librdkafka copies the list).
    unsafe {
        let client = consumer.client().native_ptr();
        let queue = rd::rd_kafka_queue_new(client);
        let code = rd::rd_kafka_commit_queue(client, list.ptr(), queue, None, std::ptr::null_mut());
        let answer = if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Err(error_name(code))
        } else {
            let event = rd::rd_kafka_queue_poll(queue, timeout.as_millis() as i32);
            if event.is_null() {
                Err(format!("no answer within {} ms", timeout.as_millis()))
            } else {
                let answer = read_answer(event);
                rd::rd_kafka_event_destroy(event);
                match answer {
                    ProbeAnswer::Confirmed => Ok(()),
                    ProbeAnswer::Refused(e) => Err(e),
                    ProbeAnswer::Waiting => Err("an unexpected answer".into()),
                }
            }
        };
        rd::rd_kafka_queue_destroy(queue);
        answer
    }
}

pub(crate) fn to_topic_partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

pub(crate) fn commit_list(offsets: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (tp, offset) in offsets {
        // Infallible for a freshly added partition with an absolute offset.
        let _ = list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset));
    }
    list
}
