//! A BEP 5 Mainline DHT node (IPv4; IPv6 with BEP 32's `nodes6`/`want` when bound to an
//! IPv6 address): finds peers for an info-hash without a tracker, announces ours, and
//! answers other nodes.
//! One node serves one family; the session runs one per family it listens on
//! (`session::dhts`).
//!
//! # API
//! - [`Dht::start`] binds the UDP socket of [`DhtConfig::bind`] and joins through
//!   [`DhtConfig::bootstrap`] (`host:port` names; [`DhtConfig::default_bootstrap`] lists
//!   the public routers, which tests never use) and/or the nodes of a saved table.
//! - [`Dht::get_peers`] runs an iterative lookup and streams each new peer address on the
//!   returned channel as it arrives; the channel closes when the lookup ends.
//! - [`Dht::announce`] is the same lookup, then `announce_peer` to the (up to) 8 closest
//!   nodes that gave us a token. Run it again every 15 to 30 minutes per torrent: peers
//!   expire from other nodes after about 30 minutes.
//! - [`Dht::add_node`] pings an address (the peer wire's `port` message); it enters the
//!   routing table if it answers.
//! - [`Dht::stats`], [`Dht::save`] (the routing table as bytes for the caller to store and
//!   pass back as [`DhtConfig::saved_table`]) and [`Dht::shutdown`].
//!
//! # Layout
//! `krpc` (message codec; [`parse_krpc`] is the fuzz entry point) · `node_id` (XOR metric)
//! · `routing` (k-buckets) · `tokens` (rotating secrets) · `lookup` (one iterative lookup)
//! · `peers_store` (peers announced to us) · `server` (answers, rate limit) · `persist`
//! (saved table) · `node` (all of it without I/O: `(from, &[u8])` in, datagrams out, so a
//! UDP socket shared with uTP can feed it later) · `driver` (the socket loop) · `config`.
//!
//! # A lookup
//! Candidates sorted by distance to the target, seeded from the table's closest nodes (and
//! the bootstrap addresses while the table has fewer than 8 nodes). At most `alpha` (4)
//! queries are in flight, always to the closest candidates not yet asked among the 8
//! closest that have not failed; each answer adds its `nodes` and, for `get_peers`, its
//! `values` go to the caller and its token is kept. A query fails after 2 s. The lookup
//! ends when the 8 closest live candidates have all answered, after 128 queries, after
//! 30 s, or (for `get_peers` without announce) when the caller drops the channel.
//!
//! # Bounds (all in [`DhtLimits`] unless noted)
//! Datagrams over 4 KiB are dropped unparsed; transaction ids ≤ 16 bytes, tokens ≤ 64,
//! ≤ 16 nodes and ≤ 256 peers kept from one response (`krpc` constants). Queries answered
//! per remote IP: 20/s, bursts of 60, 4096 IPs tracked. Stored: ≤ 2000 info-hashes ×
//! ≤ 200 peers, 30 minutes each. ≤ 256 of our queries in flight, ≤ 16 lookups running and
//! ≤ 1024 queued, ≤ 64 candidates and ≤ 500 peers per lookup, ≤ 8 verification pings a
//! second (unknown queriers beyond that wait in a queue of 64). Routing table: 160
//! buckets × 8 nodes plus 8 replacement candidates each, one entry per address. The
//! saved table is read back up to 8192 nodes. Nothing a remote sends can panic the node.
//!
//! # The table over time
//! A node enters the table only after answering one of our queries (a node that queries
//! us gets a ping first). Joining is a lookup for our own id, then one for a random id in
//! every bucket; afterwards a bucket quiet for 15 minutes gets such a lookup again, and a
//! node not heard from for 15 minutes is pinged. Two missed answers make a node bad: a
//! replacement candidate takes its slot (or, with none, it goes after four).

mod config;
mod driver;
pub mod krpc;
pub mod lookup;
pub mod node;
pub mod node_id;
mod peers_store;
pub mod persist;
pub mod routing;
mod server;
mod tokens;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use config::{DhtConfig, DhtLimits};
pub use krpc::parse as parse_krpc;
pub use node::AnnouncePort;
pub use node_id::NodeId;

use driver::Command;
use node::{LookupKind, LookupRequest, Node};

use crate::InfoHash;

/// Why a DHT call failed.
#[derive(Debug, thiserror::Error)]
pub enum DhtError {
    #[error("cannot bind the DHT socket on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the saved routing table is unusable: {0}")]
    SavedTable(#[from] persist::SavedTableError),
    #[error("the DHT node has stopped")]
    Stopped,
    #[error("the DHT node is busy; try again later")]
    Busy,
}

/// Counters and sizes of a running node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhtStats {
    pub node_id: NodeId,
    /// Nodes in the routing table, and those of them known to be alive.
    pub nodes: usize,
    pub good_nodes: usize,
    pub queries_in: u64,
    pub queries_out: u64,
    pub responses_in: u64,
    pub errors_in: u64,
    pub timeouts: u64,
    /// Datagrams that were not valid KRPC.
    pub malformed: u64,
    /// Queries dropped by the per-IP rate limit.
    pub rate_limited: u64,
    /// Answers to no query of ours (unknown transaction or wrong sender).
    pub unexpected: u64,
    pub in_flight: usize,
    pub lookups_running: usize,
    pub lookups_queued: usize,
    pub lookups_done: u64,
    pub lookups_refused: u64,
    /// `announce_peer` queries we sent, and those that were accepted.
    pub announces_sent: u64,
    pub announces_acked: u64,
    /// Info-hashes and peers other nodes announced to us.
    pub stored_torrents: usize,
    pub stored_peers: usize,
}

/// Capacity of the command channel between the handles and the node.
const COMMANDS: usize = 1024;

/// A handle on a running DHT node. Cheap to clone; the node stops on [`Dht::shutdown`]
/// or when every handle is dropped.
#[derive(Clone)]
pub struct Dht {
    commands: mpsc::Sender<Command>,
    local_addr: SocketAddr,
    node_id: NodeId,
    max_peers: usize,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Dht {
    /// Binds the socket, loads the saved table, and starts joining in the background.
    pub async fn start(config: DhtConfig) -> Result<Dht, DhtError> {
        let socket = UdpSocket::bind(config.bind)
            .await
            .map_err(|source| DhtError::Bind {
                addr: config.bind,
                source,
            })?;
        Self::start_io(config, driver::Io::Own(socket))
    }

    /// Runs on a UDP socket shared with uTP (`crate::utp::UtpSocket::other_datagrams`
    /// feeds `incoming`; answers go out through `udp`); `config.bind` is ignored.
    pub fn start_shared(
        config: DhtConfig,
        udp: Arc<UdpSocket>,
        incoming: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    ) -> Result<Dht, DhtError> {
        Self::start_io(config, driver::Io::Shared { udp, incoming })
    }

    fn start_io(config: DhtConfig, io: driver::Io) -> Result<Dht, DhtError> {
        let saved = match &config.saved_table {
            Some(b) => Some(persist::decode(b)?),
            None => None,
        };
        let node_id = config
            .node_id
            .or(saved.as_ref().map(|(id, _)| *id))
            .unwrap_or_else(NodeId::random);
        let local_addr = io.local_addr().map_err(|source| DhtError::Bind {
            addr: config.bind,
            source,
        })?;
        let nodes = saved.map(|(_, n)| n).unwrap_or_default();
        let max_peers = config.limits.max_peers_per_lookup.max(1);
        let node = Node::new(
            node_id,
            local_addr.is_ipv6(),
            config.limits,
            &nodes,
            std::time::Instant::now(),
        );
        let (tx, rx) = mpsc::channel(COMMANDS);
        let task = tokio::spawn(driver::run(io, node, rx));
        let names = config.bootstrap;
        let bootstrap_tx = tx.clone();
        tokio::spawn(async move {
            let addrs = driver::resolve(names).await;
            let _ = bootstrap_tx.send(Command::Bootstrap(addrs)).await;
        });
        tracing::info!(%local_addr, ?node_id, "DHT node started");
        Ok(Dht {
            commands: tx,
            local_addr,
            node_id,
            max_peers,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }

    /// The bound UDP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn node_id(&self) -> NodeId {
        self.node_id
    }

    fn send(&self, cmd: Command) -> Result<(), DhtError> {
        self.commands.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => DhtError::Busy,
            mpsc::error::TrySendError::Closed(_) => DhtError::Stopped,
        })
    }

    fn lookup(
        &self,
        info_hash: InfoHash,
        announce: Option<AnnouncePort>,
    ) -> Result<mpsc::Receiver<SocketAddr>, DhtError> {
        let (tx, rx) = mpsc::channel(self.max_peers);
        self.send(Command::Lookup(LookupRequest {
            target: info_hash.into(),
            kind: LookupKind::GetPeers,
            peers: Some(tx),
            announce,
        }))?;
        Ok(rx)
    }

    /// Peers of `info_hash`, streamed as the lookup finds them; the channel closes when
    /// the lookup ends (dropping it early cancels the lookup).
    pub fn get_peers(&self, info_hash: InfoHash) -> Result<mpsc::Receiver<SocketAddr>, DhtError> {
        self.lookup(info_hash, None)
    }

    /// [`Dht::get_peers`], then announces us on `port` to the closest nodes. The channel
    /// closes once the announces are sent.
    pub fn announce(
        &self,
        info_hash: InfoHash,
        port: AnnouncePort,
    ) -> Result<mpsc::Receiver<SocketAddr>, DhtError> {
        self.lookup(info_hash, Some(port))
    }

    /// Pings `addr`; it joins the routing table if it answers.
    pub fn add_node(&self, addr: SocketAddr) -> Result<(), DhtError> {
        self.send(Command::AddNode(addr))
    }

    pub async fn stats(&self) -> Result<DhtStats, DhtError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stats(tx))?;
        rx.await.map_err(|_| DhtError::Stopped)
    }

    /// The routing table (and our id) as bytes, for [`DhtConfig::saved_table`].
    pub async fn save(&self) -> Result<Vec<u8>, DhtError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Save(tx))?;
        rx.await.map_err(|_| DhtError::Stopped)
    }

    /// Stops the node and waits for its task (the socket is closed when this returns).
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
