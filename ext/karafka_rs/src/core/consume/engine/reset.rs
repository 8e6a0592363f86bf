//! A consumer that librdkafka declared dead is replaced, not mourned.
//!
//! librdkafka raises a fatal error when the client can never work again: a static member
//! fenced by another one with its `group.instance.id` (`FENCED_INSTANCE_ID`, also what a
//! broker outage longer than `session.timeout.ms` can lead to). Every call on that client
//! fails from then on. Karafka's listener resets its client then (it closes it and builds a
//! new one with the same settings); so does the consumer loop here, at most once per
//! `reset_backoff` (Karafka's `internal.connection.reset_backoff`, 1 s by default here; at least
//! [`MIN_RESET_PAUSE`]):
//! - the fatal error is reported (`connection.listener.fetch_loop.error`, Karafka's type; the
//!   message starts with `(Fatal) `, which the liveness listener takes for unrecoverable);
//! - whatever the old consumer owned is dropped without a commit (the dead client cannot make
//!   one): buffered jobs of its partitions never start, jobs running now finish but their
//!   offsets are not recorded (their partitions are gone), and the offsets that were owed are
//!   reported as running again;
//! - a new consumer with the same settings (the same `group.instance.id` too) subscribes, and
//!   its assignment resumes from the group's committed offsets: a job may run again
//!   (at-least-once), none is lost.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::core::config::{consumer_config, KafkaSettings};
use crate::core::consume::engine::Engine;
use crate::core::consume::latency_trace;
use crate::core::consume::rebalance::to_topic_partitions;
use crate::core::consume::shared::{EngineContext, Shared};
use crate::core::error::{CoreError, CoreResult};
use crate::core::event::Event;
use crate::core::wait::lock;

/// The shortest time between two resets whatever `reset_backoff` says: a client that is fatal
/// right after it was made must not spin.
const MIN_RESET_PAUSE: Duration = Duration::from_secs(1);

/// What it takes to make the engine's consumer again: its settings and subscription.
pub(crate) struct ConsumerRecipe {
    kafka: KafkaSettings,
    topics: Vec<String>,
    reset_backoff: Duration,
    last_reset: Mutex<Option<Instant>>,
}

impl ConsumerRecipe {
    pub(crate) fn new(kafka: KafkaSettings, topics: Vec<String>, reset_backoff: Duration) -> Self {
        Self {
            kafka,
            topics,
            reset_backoff: reset_backoff.max(MIN_RESET_PAUSE),
            last_reset: Mutex::new(None),
        }
    }

    /// A consumer with these settings, subscribed, its wake-ups and queue splits wired to
    /// `shared`.
    pub(crate) fn build(
        &self,
        shared: &Arc<Shared>,
    ) -> CoreResult<Arc<BaseConsumer<EngineContext>>> {
        let context = EngineContext {
            shared: Arc::clone(shared),
            refusals: Mutex::default(),
        };
        let mut consumer: BaseConsumer<EngineContext> = consumer_config(&self.kafka)
            .create_with_context(context)
            .map_err(CoreError::ClientCreation)?;
        let listener = Arc::clone(&shared.listener);
        consumer.set_nonempty_callback(move || {
            latency_trace::notified();
            listener.notify()
        });
        let consumer = Arc::new(consumer);
        *lock(&shared.consumer) = Arc::downgrade(&consumer);
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&topics)
            .map_err(|source| CoreError::Subscription {
                topics: self.topics.join(", "),
                source,
            })?;
        Ok(consumer)
    }

    /// Whether `consumer` is dead and may be replaced now (not while stopping: shutdown
    /// closes it anyway).
    pub(crate) fn due(&self, consumer: &BaseConsumer<EngineContext>, shared: &Shared) -> bool {
        consumer.client().fatal_error().is_some()
            && !lock(&shared.scheduler).is_stopping()
            && lock(&self.last_reset).is_none_or(|at| at.elapsed() >= self.reset_backoff)
    }
}

impl Engine {
    /// Replaces the consumer in `slot` when librdkafka declared it dead (see the module docs).
    /// Called by the consumer loop, which holds `slot`'s lock.
    pub(crate) fn reset_if_fatal(
        &self,
        slot: &mut Option<Arc<BaseConsumer<EngineContext>>>,
    ) -> CoreResult<()> {
        let Some(old) = slot.as_ref() else {
            return Ok(());
        };
        if !self.recipe.due(old, &self.shared) {
            return Ok(());
        }
        *lock(&self.recipe.last_reset) = Some(Instant::now());
        let old = slot.take().expect("checked above");
        let (code, reason) = old
            .client()
            .fatal_error()
            .unwrap_or((RDKafkaErrorCode::Fatal, String::new()));
        self.shared.event(Event::Error {
            kind: "connection.listener.fetch_loop.error",
            message: format!(
                "(Fatal) {code:?}: {reason}; closing this consumer and creating a new one \
                 with the same settings"
            ),
        });
        self.abandon(&old);
        // The queues, the probe and this handle held the dead client: dropping the last one
        // closes it (librdkafka answers at once, the group has already let it go).
        drop(old);
        let consumer = self.recipe.build(&self.shared)?;
        *slot = Some(consumer);
        self.shared.event(Event::Reset(format!(
            "consumer reset after a fatal error ({code:?}): a new consumer joins the group, \
             the partitions' jobs resume from their committed offsets"
        )));
        Ok(())
    }

    /// Forgets everything the dead consumer owned, committing nothing.
    fn abandon(&self, old: &BaseConsumer<EngineContext>) {
        let mut tps: Vec<_> = lock(&self.shared.queues)
            .drain()
            .map(|(tp, _)| tp)
            .collect();
        if let Ok(assignment) = old.assignment() {
            for tp in to_topic_partitions(&assignment) {
                if !tps.contains(&tp) {
                    tps.push(tp);
                }
            }
        }
        drop(lock(&self.probe).take());
        lock(&self.shared.unclassified).clear();
        *lock(&self.shared.commit_in_flight) = None;
        self.shared
            .with_schedules(&tps, |store, tp| store.revoke(tp));
        let revoked = lock(&self.shared.scheduler).revoke(&tps);
        lock(&self.shared.scheduler).ownership.confirmed();
        if !revoked.owed.is_empty() {
            self.shared.event(Event::Error {
                kind: "consumer.commit",
                message: format!(
                    "not committed (the consumer died first): {}; these jobs run again",
                    revoked.ranges.join("; ")
                ),
            });
        }
        if !tps.is_empty() {
            self.shared.event(Event::Revoked(tps));
        }
    }
}
