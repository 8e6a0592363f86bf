//! librdkafka's rebalance and commit callbacks. They run inside `poll`, on the consumer loop's
//! thread (a Ruby thread, GVL released), and only touch Rust state.

use std::time::Instant;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};

use crate::core::consume::commits::{commit_list, commit_sync, SYNC_COMMIT_TIMEOUT};
use crate::core::consume::shared::EngineContext;
use crate::core::event::Event;
use crate::core::job::TopicPartition;
use crate::core::librdkafka_log;
use crate::core::wait::lock;

impl ClientContext for EngineContext {
    /// On librdkafka's threads: kept for Ruby's logger (core::librdkafka_log).
    fn log(&self, level: RDKafkaLogLevel, fac: &str, log_message: &str) {
        librdkafka_log::push(level, fac, log_message);
    }

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
            // Handed over (not lost: then the group has already given them away): the jobs
            // running on them finish first, within half the time the ownership gate allows
            // the loop to stand still (ownership.rs), so that stall never trips the gate.
            if !consumer.assignment_lost() {
                let budget = lock(&self.shared.scheduler).ownership.limit() / 2;
                let still_running = self.shared.let_running_finish(&tps, budget);
                if !still_running.is_empty() {
                    self.shared.event(Event::Info(format!(
                        "handing over partitions with {} job(s) still running after {:.1} s: \
                         they finish here and their next owner runs them again: {}",
                        still_running.len(),
                        budget.as_secs_f64(),
                        still_running.join(", ")
                    )));
                }
            }
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

    /// The result of a [`commit_async`](crate::core::consume::commits::commit_async). A refused
    /// commit's offsets go out again with the next commit, and the refusal is reported (once
    /// per [`RefusalReports`](crate::core::consume::refusal_reports::RefusalReports) interval while it
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

pub(crate) fn to_topic_partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}
