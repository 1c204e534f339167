//! Creates the topics at start when missing (`KAFKA_PARTITIONS`, `KAFKA_REPLICATION`).
//! Failure is logged, not fatal: the brokers may be down now and the topics made by others.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::types::RDKafkaErrorCode;

use super::client::{config, Logged};
use super::envelope::Topic;
use super::Settings;

const TIMEOUT: Duration = Duration::from_secs(10);

pub fn names(settings: &Settings) -> Vec<String> {
    Topic::ALL
        .iter()
        .map(|t| format!("{}{}", settings.topic_prefix, t.suffix()))
        .collect()
}

pub async fn ensure(settings: &Settings) {
    let admin: AdminClient<Logged> = match config(settings, &[]).create_with_context(Logged) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("cannot create the Kafka admin client: {e}");
            return;
        }
    };
    let names = names(settings);
    let new: Vec<NewTopic> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                settings.partitions,
                TopicReplication::Fixed(settings.replication),
            )
        })
        .collect();
    let opts = AdminOptions::new()
        .operation_timeout(Some(TIMEOUT))
        .request_timeout(Some(TIMEOUT));
    match tokio::time::timeout(TIMEOUT * 2, admin.create_topics(&new, &opts)).await {
        Ok(Ok(results)) => {
            for r in results {
                match r {
                    Ok(name) => tracing::info!("created Kafka topic {name}"),
                    Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((name, code)) => {
                        tracing::warn!("cannot create Kafka topic {name}: {code}")
                    }
                }
            }
        }
        Ok(Err(e)) => tracing::warn!("cannot create Kafka topics {names:?}: {e}"),
        Err(_) => tracing::warn!("Kafka brokers did not answer creating topics {names:?}"),
    }
}
