//! The consumer engine and producer end to end on librdkafka's in-process mock cluster
//! (Rust unit level only; the Ruby specs use a real broker). Workers here are plain Rust
//! threads standing in for the Ruby workers.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use karafka_rs::core::admin;
use karafka_rs::core::consume::backoff::Backoff;
use karafka_rs::core::job::Outcome;
use karafka_rs::core::wait::Interrupt;
use rdkafka::mocking::MockCluster;

use common::{jobs_engine, produce, settings, spawn_listener};

#[test]
fn runs_every_job_once_in_partition_order_retries_a_failure_and_commits() {
    let cluster = MockCluster::new(1).unwrap();
    let bootstrap = cluster.bootstrap_servers();
    cluster.create_topic("jobs", 2, 1).unwrap();
    let payloads: Vec<String> = (0..40).map(|i| format!("job-{i}")).collect();
    produce(&bootstrap, "jobs", &payloads);

    let mut kafka = settings(&bootstrap);
    kafka.push(("group.id".into(), "engine-test".into()));
    let backoff = Backoff {
        timeout: Duration::from_millis(10),
        ..Backoff::default()
    };
    let engine = jobs_engine(&kafka, 8, backoff);
    let listener = spawn_listener(&engine, &Arc::new(Mutex::new(Vec::new())));
    let (tx, rx) = std::sync::mpsc::channel();
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let engine = Arc::clone(&engine);
            let tx = tx.clone();
            thread::spawn(move || {
                let interrupt = Interrupt::new();
                let mut failed_once = false;
                // As the Ruby workers do: wait (no claim), then claim with try_next_job.
                while engine.wait_for_work(&interrupt).unwrap() {
                    let Some(job) = engine.try_next_job() else {
                        continue;
                    };
                    let payload = String::from_utf8(job.payload.clone()).unwrap();
                    // job-7 fails on its first attempt only.
                    let outcome = if payload == "job-7" && job.attempt == 0 && !failed_once {
                        failed_once = true;
                        Outcome::Failure
                    } else {
                        tx.send((job.tp.partition, job.offset, payload)).unwrap();
                        Outcome::Success
                    };
                    engine.complete(job, outcome);
                }
            })
        })
        .collect();
    drop(tx);

    let deadline = Instant::now() + Duration::from_secs(30);
    let mut ran = Vec::new();
    while ran.len() < payloads.len() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        ran.push(
            rx.recv_timeout(remaining)
                .expect("all jobs to run before the deadline"),
        );
    }
    engine.stop();
    for worker in workers {
        worker.join().unwrap();
    }
    listener.join().unwrap();
    engine.close().unwrap();

    let mut names: Vec<_> = ran.iter().map(|(_, _, p)| p.clone()).collect();
    names.sort();
    let mut expected = payloads.clone();
    expected.sort();
    assert_eq!(
        names, expected,
        "every job ran exactly once (after its retry)"
    );

    let mut by_partition: HashMap<i32, Vec<i64>> = HashMap::new();
    for (partition, offset, _) in &ran {
        by_partition.entry(*partition).or_default().push(*offset);
    }
    for offsets in by_partition.values() {
        let mut sorted = offsets.clone();
        sorted.sort();
        assert_eq!(offsets, &sorted, "offset order within a partition");
    }

    // Per partition, the committed offset is the next one to read: the number of jobs it held
    // (the keyless messages may all land on one partition; the other then has none, -1).
    for (partition, committed) in admin::committed(&kafka, "engine-test", "jobs").unwrap() {
        let jobs = by_partition.get(&partition).map_or(0, Vec::len) as i64;
        let expected = if jobs == 0 { -1 } else { jobs };
        assert_eq!(
            committed, expected,
            "committed offset of partition {partition}"
        );
    }
}
