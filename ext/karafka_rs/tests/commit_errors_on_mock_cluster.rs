//! A refused offset commit reaches Ruby as an error event and is sent again (librdkafka's
//! mock cluster refuses the first commits), and a refusal that persists is not reported once
//! per commit round. Workers here are plain Rust threads standing in for the Ruby workers.

mod common;

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use karafka_rs::core::admin;
use karafka_rs::core::consume::backoff::Backoff;
use karafka_rs::core::event::Event;
use karafka_rs::core::job::Outcome;
use karafka_rs::core::wait::Interrupt;
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use common::{jobs_engine, produce, settings, spawn_listener};

/// Commit rounds the mock broker refuses before it accepts one: a round every 50 ms or so, so
/// they fit in one reporting interval (10 s) or two on a slow machine.
const REFUSED_ROUNDS: usize = 30;

#[test]
fn a_refused_async_commit_is_reported_and_sent_again() {
    let cluster = MockCluster::new(1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    cluster.create_topic("jobs", 1, 1).unwrap();
    let payloads: Vec<String> = (0..10).map(|i| format!("job-{i}")).collect();
    produce(&bootstrap, "jobs", &payloads);
    // The first commits are refused (a non-retriable error), the later ones accepted.
    cluster.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE; REFUSED_ROUNDS],
    );

    let mut kafka = settings(&bootstrap);
    kafka.push(("group.id".into(), "commit-errors".into()));
    let engine = jobs_engine(&kafka, 100, Backoff::default());
    let events = Arc::new(Mutex::new(Vec::new()));
    let listener = spawn_listener(&engine, &events);
    let worker = {
        let engine = Arc::clone(&engine);
        thread::spawn(move || {
            let interrupt = Interrupt::new();
            while engine.wait_for_work(&interrupt).unwrap() {
                if let Some(job) = engine.try_next_job() {
                    engine.complete(job, Outcome::Success);
                }
            }
        })
    };

    let deadline = Instant::now() + Duration::from_secs(20);
    let reported = loop {
        let commit_error = events.lock().unwrap().iter().find_map(|event| match event {
            Event::Error { kind, message } if *kind == "consumer.commit" => Some(message.clone()),
            _ => None,
        });
        if commit_error.is_some() || Instant::now() > deadline {
            break commit_error;
        }
        thread::sleep(Duration::from_millis(20)); // polling interval, bounded by the deadline
    };
    // No job runs after the ten: only the refused commit, sent again, can reach the broker.
    let committed = loop {
        let committed = admin::committed(&kafka, "commit-errors", "jobs").unwrap();
        if committed == vec![(0, 10)] || Instant::now() > deadline {
            break committed;
        }
        thread::sleep(Duration::from_millis(50)); // polling interval, bounded by the deadline
    };
    engine.stop();
    worker.join().unwrap();
    listener.join().unwrap();
    engine.close().unwrap();

    let message = reported.expect("a consumer.commit error event within 20 s");
    assert!(
        message.contains("jobs/0") && message.contains("Offset metadata string too large"),
        "names the partition and the broker's reason: {message}"
    );
    assert_eq!(committed, vec![(0, 10)], "committed before the shutdown");
    let reports = events
        .lock()
        .unwrap()
        .iter()
        .filter(|event| matches!(event, Event::Error { kind, .. } if *kind == "consumer.commit"))
        .count();
    // One per reporting interval: a slow machine may take more than one interval for the
    // refused rounds, but nowhere near one report per round.
    assert!(
        (1..REFUSED_ROUNDS / 3).contains(&reports),
        "{reports} reports of {REFUSED_ROUNDS} refused rounds"
    );
}
