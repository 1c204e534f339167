//! Settings of a DHT node: where it binds, whom it asks first, and every bound.

use std::net::SocketAddr;
use std::time::Duration;

use super::node_id::NodeId;

/// How to start a node ([`super::Dht::start`]).
#[derive(Clone, Debug)]
pub struct DhtConfig {
    /// UDP address to bind (`0.0.0.0:6881`; port 0 picks one). Its family is the node's.
    pub bind: SocketAddr,
    /// `host:port` of nodes to join through. Empty: only the saved table and
    /// [`super::Dht::add_node`]. The public routers are [`DhtConfig::default_bootstrap`].
    pub bootstrap: Vec<String>,
    /// Bytes from an earlier [`super::Dht::save`]: its nodes are pinged back in, and its id
    /// is reused unless `node_id` is set.
    pub saved_table: Option<Vec<u8>>,
    /// Our id; random (or the saved one) when `None`.
    pub node_id: Option<NodeId>,
    pub limits: DhtLimits,
}

impl DhtConfig {
    /// A node on `bind` with no bootstrap nodes and default limits.
    pub fn new(bind: SocketAddr) -> Self {
        DhtConfig {
            bind,
            bootstrap: Vec::new(),
            saved_table: None,
            node_id: None,
            limits: DhtLimits::default(),
        }
    }

    /// The well-known public routers (never used by tests).
    pub fn default_bootstrap() -> Vec<String> {
        [
            "router.bittorrent.com:6881",
            "router.utorrent.com:6881",
            "dht.transmissionbt.com:6881",
            "dht.libtorrent.org:25401",
        ]
        .map(String::from)
        .to_vec()
    }
}

/// Every bound of a node. The defaults suit one node per client on the public DHT.
#[derive(Clone, Debug)]
pub struct DhtLimits {
    /// Queries answered per second per remote IP, and the burst allowed.
    pub query_rate_per_ip: u32,
    pub query_burst_per_ip: u32,
    /// Remote IPs tracked by the rate limiter; queries from new IPs beyond it are dropped.
    pub max_tracked_ips: usize,
    /// Info-hashes other nodes may store peers under with us, and peers per info-hash.
    pub max_torrents: usize,
    pub max_peers_per_torrent: usize,
    /// How long an announced peer is kept.
    pub peer_ttl: Duration,
    /// Peers in one `values` reply.
    pub max_values: usize,
    /// Our queries in flight at once, and how long each waits for its answer.
    pub max_pending: usize,
    pub query_timeout: Duration,
    /// Queries in flight per lookup (Kademlia's alpha).
    pub alpha: usize,
    /// Queries one lookup may send in all, and how long it may run.
    pub max_lookup_queries: usize,
    pub lookup_timeout: Duration,
    /// Lookups running at once, and lookups waiting for a slot (more are refused).
    pub max_lookups: usize,
    pub max_queued_lookups: usize,
    /// Distinct peers one lookup reports, and its channel's capacity.
    pub max_peers_per_lookup: usize,
    /// Pings per second to verify new or questionable nodes.
    pub pings_per_second: u32,
    /// Token secret rotation (tokens live one to two periods).
    pub token_period: Duration,
}

impl Default for DhtLimits {
    fn default() -> Self {
        DhtLimits {
            query_rate_per_ip: 20,
            query_burst_per_ip: 60,
            max_tracked_ips: 4096,
            max_torrents: 2000,
            max_peers_per_torrent: 200,
            peer_ttl: Duration::from_secs(30 * 60),
            max_values: 50,
            max_pending: 256,
            query_timeout: Duration::from_secs(2),
            alpha: 4,
            max_lookup_queries: 128,
            lookup_timeout: Duration::from_secs(30),
            max_lookups: 16,
            max_queued_lookups: 1024,
            max_peers_per_lookup: 500,
            pings_per_second: 8,
            token_period: Duration::from_secs(5 * 60),
        }
    }
}
