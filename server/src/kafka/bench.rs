//! Producer throughput under a synthetic event load (not a correctness test, so ignored by
//! default): `make bench-kafka` runs it in release mode against librdkafka's mock broker (in
//! this process, so its CPU is counted too) and, when `KAFKA_BENCH_BROKERS` is set, against
//! that real broker. Publishes `torrent:progress` events for 1,000 torrents into the hub as
//! fast as the producer takes them (keeping at most half the local queue waiting) and reports
//! events per second acknowledged by the broker and CPU seconds per million events.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use app::types::ProgressUpdate;
use tokio::sync::watch;

use super::{Kafka, Settings};
use crate::events::{names, EventHub};

const EVENTS: u64 = 500_000;
const TORRENTS: u64 = 1_000;

/// This process's user + system CPU time, from /proc (USER_HZ = 100 on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name (which ends with ')'): state, …, then utime and stime at 11 and 12.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(brokers: &str, label: &str) {
    let settings = Settings::from_vars([
        ("KAFKA_BROKERS".to_owned(), brokers.to_owned()),
        (
            "KAFKA_TOPIC_PREFIX".to_owned(),
            format!("bench{:x}.", rand::random::<u32>()),
        ),
        ("KAFKA_SERVER_ID".to_owned(), "bench".to_owned()),
    ])
    .unwrap()
    .unwrap();
    let hub = EventHub::new(65_536);
    let (_stop, shutdown) = watch::channel(false);
    let kafka = Kafka::start(settings.clone(), &hub, shutdown)
        .await
        .unwrap();
    let status = kafka.status.clone();
    let hashes: Vec<String> = (0..TORRENTS).map(|i| format!("{i:040x}")).collect();
    // Warm up: connection, producer id, topic metadata.
    hub.publish(
        Some(1),
        names::CHAT_MESSAGE,
        &serde_json::json!({"body": "warm"}),
    );
    while status.sent.load(Ordering::Relaxed) < 1 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let limit = i64::from(settings.queue_max / 2);
    for i in 0..EVENTS {
        while status.queued.load(Ordering::Relaxed) > limit {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let ih = &hashes[(i % TORRENTS) as usize];
        hub.publish(
            Some(1),
            names::TORRENT_PROGRESS,
            &ProgressUpdate {
                info_hash: ih.clone(),
                bytes_done: i * 16384,
                total_bytes: 1 << 30,
                progress: (i % 1000) as f64 / 1000.0,
                download_rate: 12_345_678,
                upload_rate: 1_234_567,
                peers: 42,
            },
        );
        if i % 256 == 0 {
            tokio::task::yield_now().await;
        }
    }
    while status.sent.load(Ordering::Relaxed) < EVENTS + 1 {
        assert_eq!(status.dropped.load(Ordering::Relaxed), 0, "events dropped");
        assert_eq!(
            status.failed.load(Ordering::Relaxed),
            0,
            "deliveries failed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    println!(
        "kafka bench [{label}]: {EVENTS} events in {secs:.2} s = {:.0} events/s acknowledged; \
         CPU {cpu:.2} s ({:.0}% of one core, {:.2} CPU-s per million events); dropped 0",
        EVENTS as f64 / secs,
        100.0 * cpu / secs,
        cpu * 1e6 / EVENTS as f64
    );
    kafka.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: make bench-kafka"]
async fn producer_throughput() {
    let mock = rdkafka::mocking::MockCluster::new(1).unwrap();
    run(
        &mock.bootstrap_servers(),
        "librdkafka mock broker, in-process",
    )
    .await;
    if let Ok(brokers) = std::env::var("KAFKA_BENCH_BROKERS") {
        run(&brokers, &format!("real broker {brokers}")).await;
    }
}
