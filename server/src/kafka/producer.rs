//! The hub → Kafka producer: an idempotent librdkafka producer whose bounded queue holds
//! events while the brokers are away (no message timeout: they wait until delivered), a
//! hub subscriber that enqueues every local event, and a probe that tells health whether the
//! brokers answer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use tokio::sync::{broadcast, watch};

use super::client::{config, log};
use super::envelope::{self, Topic};
use super::{Settings, Status};
use crate::events::{EventHub, HubEvent};

/// How long shutdown waits for queued events to reach the brokers.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Counts delivery reports.
struct Ctx {
    status: Arc<Status>,
}

impl ClientContext for Ctx {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, msg: &str) {
        log(level, fac, msg)
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown)
            && self
                .status
                .set_reachable(false, format!("all brokers down: {reason}"))
        {
            tracing::warn!("Kafka unreachable ({reason}); events are queued");
        } else {
            tracing::debug!(target: "librdkafka", "{error}: {reason}");
        }
    }
}

impl ProducerContext for Ctx {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.status.sent.fetch_add(1, Ordering::Relaxed),
            Err((e, _)) => {
                tracing::warn!("Kafka delivery failed: {e}");
                self.status.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

pub struct Producer {
    inner: ThreadedProducer<Ctx>,
}

impl Producer {
    pub fn start(
        settings: &Settings,
        hub: &EventHub,
        status: Arc<Status>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Producer, KafkaError> {
        let queue_max = settings.queue_max.to_string();
        let queue_kb = settings.queue_max_kb.to_string();
        let inner: ThreadedProducer<Ctx> = config(
            settings,
            &[
                ("enable.idempotence", "true"),
                // Never expire: a message waits for the brokers as long as the queue holds it.
                ("message.timeout.ms", "0"),
                ("queue.buffering.max.messages", &queue_max),
                ("queue.buffering.max.kbytes", &queue_kb),
                ("linger.ms", "5"),
                ("compression.codec", "lz4"),
            ],
        )
        .create_with_context(Ctx {
            status: status.clone(),
        })?;
        let producer = Producer { inner };
        // Subscribed before returning, so no event published after start is missed.
        let live = hub.subscribe(None).live;
        let server_json = serde_json::Value::String(settings.server_id.clone()).to_string();
        let topics: Vec<String> = Topic::ALL
            .iter()
            .map(|t| format!("{}{}", settings.topic_prefix, t.suffix()))
            .collect();
        let pump = Pump {
            producer: producer.inner.clone(),
            status: status.clone(),
            server_json,
            topics,
            warned_full: false,
        };
        tokio::spawn(pump.run(live, shutdown.clone()));
        tokio::spawn(probe(
            producer.inner.clone(),
            status,
            settings.health_interval,
            shutdown,
        ));
        Ok(producer)
    }

    pub async fn close(&self) {
        let p = self.inner.clone();
        let left = tokio::task::spawn_blocking(move || {
            let _ = p.flush(CLOSE_TIMEOUT);
            p.in_flight_count()
        })
        .await
        .unwrap_or(0);
        if left > 0 {
            tracing::warn!("{left} events were still queued for Kafka at shutdown");
        }
    }
}

/// Moves hub events into the producer's queue.
struct Pump {
    producer: ThreadedProducer<Ctx>,
    status: Arc<Status>,
    server_json: String,
    topics: Vec<String>,
    warned_full: bool,
}

impl Pump {
    async fn run(
        mut self,
        mut live: broadcast::Receiver<Arc<HubEvent>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                r = live.recv() => match r {
                    Ok(ev) => self.send(&ev),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("Kafka producer fell {n} events behind the hub");
                        self.status.dropped.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { break },
            }
        }
        // Whatever the hub still holds for us (published just before shutdown).
        while let Ok(ev) = live.try_recv() {
            self.send(&ev);
        }
    }

    fn send(&mut self, ev: &HubEvent) {
        if ev.relayed {
            return;
        }
        let Some(topic) = Topic::of(ev.name) else {
            return;
        };
        let key = envelope::key(topic, ev);
        let payload = envelope::encode(ev, &self.server_json, now_ms());
        let name = &self.topics[topic as usize];
        match self
            .producer
            .send(BaseRecord::to(name).key(&key).payload(&payload))
        {
            Ok(()) => self.warned_full = false,
            Err((e, _)) => {
                self.status.dropped.fetch_add(1, Ordering::Relaxed);
                if !self.warned_full {
                    tracing::warn!("event not queued for Kafka: {e}");
                    self.warned_full = true;
                }
            }
        }
        self.status.queued.store(
            i64::from(self.producer.in_flight_count()),
            Ordering::Relaxed,
        );
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Asks the brokers for metadata every `interval`: the truth for `/api/health`.
async fn probe(
    producer: ThreadedProducer<Ctx>,
    status: Arc<Status>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let p = producer.clone();
        let timeout = interval.clamp(Duration::from_millis(500), Duration::from_secs(5));
        let result = tokio::task::spawn_blocking(move || {
            let md = p.client().fetch_metadata(None, timeout);
            (md.map(|m| m.brokers().len()), p.in_flight_count())
        })
        .await;
        let Ok((md, queued)) = result else { return };
        status.queued.store(i64::from(queued), Ordering::Relaxed);
        let changed = match md {
            Ok(n) => status.set_reachable(true, format!("{n} brokers")),
            Err(e) => status.set_reachable(false, e.to_string()),
        };
        if changed {
            if status.reachable() {
                tracing::info!("Kafka reachable again; {queued} queued events follow");
            } else {
                tracing::warn!(
                    "Kafka unreachable; events are queued (up to {})",
                    status.queue_max
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { return },
        }
    }
}
