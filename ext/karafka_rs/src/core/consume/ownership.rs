//! Whether the engine may still trust that it owns its partitions.
//!
//! A process frozen past its session timeout (SIGSTOP, a stalled VM, a debugger) has been
//! evicted from the group, and its partitions run elsewhere; when it resumes, its workers
//! would start the jobs still in its buffers before librdkafka even noticed, concurrently
//! with the new owner (issue 12: four such jobs started within 2 ms of a SIGCONT).
//!
//! The consumer loop marks every round ([`Ownership::round`]). A worker starts no job while
//! the last round is older than [`Ownership::limit`] (the loop itself was frozen or starved),
//! and once the loop notices such a gap, none until the group has confirmed our membership:
//! the loop sends an offset commit of the partitions' current commit points (the broker only
//! accepts it from the current generation's member) on a queue of its own
//! ([`OwnershipProbe`]), and meanwhile serves any revocation librdkafka delivers.

use std::ffi::CStr;
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::TopicPartitionList;

/// The shortest gap that counts as "we may have lost our partitions".
const MIN_LIMIT: Duration = Duration::from_secs(1);
/// How often an unanswered or refused probe is sent again.
const PROBE_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Ownership {
    last_round: Instant,
    limit: Duration,
    unverified: bool,
}

impl Ownership {
    pub fn new(limit: Duration) -> Self {
        Self {
            last_round: Instant::now(),
            limit: limit.max(MIN_LIMIT),
            unverified: false,
        }
    }

    /// Half of the shortest time after which the group may have given our partitions away:
    /// the session timeout less one heartbeat interval (the last heartbeat may be that old),
    /// or `max.poll.interval.ms`. Half, so a gap is noticed well before it costs the partitions.
    pub fn limit_for(
        session_timeout: Duration,
        heartbeat: Duration,
        max_poll: Duration,
    ) -> Duration {
        session_timeout.saturating_sub(heartbeat).min(max_poll) / 2
    }

    /// How long the consumer loop may go without a round before job starts stop.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether a worker may start a job now.
    pub fn may_start(&self, now: Instant) -> bool {
        !self.unverified && now.saturating_duration_since(self.last_round) <= self.limit
    }

    /// The consumer loop runs a round. Returns the gap when it was longer than the limit
    /// (jobs wait for [`Ownership::confirmed`] from then on).
    pub fn round(&mut self, now: Instant) -> Option<Duration> {
        let gap = now.saturating_duration_since(self.last_round);
        self.last_round = now;
        if gap > self.limit {
            self.unverified = true;
            return Some(gap);
        }
        None
    }

    pub fn is_unverified(&self) -> bool {
        self.unverified
    }

    /// The group confirmed our membership (or we own nothing that could run).
    pub fn confirmed(&mut self) {
        self.unverified = false;
    }
}

/// An offset commit sent only to learn whether the broker still takes us for the owner.
pub struct OwnershipProbe {
    queue: *mut rd::rd_kafka_queue_t,
    sent_at: Option<Instant>,
}

// SAFETY: the queue is a librdkafka handle (thread-safe); only the consumer loop uses it.
unsafe impl Send for OwnershipProbe {}

/// What a probe said.
#[derive(Debug, PartialEq, Eq)]
pub enum ProbeAnswer {
    Waiting,
    Confirmed,
    Refused(String),
}

impl OwnershipProbe {
    pub fn new<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> Self {
        // SAFETY: a new queue of a live client; destroyed in `drop`, before the client.
        let queue = unsafe { rd::rd_kafka_queue_new(consumer.client().native_ptr()) };
        Self {
            queue,
            sent_at: None,
        }
    }

    /// Sends a probe unless one is in flight or the last was sent less than
    /// [`PROBE_EVERY`] ago.
    pub fn send<C: ConsumerContext>(
        &mut self,
        consumer: &BaseConsumer<C>,
        list: &TopicPartitionList,
        now: Instant,
    ) -> Result<(), String> {
        if self
            .sent_at
            .is_some_and(|at| now.saturating_duration_since(at) < PROBE_EVERY)
        {
            return Ok(());
        }
        self.sent_at = Some(now);
        // SAFETY: client, list and queue are alive for the call; librdkafka copies the list.
        let code = unsafe {
            rd::rd_kafka_commit_queue(
                consumer.client().native_ptr(),
                list.ptr(),
                self.queue,
                None,
                std::ptr::null_mut(),
            )
        };
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(error_name(code));
        }
        Ok(())
    }

    /// The answer to the probe in flight, without waiting.
    pub fn answer(&mut self) -> ProbeAnswer {
        // SAFETY: our queue; each event is destroyed after reading it.
        unsafe {
            let event = rd::rd_kafka_queue_poll(self.queue, 0);
            if event.is_null() {
                return ProbeAnswer::Waiting;
            }
            let answer = read_answer(event);
            rd::rd_kafka_event_destroy(event);
            answer
        }
    }
}

/// SAFETY: `event` is a live event of a commit reply queue.
pub(crate) unsafe fn read_answer(event: *mut rd::rd_kafka_event_t) -> ProbeAnswer {
    if rd::rd_kafka_event_type(event) != rd::RD_KAFKA_EVENT_OFFSET_COMMIT {
        return ProbeAnswer::Waiting;
    }
    let code = rd::rd_kafka_event_error(event);
    if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return ProbeAnswer::Refused(error_name(code));
    }
    let list = rd::rd_kafka_event_topic_partition_list(event);
    if !list.is_null() {
        for i in 0..(*list).cnt as usize {
            let element = &*(*list).elems.add(i);
            if element.err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return ProbeAnswer::Refused(error_name(element.err));
            }
        }
    }
    ProbeAnswer::Confirmed
}

pub(crate) fn error_name(code: rd::rd_kafka_resp_err_t) -> String {
    // SAFETY: librdkafka returns a static string for every code.
    unsafe { CStr::from_ptr(rd::rd_kafka_err2name(code)) }
        .to_string_lossy()
        .into_owned()
}

impl Drop for OwnershipProbe {
    fn drop(&mut self) {
        // SAFETY: created in `new`, destroyed once.
        unsafe { rd::rd_kafka_queue_destroy(self.queue) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_in_the_loop_stops_job_starts_until_confirmed() {
        let start = Instant::now();
        let mut ownership = Ownership::new(Duration::from_secs(2));
        ownership.round(start);
        assert!(ownership.may_start(start + Duration::from_secs(1)));
        let resumed = start + Duration::from_secs(9);
        assert!(
            !ownership.may_start(resumed),
            "the loop has not run since the freeze: workers must not start jobs"
        );
        assert_eq!(ownership.round(resumed), Some(Duration::from_secs(9)));
        assert!(!ownership.may_start(resumed), "not yet confirmed");
        assert_eq!(ownership.round(resumed), None);
        ownership.confirmed();
        assert!(ownership.may_start(resumed));
    }

    #[test]
    fn the_limit_is_half_the_time_the_group_waits_for_us() {
        let s = Duration::from_secs;
        assert_eq!(Ownership::limit_for(s(45), s(3), s(300)), s(21));
        assert_eq!(Ownership::limit_for(s(45), s(3), s(10)), s(5));
    }
}
