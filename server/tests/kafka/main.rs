//! The Kafka adapter (`--features kafka`) end to end: the real `torrentedge serve` produces to
//! a broker on loopback and these tests read the topics back with their own consumer. The
//! broker is librdkafka's mock cluster by default and the real `tansu` broker under
//! `make test-kafka` (see broker.rs).

#[path = "../api/sse.rs"]
mod sse;
#[path = "../api/support.rs"]
mod support;

mod broker;
mod cli;
mod consume;
mod delivery;
mod outage;

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::Message;
use reqwest::Method;
use serde_json::Value;

use support::*;

/// A fresh topic prefix per test, so tests sharing a broker never see each other.
pub fn prefix() -> String {
    format!("te{:08x}.", rand_u32())
}

fn rand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    t.subsec_nanos() ^ (std::process::id() << 8)
}

/// A server with the Kafka adapter pointed at `broker`.
pub fn kafka_options(backend: Backend, brokers: &str, prefix: &str, server_id: &str) -> Options {
    Options::new(backend)
        .env("KAFKA_BROKERS", brokers)
        .env("KAFKA_TOPIC_PREFIX", prefix)
        .env("KAFKA_SERVER_ID", server_id)
        .env("KAFKA_HEALTH_INTERVAL_MS", "300")
        .env("CHAT_RATE_LIMIT", "0")
}

/// One message read back.
#[derive(Clone, Debug)]
pub struct Got {
    pub topic: String,
    pub partition: i32,
    pub key: String,
    pub env: Value,
}

/// Reads every topic of `prefix` from the beginning.
pub struct Reader {
    consumer: StreamConsumer,
    pub got: Vec<Got>,
}

impl Reader {
    pub fn new(brokers: &str, prefix: &str) -> Reader {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", format!("{prefix}test-{}", rand_u32()))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("topic.metadata.refresh.interval.ms", "1000")
            .create()
            .expect("test consumer");
        let topics: Vec<String> = ["torrents", "chat", "notifications"]
            .iter()
            .map(|t| format!("{prefix}{t}"))
            .collect();
        let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer.subscribe(&refs).expect("subscribe");
        Reader {
            consumer,
            got: Vec::new(),
        }
    }

    /// Reads until `done(all read so far)` holds; panics after `wait`.
    pub async fn until(&mut self, wait: Duration, what: &str, done: impl Fn(&[Got]) -> bool) {
        let deadline = Instant::now() + wait;
        while !done(&self.got) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "Kafka never had {what}; read {} messages: {:#?}",
                self.got.len(),
                self.got.iter().map(|g| &g.env).collect::<Vec<_>>()
            );
            match tokio::time::timeout(left.min(Duration::from_millis(500)), self.consumer.recv())
                .await
            {
                Ok(Ok(m)) => {
                    let env: Value = serde_json::from_slice(m.payload().unwrap_or_default())
                        .expect("every message is a JSON envelope");
                    self.got.push(Got {
                        topic: m.topic().to_owned(),
                        partition: m.partition(),
                        key: String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                        env,
                    });
                }
                Ok(Err(e)) => eprintln!("test consumer: {e}"),
                Err(_) => {}
            }
        }
    }

    /// Whatever else arrives within `wait`.
    pub async fn settle(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        self.until(wait + Duration::from_secs(1), "", |_| {
            Instant::now() >= deadline
        })
        .await;
    }

    /// The chat bodies read, in order.
    pub fn chat_bodies(&self) -> Vec<String> {
        self.got
            .iter()
            .filter(|g| g.env["event"] == "chat:message")
            .map(|g| g.env["data"]["body"].as_str().unwrap_or("").to_owned())
            .collect()
    }
}

/// /api/health as `token`'s holder sees it (details only for a signed-in caller).
pub async fn health(srv: &Server, token: &str) -> (reqwest::StatusCode, Value) {
    srv.call(Method::GET, "/api/health", Some(token), None)
        .await
}

/// Polls /api/health until `pred(body)`.
pub async fn wait_health(
    srv: &Server,
    token: &str,
    what: &str,
    wait: Duration,
    pred: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + wait;
    loop {
        let (_, h) = health(srv, token).await;
        if pred(&h) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "health never became {what}: {h}\n{}",
            srv.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One `torrentedge_kafka_*` value from /metrics.
pub async fn metric(srv: &Server, token: &str, name: &str) -> i64 {
    let text = srv
        .req(Method::GET, "/metrics", Some(token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
        .parse()
        .unwrap()
}

pub async fn chat(srv: &Server, token: &str, body: &str) {
    let (s, b) = srv
        .post("/api/chat", token, serde_json::json!({ "body": body }))
        .await;
    assert_eq!(s, reqwest::StatusCode::CREATED, "{b}");
}
