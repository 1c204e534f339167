//! What the Kafka adapter reports: delivery counters for `/metrics` and broker reachability
//! for `/api/health`. Written by the producer's threads, read by handlers.

use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

use app::types::ComponentHealth;

#[derive(Default)]
pub struct Status {
    /// Acknowledged by the brokers.
    pub sent: AtomicU64,
    /// Given up on by librdkafka (a permanent error).
    pub failed: AtomicU64,
    /// Never queued: the local queue was full, or the producer fell behind the hub.
    pub dropped: AtomicU64,
    /// Waiting in the local queue or in flight (refreshed by the producer).
    pub queued: AtomicI64,
    /// Read back from Kafka and shown here (`KAFKA_CONSUME`).
    pub consumed: AtomicU64,
    pub queue_max: u64,
    reachable: AtomicBool,
    detail: Mutex<String>,
    /// Partitions assigned to this server's consumer; None when it does not consume.
    consumer: Mutex<Option<usize>>,
}

impl Status {
    pub fn new(queue_max: u64, consume: bool) -> Status {
        Status {
            queue_max,
            detail: Mutex::new("connecting".into()),
            consumer: Mutex::new(consume.then_some(0)),
            ..Default::default()
        }
    }

    /// Records a probe's outcome; returns whether reachability changed.
    pub fn set_reachable(&self, ok: bool, detail: String) -> bool {
        *self.detail.lock().unwrap_or_else(|e| e.into_inner()) = detail;
        self.reachable.swap(ok, Ordering::Relaxed) != ok
    }

    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    pub fn set_assigned(&self, partitions: usize) {
        *self.consumer.lock().unwrap_or_else(|e| e.into_inner()) = Some(partitions);
    }

    /// For `/api/health`: not ok while the brokers cannot be reached (events wait in the
    /// local queue up to its bound).
    pub fn health(&self) -> ComponentHealth {
        let ok = self.reachable();
        let detail = self
            .detail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut text = format!(
            "{}{detail}; {} queued of {}",
            if ok { "" } else { "brokers unreachable: " },
            self.queued.load(Ordering::Relaxed).max(0),
            self.queue_max
        );
        if let Some(n) = *self.consumer.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = write!(text, "; consuming {n} partitions");
        }
        ComponentHealth { ok, detail: text }
    }

    /// The `torrentedge_kafka_*` lines of `/metrics`.
    pub fn render_metrics(&self, out: &mut String) {
        let rows: [(&str, &str, &str, i64); 6] = [
            (
                "torrentedge_kafka_sent_total",
                "Events the Kafka brokers acknowledged.",
                "counter",
                self.sent.load(Ordering::Relaxed) as i64,
            ),
            (
                "torrentedge_kafka_failed_total",
                "Events librdkafka gave up delivering.",
                "counter",
                self.failed.load(Ordering::Relaxed) as i64,
            ),
            (
                "torrentedge_kafka_dropped_total",
                "Events never queued for Kafka (local queue full or producer behind).",
                "counter",
                self.dropped.load(Ordering::Relaxed) as i64,
            ),
            (
                "torrentedge_kafka_queued",
                "Events waiting in the local Kafka queue or in flight.",
                "gauge",
                self.queued.load(Ordering::Relaxed).max(0),
            ),
            (
                "torrentedge_kafka_consumed_total",
                "Events of other servers read from Kafka and shown here.",
                "counter",
                self.consumed.load(Ordering::Relaxed) as i64,
            ),
            (
                "torrentedge_kafka_up",
                "1 when the Kafka brokers answer.",
                "gauge",
                i64::from(self.reachable()),
            ),
        ];
        for (name, help, kind, value) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_follows_the_probe_and_metrics_show_counters() {
        let s = Status::new(10, true);
        assert!(!s.health().ok, "not ok before the first probe");
        assert!(s.set_reachable(true, "2 brokers".into()));
        assert!(!s.set_reachable(true, "2 brokers".into()));
        s.set_assigned(3);
        s.queued.store(4, Ordering::Relaxed);
        let h = s.health();
        assert!(h.ok);
        assert_eq!(
            h.detail,
            "2 brokers; 4 queued of 10; consuming 3 partitions"
        );
        s.sent.fetch_add(5, Ordering::Relaxed);
        let mut m = String::new();
        s.render_metrics(&mut m);
        assert!(m.contains("\ntorrentedge_kafka_sent_total 5\n"), "{m}");
        assert!(m.contains("\ntorrentedge_kafka_queued 4\n"), "{m}");
        assert!(m.contains("\ntorrentedge_kafka_up 1\n"), "{m}");
    }
}
