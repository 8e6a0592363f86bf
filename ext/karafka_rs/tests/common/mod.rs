//! What the mock-cluster tests share: client settings and producing their jobs.

use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use karafka_rs::core::consume::backoff::Backoff;
use karafka_rs::core::consume::engine::{Engine, EngineSettings, LoopExit};
use karafka_rs::core::event::Event;
use karafka_rs::core::produce::delivery::SyncBatch;
use karafka_rs::core::produce::producer::{OutgoingMessage, Producer};
use karafka_rs::core::wait::Interrupt;

pub fn settings(bootstrap: &str) -> Vec<(String, String)> {
    vec![("bootstrap.servers".into(), bootstrap.into())]
}

/// Produces one keyless message per payload and waits until every one was acknowledged.
pub fn produce(bootstrap: &str, topic: &str, payloads: &[String]) {
    let producer = Producer::new(&settings(bootstrap)).unwrap();
    let batch = Arc::new(SyncBatch::new(payloads.len()));
    for (index, payload) in payloads.iter().enumerate() {
        let message = OutgoingMessage {
            topic: topic.into(),
            payload: Some(payload.clone().into_bytes()),
            ..Default::default()
        };
        producer
            .send_blocking(
                &message,
                Some((Arc::clone(&batch), index)),
                &Interrupt::new(),
            )
            .unwrap();
    }
    let reports = batch.wait(&Interrupt::new()).unwrap();
    assert!(reports.iter().all(Result::is_ok), "{reports:?}");
}

/// An engine on the topic "jobs" for `kafka` (which names the group).
pub fn jobs_engine(
    kafka: &[(String, String)],
    max_messages: usize,
    backoff: Backoff,
) -> Arc<Engine> {
    let settings = EngineSettings {
        kafka: kafka.to_vec(),
        topics: vec!["jobs".into()],
        max_messages,
        max_wait: Duration::from_millis(50),
        backoff,
        dead_letters: vec![],
        schedule_topics: vec![],
        virtual_partitions: vec![],
        reset_backoff: Duration::from_secs(1),
    };
    Arc::new(Engine::new(settings).unwrap())
}

/// The consumer loop on its own thread, as the Ruby listener thread runs it, keeping the
/// events it returns in `events`; the thread ends once the engine stopped.
pub fn spawn_listener(engine: &Arc<Engine>, events: &Arc<Mutex<Vec<Event>>>) -> JoinHandle<()> {
    let (engine, events) = (Arc::clone(engine), Arc::clone(events));
    thread::spawn(move || {
        let interrupt = Interrupt::new();
        while engine.run_loop(&interrupt).unwrap() != LoopExit::Stopped {
            events.lock().unwrap().extend(engine.take_events());
        }
    })
}
