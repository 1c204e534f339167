//! DHT nodes in tests: loopback-only bootstrap, and waiting on a node's counters.

use std::net::SocketAddr;
use std::time::Duration;

use engine::dht::{Dht, DhtConfig, DhtLimits, DhtStats};

/// A node on `bind` joining through `bootstrap` (loopback only). Every node of a test shares
/// one address, so the per-IP query limit is raised.
pub fn dht_config(bind: SocketAddr, bootstrap: &[SocketAddr]) -> DhtConfig {
    let mut c = DhtConfig::new(bind);
    for b in bootstrap {
        assert!(b.ip().is_loopback(), "tests bootstrap from loopback only");
    }
    c.bootstrap = bootstrap.iter().map(ToString::to_string).collect();
    c.limits = DhtLimits {
        query_rate_per_ip: 100_000,
        query_burst_per_ip: 100_000,
        ..DhtLimits::default()
    };
    c
}

/// Waits up to `limit` until `f` holds for the node's counters.
pub async fn wait_dht_stats(
    d: &Dht,
    what: &str,
    limit: Duration,
    f: impl Fn(&DhtStats) -> bool,
) -> DhtStats {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let s = d.stats().await.expect("node running");
        if f(&s) {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {s:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
