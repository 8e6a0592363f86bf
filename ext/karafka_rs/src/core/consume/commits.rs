//! Where offsets reach the broker. The consumer loop commits finished jobs' offsets every
//! round ([`commit_async`], answered in `EngineContext::commit_callback`, rebalance.rs) and
//! at shutdown and revocation ([`commit_sync`]); which offsets are safe is the scheduler's
//! call (next_job.rs: `take_commits`).

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::core::consume::shared::EngineContext;
use crate::core::job::TopicPartition;

/// The longest a synchronous commit (revocation, shutdown) waits for the broker's answer.
pub(crate) const SYNC_COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Commits `list` without waiting, with its result reported to `EngineContext::commit_callback`
/// (rebalance.rs). rust-rdkafka's `commit(.., CommitMode::Async)` passes librdkafka no reply
/// queue, so librdkafka drops the result and a refused commit went
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
    use crate::core::consume::ownership::{error_name, read_answer, ProbeAnswer};
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

pub(crate) fn commit_list(offsets: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (tp, offset) in offsets {
        // Infallible for a freshly added partition with an absolute offset.
        let _ = list.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*offset));
    }
    list
}
