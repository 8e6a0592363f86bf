//! What the mock-cluster tests share: client settings and producing their jobs.

use std::sync::Arc;

use karafka_rs::core::delivery::SyncBatch;
use karafka_rs::core::producer::{JobProducer, OutgoingMessage};
use karafka_rs::core::wait::Interrupt;

pub fn settings(bootstrap: &str) -> Vec<(String, String)> {
    vec![("bootstrap.servers".into(), bootstrap.into())]
}

/// Produces one keyless message per payload and waits until every one was acknowledged.
pub fn produce(bootstrap: &str, topic: &str, payloads: &[String]) {
    let producer = JobProducer::new(&settings(bootstrap)).unwrap();
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
