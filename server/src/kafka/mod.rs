//! Kafka adapter (`--features kafka`): one more subscriber of the event hub that sends every
//! event to Kafka (topics, payloads and settings in docs/kafka.md), and, with
//! `KAFKA_CONSUME=true`, a consumer that shows other servers' events on this server's stream.
//! Without the feature only the settings and the envelope exist, so that `KAFKA_BROKERS` on
//! such a build is refused instead of ignored.

pub mod envelope;
pub mod settings;
mod status;

#[cfg(all(test, feature = "kafka"))]
mod bench;
#[cfg(feature = "kafka")]
mod client;
#[cfg(feature = "kafka")]
mod consumer;
#[cfg(feature = "kafka")]
pub mod follow;
#[cfg(feature = "kafka")]
mod producer;
#[cfg(feature = "kafka")]
mod topics;

use std::sync::Arc;

use tokio::sync::watch;

use crate::events::EventHub;
pub use settings::Settings;
pub use status::Status;

/// The running adapter.
pub struct Kafka {
    pub status: Arc<Status>,
    #[cfg(feature = "kafka")]
    producer: producer::Producer,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("KAFKA_BROKERS is set but this torrentedge was built without the `kafka` feature")]
    NotBuiltIn,
    #[cfg(feature = "kafka")]
    #[error("cannot create the Kafka client: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
}

impl Kafka {
    /// Starts the adapter when `KAFKA_BROKERS` is set: creates missing topics, subscribes the
    /// producer to `hub`, and starts the consumer if asked. Unreachable brokers do not stop the
    /// server: events wait in the bounded local queue and health says so.
    pub async fn start_from_env(
        hub: &EventHub,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Option<Kafka>, StartError> {
        let Some(settings) = Settings::from_env()? else {
            return Ok(None);
        };
        Kafka::start(settings, hub, shutdown).await.map(Some)
    }

    #[cfg(not(feature = "kafka"))]
    pub async fn start(
        _settings: Settings,
        _hub: &EventHub,
        _shutdown: watch::Receiver<bool>,
    ) -> Result<Kafka, StartError> {
        Err(StartError::NotBuiltIn)
    }

    #[cfg(feature = "kafka")]
    pub async fn start(
        settings: Settings,
        hub: &EventHub,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Kafka, StartError> {
        let status = Arc::new(Status::new(u64::from(settings.queue_max), settings.consume));
        topics::ensure(&settings).await;
        let producer = producer::Producer::start(&settings, hub, status.clone(), shutdown.clone())?;
        if settings.consume {
            consumer::spawn(&settings, hub.clone(), status.clone(), shutdown)?;
        }
        tracing::info!(
            brokers = %settings.brokers,
            prefix = %settings.topic_prefix,
            consume = settings.consume,
            server = %settings.server_id,
            "Kafka adapter started"
        );
        Ok(Kafka { status, producer })
    }

    /// At shutdown: waits (a bounded time) for queued events to reach the brokers.
    pub async fn close(&self) {
        #[cfg(feature = "kafka")]
        self.producer.close().await;
    }
}
