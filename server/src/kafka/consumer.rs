//! `KAFKA_CONSUME=true`: reads every topic back and publishes other servers' events on this
//! server's hub (marked relayed, so they are not produced again), so that servers sharing one
//! database and one Kafka show every event on every dashboard. Each server has its own
//! consumer group (it must see every partition) and starts at the newest offset.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::Message;
use tokio::sync::watch;

use super::client::{config, log};
use super::envelope::{known_name, Envelope};
use super::{topics, Settings, Status};
use crate::events::EventHub;

/// Largest message accepted (librdkafka refuses bigger ones before they reach us).
const MAX_MESSAGE: &str = "1048576";

struct Ctx {
    status: Arc<Status>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        log(level, fac, msg)
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::debug!(target: "librdkafka", "consumer: {error}: {reason}");
    }
}

impl ConsumerContext for Ctx {
    fn post_rebalance(&self, _: &rdkafka::consumer::BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                tracing::info!("Kafka consumer assigned {} partitions", list.count());
                self.status.set_assigned(list.count());
            }
            Rebalance::Revoke(_) => self.status.set_assigned(0),
            Rebalance::Error(e) => tracing::warn!("Kafka consumer rebalance failed: {e}"),
        }
    }
}

pub fn spawn(
    settings: &Settings,
    hub: EventHub,
    status: Arc<Status>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), KafkaError> {
    let group = format!("torrentedge-{}", settings.server_id);
    let consumer: StreamConsumer<Ctx> = config(
        settings,
        &[
            ("group.id", &group),
            ("auto.offset.reset", "latest"),
            ("enable.auto.commit", "true"),
            ("fetch.max.bytes", MAX_MESSAGE),
            ("max.partition.fetch.bytes", MAX_MESSAGE),
        ],
    )
    .create_with_context(Ctx {
        status: status.clone(),
    })?;
    let names = topics::names(settings);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    consumer.subscribe(&refs)?;
    let me = settings.server_id.clone();
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                m = consumer.recv() => m,
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { return } else { continue },
            };
            let msg = match msg {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!("Kafka consumer: {e}");
                    continue;
                }
            };
            let Some(bytes) = msg.payload() else { continue };
            let env = match Envelope::decode(bytes) {
                Ok(env) => env,
                Err(e) => {
                    tracing::warn!(topic = msg.topic(), offset = msg.offset(), "skipped: {e}");
                    continue;
                }
            };
            if env.server == me {
                continue;
            }
            let Some(name) = known_name(&env.event) else {
                tracing::debug!("skipped unknown event {}", env.event);
                continue;
            };
            tracing::trace!(server = %env.server, id = env.id, time_ms = env.time_ms, "relayed {name}");
            hub.publish_relayed(env.owner, env.private, name, env.data.to_string());
            status.consumed.fetch_add(1, Ordering::Relaxed);
        }
    });
    Ok(())
}
