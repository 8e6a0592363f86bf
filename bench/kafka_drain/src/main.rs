//! `kafka_drain`: the limit of Kafka delivery for bench/throughput.rb, row (c).
//!
//! A Rust-only consumer with no Ruby and no job engine: it joins a fresh consumer group on a
//! topic, reads it from the earliest offset until it has received `--expect` messages, decodes
//! every payload with serde_json (the job's `job_class` is read; the whole document is parsed),
//! commits offsets asynchronously every 50 ms like the gem's engine does, and finally commits
//! once more and reads the group's offsets back until the broker holds them. The consumer
//! settings are the gem's consumer defaults (ext/karafka_rs/src/core/config.rs), then any
//! `--set key=value` (librdkafka settings, as the server's `config.kafka` would add).
//!
//! ```text
//! kafka_drain --bootstrap 127.0.0.1:9092 --topic T --group G --expect N [--timeout SECONDS]
//!             [--set key=value]...
//! ```
//!
//! Prints one JSON line: `messages`, `decoded` (payloads with a `job_class`), `bytes`,
//! `commits` issued, `cpu` seconds (user + system), and CLOCK_MONOTONIC stamps in seconds
//! (`started`: main() began, `first` / `last`: 1st / N-th message received, `committed`: final
//! commit confirmed). CLOCK_MONOTONIC is system-wide on Linux, so the parent compares them with
//! its own spawn time. Every wait is bounded by `--timeout` (default 600 s): past it the
//! process exits with status 1 and a message on stderr.

use std::process::exit;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde::Deserialize;

/// The gem's default commit interval (DEFAULT_COMMIT_INTERVAL in core/consumer.rs).
const COMMIT_INTERVAL: Duration = Duration::from_millis(50);

struct Args {
    bootstrap: String,
    topic: String,
    group: String,
    expect: usize,
    timeout: Duration,
    settings: Vec<(String, String)>,
}

/// The part of an Active Job payload this reads; serde_json still parses the whole document.
#[derive(Deserialize)]
struct Job {
    job_class: String,
}

fn main() {
    let started = monotonic();
    let args = parse_args();
    let deadline = Instant::now() + args.timeout;
    // CONSUMER_DEFAULTS of ext/karafka_rs/src/core/config.rs: the server's fetch settings.
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.bootstrap)
        .set("group.id", &args.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "10")
        .set("queued.max.messages.kbytes", "4096")
        .set("fetch.queue.backoff.ms", "10")
        .set("enable.partition.eof", "false");
    for (key, value) in &args.settings {
        config.set(key, value);
    }
    let consumer: BaseConsumer = config
        .create()
        .unwrap_or_else(|e| fail(&format!("cannot create the consumer: {e}")));
    consumer
        .subscribe(&[&args.topic])
        .unwrap_or_else(|e| fail(&format!("cannot subscribe to {}: {e}", args.topic)));

    // Next offset to commit, by partition (offset of the last message + 1).
    let mut next: Vec<i64> = Vec::new();
    let (mut messages, mut decoded, mut bytes, mut issued) = (0usize, 0usize, 0usize, 0usize);
    let (mut first, mut last) = (0.0, 0.0);
    let mut last_commit = Instant::now();
    while messages < args.expect {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            fail(&format!(
                "timed out after {} s with {messages}/{} messages",
                args.timeout.as_secs_f64(),
                args.expect
            ));
        }
        match consumer.poll(left.min(COMMIT_INTERVAL)) {
            Some(Ok(message)) => {
                messages += 1;
                if messages == 1 {
                    first = monotonic();
                }
                if messages == args.expect {
                    last = monotonic();
                }
                let payload = message.payload().unwrap_or_default();
                bytes += payload.len();
                if serde_json::from_slice::<Job>(payload).is_ok_and(|job| !job.job_class.is_empty())
                {
                    decoded += 1;
                }
                let partition = message.partition() as usize;
                if next.len() <= partition {
                    next.resize(partition + 1, -1);
                }
                next[partition] = message.offset() + 1;
            }
            Some(Err(e)) => fail(&format!("consume error: {e}")),
            None => {}
        }
        if last_commit.elapsed() >= COMMIT_INTERVAL && !next.is_empty() {
            commit(&consumer, &args.topic, &next);
            issued += 1;
            last_commit = Instant::now();
        }
    }

    // The final commit, then read back until the broker holds it. (rdkafka never delivers the
    // results of asynchronous commits, and a synchronous commit waits without a bound.)
    let list = commit(&consumer, &args.topic, &next);
    issued += 1;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            fail("timed out waiting for the final offset commit");
        }
        match consumer.committed_offsets(list.clone(), left) {
            Ok(committed) if committed.to_topic_map() == list.to_topic_map() => break,
            Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => fail(&format!("reading the committed offsets failed: {e}")),
        }
    }
    let committed = monotonic();

    println!(
        "{}",
        serde_json::json!({
            "messages": messages, "decoded": decoded, "bytes": bytes, "commits": issued,
            "cpu": cpu_seconds(), "started": started, "first": first, "last": last,
            "committed": committed,
        })
    );
    // BaseConsumer's Drop leaves the group in an unbounded loop; the group is thrown away
    // anyway, so exit without it.
    exit(0);
}

/// Asynchronous commit of `next` (the next offset to read, by partition; partitions that
/// received nothing yet are left out). Returns the list committed.
fn commit(consumer: &BaseConsumer, topic: &str, next: &[i64]) -> TopicPartitionList {
    let mut list = TopicPartitionList::new();
    for (partition, &offset) in next.iter().enumerate().filter(|(_, &o)| o >= 0) {
        list.add_partition_offset(topic, partition as i32, Offset::Offset(offset))
            .unwrap_or_else(|e| fail(&format!("bad offset: {e}")));
    }
    consumer
        .commit(&list, CommitMode::Async)
        .unwrap_or_else(|e| fail(&format!("offset commit failed: {e}")));
    list
}

fn parse_args() -> Args {
    let mut args = Args {
        bootstrap: "127.0.0.1:9092".into(),
        topic: String::new(),
        group: String::new(),
        expect: 0,
        timeout: Duration::from_secs(600),
        settings: Vec::new(),
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let value = argv
            .next()
            .unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--bootstrap" => args.bootstrap = value,
            "--topic" => args.topic = value,
            "--group" => args.group = value,
            "--expect" => args.expect = value.parse().unwrap_or_else(|_| fail("bad --expect")),
            "--timeout" => {
                let seconds: f64 = value.parse().unwrap_or_else(|_| fail("bad --timeout"));
                args.timeout = Duration::from_secs_f64(seconds);
            }
            "--set" => match value.split_once('=') {
                Some((key, value)) => args.settings.push((key.into(), value.into())),
                None => fail("--set needs key=value"),
            },
            _ => fail(&format!("unknown argument {flag}")),
        }
    }
    if args.topic.is_empty() || args.group.is_empty() || args.expect == 0 {
        fail("usage: kafka_drain [--bootstrap HOST:PORT] --topic T --group G --expect N [--timeout S] [--set key=value]...");
    }
    args
}

/// CLOCK_MONOTONIC in seconds: the clock of Ruby's `Process.clock_gettime(CLOCK_MONOTONIC)`.
fn monotonic() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// User + system CPU seconds of this process so far (all threads, librdkafka's included).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn fail(message: &str) -> ! {
    eprintln!("kafka_drain: {message}");
    exit(1);
}
