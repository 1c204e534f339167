//! `torrentedge events --kafka`: prints every message of the topics as one JSON line, from
//! the newest offset on, or the oldest kept (its own throw-away consumer group).

use std::io::Write;

use anyhow::Context;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;

use super::client::{config, Logged};
use super::envelope::Envelope;
use super::{topics, Settings};

/// Prints up to `count` events (forever when None), from the oldest kept when `from_start`.
pub async fn follow(count: Option<u64>, from_start: bool) -> anyhow::Result<()> {
    let settings = Settings::from_env()?.context("KAFKA_BROKERS is not set")?;
    let group = format!("torrentedge-cli-{:016x}", rand::random::<u64>());
    let consumer: StreamConsumer<Logged> = config(
        &settings,
        &[
            ("group.id", &group),
            (
                "auto.offset.reset",
                if from_start { "earliest" } else { "latest" },
            ),
            ("enable.auto.commit", "false"),
        ],
    )
    .create_with_context(Logged)
    .context("cannot create the Kafka consumer")?;
    let names = topics::names(&settings);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    consumer.subscribe(&refs)?;
    let mut printed = 0u64;
    let mut out = std::io::stdout().lock();
    while count.is_none_or(|c| printed < c) {
        let msg = consumer.recv().await.context("reading from Kafka")?;
        let Some(bytes) = msg.payload() else { continue };
        // Only envelopes: whatever else shares the topics is not ours to print.
        if Envelope::decode(bytes).is_err() {
            continue;
        }
        out.write_all(bytes)?;
        out.write_all(b"\n")?;
        out.flush()?;
        printed += 1;
    }
    Ok(())
}
