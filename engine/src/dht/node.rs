//! The node without I/O: datagrams in through [`Node::handle_datagram`], timers through
//! [`Node::tick`], datagrams out through [`Node::take_outgoing`]. The socket loop
//! (`driver.rs`) or, later, a UDP socket shared with uTP feeds it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::config::DhtLimits;
use super::krpc::{self, Body, CompactNode, KrpcError, Message, Method, Response, Want};
use super::lookup::{self, Lookup};
use super::node_id::NodeId;
use super::peers_store::PeerStore;
use super::routing::{Insert, RoutingTable, K};
use super::server::{self, RateLimiter};
use super::tokens::Tokens;
use super::{persist, DhtStats};

/// Our client version in `v`: "TE" and version 0.1.
const VERSION: &[u8] = b"TE\x00\x01";
/// How often maintenance (pings) runs, and the slow chores (refresh, expiry, tokens).
const PING_EVERY: Duration = Duration::from_secs(1);
const CHORES_EVERY: Duration = Duration::from_secs(60);
/// A bucket with no news for this long gets a refresh lookup (BEP 5).
const REFRESH_AFTER: Duration = Duration::from_secs(15 * 60);
/// A questionable node is pinged at most this often.
const REPING_AFTER: Duration = Duration::from_secs(60);
/// Unknown queriers remembered for a ping when the budget allows.
const MAX_TO_VERIFY: usize = 64;
/// Re-bootstrap this often while the table is empty.
const REBOOTSTRAP_EVERY: Duration = Duration::from_secs(30);

/// What a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKind {
    FindNode,
    GetPeers,
}

/// Announce after a `get_peers` lookup: our port, or the UDP source port (implied).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnouncePort {
    Port(u16),
    Implied,
}

/// A lookup to run.
pub struct LookupRequest {
    pub target: NodeId,
    pub kind: LookupKind,
    /// Peers found (`get_peers`) are sent here; dropped when the lookup ends.
    pub peers: Option<mpsc::Sender<std::net::SocketAddr>>,
    pub announce: Option<AnnouncePort>,
}

struct Running {
    req: LookupRequest,
    lookup: Lookup,
    started: Instant,
    peers_seen: HashSet<SocketAddr>,
}

#[derive(Clone, Copy, Debug)]
enum Purpose {
    Ping,
    Lookup(u64),
    Announce,
}

struct Pending {
    addr: SocketAddr,
    sent: Instant,
    purpose: Purpose,
}

#[derive(Default, Clone, Copy)]
struct Counters {
    queries_in: u64,
    queries_out: u64,
    responses_in: u64,
    errors_in: u64,
    timeouts: u64,
    malformed: u64,
    rate_limited: u64,
    unexpected: u64,
    lookups_done: u64,
    lookups_refused: u64,
    announces_sent: u64,
    announces_acked: u64,
}

pub struct Node {
    limits: DhtLimits,
    v6: bool,
    table: RoutingTable,
    tokens: Tokens,
    store: PeerStore,
    limiter: RateLimiter,
    pending: HashMap<u32, Pending>,
    next_tid: u32,
    lookups: HashMap<u64, Running>,
    queue: VecDeque<LookupRequest>,
    next_lookup: u64,
    bootstrap: Vec<SocketAddr>,
    out: Vec<(SocketAddr, Vec<u8>)>,
    counters: Counters,
    ping_budget: u32,
    /// Unknown nodes that queried us, waiting for ping budget (bounded).
    to_verify: VecDeque<SocketAddr>,
    last_ping_round: Instant,
    last_chores: Instant,
    last_bootstrap: Option<Instant>,
    /// The running lookup for our own id; when it ends, every bucket gets refreshed
    /// (Kademlia's join), so a new node is known beyond its closest neighbours.
    join_lookup: Option<u64>,
}

impl Node {
    /// A node with id `own` whose socket is IPv6 if `v6`; `saved` nodes are pinged in.
    pub fn new(
        own: NodeId,
        v6: bool,
        limits: DhtLimits,
        saved: &[CompactNode],
        now: Instant,
    ) -> Self {
        let mut table = RoutingTable::new(own, now);
        for n in saved.iter().filter(|n| n.addr.is_ipv6() == v6) {
            table.heard_from(n.id, n.addr, false, now);
        }
        Node {
            tokens: Tokens::new(now, limits.token_period),
            store: PeerStore::new(
                limits.max_torrents,
                limits.max_peers_per_torrent,
                limits.peer_ttl,
            ),
            limiter: RateLimiter::new(
                limits.query_rate_per_ip,
                limits.query_burst_per_ip,
                limits.max_tracked_ips,
            ),
            v6,
            table,
            pending: HashMap::new(),
            next_tid: rand::random(),
            lookups: HashMap::new(),
            queue: VecDeque::new(),
            next_lookup: 0,
            bootstrap: Vec::new(),
            out: Vec::new(),
            counters: Counters::default(),
            ping_budget: limits.pings_per_second,
            to_verify: VecDeque::new(),
            last_ping_round: now,
            last_chores: now,
            last_bootstrap: None,
            join_lookup: None,
            limits,
        }
    }

    pub fn own_id(&self) -> NodeId {
        self.table.own_id()
    }

    /// Sets the bootstrap addresses and joins: a lookup for our own id.
    pub fn bootstrap(&mut self, addrs: Vec<SocketAddr>, now: Instant) {
        self.bootstrap = addrs
            .into_iter()
            .filter(|a| a.is_ipv6() == self.v6)
            .collect();
        self.join(now);
    }

    fn join(&mut self, now: Instant) {
        self.last_bootstrap = Some(now);
        if self.bootstrap.is_empty() && self.table.is_empty() {
            return;
        }
        let own = self.own_id();
        self.join_lookup = Some(self.next_lookup + self.queue.len() as u64);
        self.start_lookup(
            LookupRequest {
                target: own,
                kind: LookupKind::FindNode,
                peers: None,
                announce: None,
            },
            now,
        );
    }

    /// A lookup for a random id in each bucket up to the deepest non-empty one (`quiet`:
    /// only buckets with no news for that long).
    fn refresh(&mut self, quiet: Duration, now: Instant) {
        let own = self.own_id();
        for b in self.table.buckets_to_refresh(now, quiet) {
            let req = LookupRequest {
                target: own.random_in_bucket(b),
                kind: LookupKind::FindNode,
                peers: None,
                announce: None,
            };
            self.start_lookup(req, now);
        }
    }

    /// Pings `addr`; it enters the table if it answers (BEP 5's `port` message, or a
    /// node the user names).
    pub fn add_node(&mut self, addr: SocketAddr, now: Instant) {
        if addr.is_ipv6() == self.v6 && !self.table.contains_addr(&addr) && !self.ping_pending(addr)
        {
            self.send_query(addr, Method::Ping, Purpose::Ping, now);
        }
    }

    /// Queues a lookup; refused (its channel closes at once) when the queue is full.
    pub fn start_lookup(&mut self, req: LookupRequest, now: Instant) {
        if self.lookups.len() < self.limits.max_lookups {
            self.run_lookup(req, now);
        } else if self.queue.len() < self.limits.max_queued_lookups {
            self.queue.push_back(req);
        } else {
            self.counters.lookups_refused += 1;
        }
    }

    fn run_lookup(&mut self, req: LookupRequest, now: Instant) {
        let params = lookup::Params {
            alpha: self.limits.alpha.max(1),
            k: K,
            max_candidates: 64,
            max_queries: self.limits.max_lookup_queries,
        };
        let mut l = Lookup::new(req.target, params);
        for n in self.table.closest(&req.target, K * 2, self.v6) {
            l.add(Some(n.id), n.addr);
        }
        if self.table.len() < K {
            for a in &self.bootstrap {
                l.add(None, *a);
            }
        }
        let mut run = Running {
            req,
            lookup: l,
            started: now,
            peers_seen: HashSet::new(),
        };
        // Peers announced to us count too: we are a node of this DHT.
        if run.req.kind == LookupKind::GetPeers {
            let local = self
                .store
                .get(&run.req.target, self.v6, self.limits.max_values);
            report_peers(&mut run, &local, self.limits.max_peers_per_lookup);
        }
        let id = self.next_lookup;
        self.next_lookup += 1;
        self.lookups.insert(id, run);
        self.drive(id, now);
    }

    /// Sends the lookup's next queries; finishes it when it is done.
    fn drive(&mut self, id: u64, now: Instant) {
        let room = self.limits.max_pending.saturating_sub(self.pending.len());
        let Some(run) = self.lookups.get_mut(&id) else {
            return;
        };
        let addrs = if room >= self.limits.alpha.max(1) {
            run.lookup.next_queries()
        } else {
            Vec::new()
        };
        let target = run.req.target;
        let method = match run.req.kind {
            LookupKind::FindNode => Method::FindNode {
                target,
                want: Want::default(),
            },
            LookupKind::GetPeers => Method::GetPeers {
                info_hash: target,
                want: Want::default(),
            },
        };
        for a in addrs {
            self.send_query(a, method.clone(), Purpose::Lookup(id), now);
        }
        if self.lookups.get(&id).is_some_and(|r| r.lookup.is_done()) {
            self.finish(id, now);
        }
    }

    fn finish(&mut self, id: u64, now: Instant) {
        let Some(run) = self.lookups.remove(&id) else {
            return;
        };
        self.counters.lookups_done += 1;
        if self.join_lookup == Some(id) {
            self.join_lookup = None;
            self.refresh(Duration::ZERO, now);
        }
        if let Some(port) = run.req.announce {
            let (port, implied_port) = match port {
                AnnouncePort::Port(p) => (p, false),
                AnnouncePort::Implied => (0, true),
            };
            for (addr, token) in run.lookup.closest_with_tokens(K) {
                let m = Method::AnnouncePeer {
                    info_hash: run.req.target,
                    port,
                    implied_port,
                    token,
                };
                if self.send_query(addr, m, Purpose::Announce, now) {
                    self.counters.announces_sent += 1;
                }
            }
        }
        drop(run);
        while self.lookups.len() < self.limits.max_lookups {
            let Some(next) = self.queue.pop_front() else {
                break;
            };
            self.run_lookup(next, now);
        }
    }

    fn send_query(
        &mut self,
        addr: SocketAddr,
        method: Method,
        purpose: Purpose,
        now: Instant,
    ) -> bool {
        if self.pending.len() >= self.limits.max_pending {
            return false;
        }
        let mut tid = self.next_tid;
        while self.pending.contains_key(&tid) {
            tid = tid.wrapping_add(1);
        }
        self.next_tid = tid.wrapping_add(1);
        let mut m = Message::query(tid.to_be_bytes().to_vec(), self.own_id(), method);
        m.version = Some(VERSION.to_vec());
        self.out.push((addr, m.encode()));
        self.pending.insert(
            tid,
            Pending {
                addr,
                sent: now,
                purpose,
            },
        );
        self.counters.queries_out += 1;
        true
    }

    fn ping_pending(&self, addr: SocketAddr) -> bool {
        self.pending
            .values()
            .any(|p| p.addr == addr && matches!(p.purpose, Purpose::Ping))
    }

    fn reply(&mut self, to: SocketAddr, mut m: Message) {
        m.version = Some(VERSION.to_vec());
        self.out.push((to, m.encode()));
    }

    /// Handles one datagram from `from`. Never panics; bad input is counted and dropped.
    pub fn handle_datagram(&mut self, from: SocketAddr, data: &[u8], now: Instant) {
        let msg = match krpc::parse(data) {
            Ok(m) => m,
            Err(KrpcError::BadQuery { tid, field }) => {
                self.counters.malformed += 1;
                if self.limiter.allow(from.ip(), now) {
                    let text = format!("bad argument `{field}`");
                    self.reply(from, Message::error(tid, krpc::codes::PROTOCOL, &text));
                }
                return;
            }
            Err(e) => {
                self.counters.malformed += 1;
                tracing::trace!(%from, error = %e, "dropped a malformed DHT packet");
                return;
            }
        };
        match msg.body {
            Body::Query(q) => {
                if !self.limiter.allow(from.ip(), now) {
                    self.counters.rate_limited += 1;
                    return;
                }
                self.counters.queries_in += 1;
                let mut ctx = server::Context {
                    table: &self.table,
                    tokens: &self.tokens,
                    store: &mut self.store,
                    max_values: self.limits.max_values,
                    now,
                };
                let reply = server::answer(&mut ctx, from, msg.tid, &q);
                self.reply(from, reply);
                let in_table = self.table.queried_by(q.id, from, now);
                let wanted = !in_table && !msg.read_only && self.table.wants(&q.id, now);
                if wanted && !self.ping_pending(from) && !self.to_verify.contains(&from) {
                    // A node we could use: it enters the table once it answers a ping.
                    if self.ping_budget > 0 {
                        self.ping_budget -= 1;
                        self.add_node(from, now);
                    } else if self.to_verify.len() < MAX_TO_VERIFY {
                        self.to_verify.push_back(from);
                    }
                }
            }
            Body::Response(r) => self.on_response(from, &msg.tid, r, msg.read_only, now),
            Body::Error { code, message } => {
                let Some(p) = self.take_pending(from, &msg.tid) else {
                    return;
                };
                self.counters.errors_in += 1;
                tracing::debug!(%from, code, %message, "DHT error reply");
                if let Purpose::Lookup(id) = p.purpose {
                    if let Some(run) = self.lookups.get_mut(&id) {
                        run.lookup.failed(from);
                    }
                    self.drive(id, now);
                }
            }
        }
    }

    /// The pending query `tid` if it was sent to `from` (else the packet is ignored).
    fn take_pending(&mut self, from: SocketAddr, tid: &[u8]) -> Option<Pending> {
        let tid = <[u8; 4]>::try_from(tid).map(u32::from_be_bytes);
        match tid.ok().and_then(|t| Some((t, self.pending.get(&t)?))) {
            Some((t, p)) if p.addr == from => self.pending.remove(&t),
            _ => {
                self.counters.unexpected += 1;
                None
            }
        }
    }

    fn on_response(
        &mut self,
        from: SocketAddr,
        tid: &[u8],
        r: Response,
        read_only: bool,
        now: Instant,
    ) {
        let Some(p) = self.take_pending(from, tid) else {
            return;
        };
        self.counters.responses_in += 1;
        if !read_only && self.table.heard_from(r.id, from, true, now) == Insert::Added {
            tracing::trace!(%from, "DHT node added");
        }
        match p.purpose {
            Purpose::Ping => {}
            Purpose::Announce => self.counters.announces_acked += 1,
            Purpose::Lookup(id) => {
                let own = self.own_id();
                let nodes = if self.v6 { r.nodes6 } else { r.nodes };
                let nodes: Vec<CompactNode> = nodes
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|n| n.id != own && n.addr.is_ipv6() == self.v6)
                    .collect();
                let max_peers = self.limits.max_peers_per_lookup;
                if let Some(run) = self.lookups.get_mut(&id) {
                    run.lookup.responded(from, r.id, r.token, &nodes);
                    if let Some(values) = &r.values {
                        report_peers(run, values, max_peers);
                    }
                }
                self.drive(id, now);
            }
        }
    }

    /// Timeouts, lookups that ran too long or lost their reader, pings and chores.
    pub fn tick(&mut self, now: Instant) {
        let timeout = self.limits.query_timeout;
        let expired: Vec<u32> = self
            .pending
            .iter()
            .filter(|(_, p)| now.duration_since(p.sent) >= timeout)
            .map(|(t, _)| *t)
            .collect();
        for tid in expired {
            let Some(p) = self.pending.remove(&tid) else {
                continue;
            };
            self.counters.timeouts += 1;
            self.table.failed(p.addr);
            if let Purpose::Lookup(id) = p.purpose {
                if let Some(run) = self.lookups.get_mut(&id) {
                    run.lookup.failed(p.addr);
                }
            }
        }
        let limit = self.limits.lookup_timeout;
        let ids: Vec<u64> = self.lookups.keys().copied().collect();
        for id in ids {
            let Some(run) = self.lookups.get(&id) else {
                continue;
            };
            let abandoned =
                run.req.announce.is_none() && run.req.peers.as_ref().is_some_and(|p| p.is_closed());
            if abandoned || now.duration_since(run.started) >= limit {
                self.finish(id, now);
            } else {
                // Also resumes lookups that waited for room in `pending`.
                self.drive(id, now);
            }
        }
        if now.duration_since(self.last_ping_round) >= PING_EVERY {
            self.last_ping_round = now;
            self.ping_budget = self.limits.pings_per_second;
            while self.ping_budget > 0 {
                let Some(addr) = self.to_verify.pop_front() else {
                    break;
                };
                self.ping_budget -= 1;
                self.add_node(addr, now);
            }
            let budget = self.ping_budget as usize;
            let room = self.limits.max_pending.saturating_sub(self.pending.len()) / 2;
            for (_, addr) in self.table.to_ping(now, REPING_AFTER, budget.min(room)) {
                self.ping_budget = self.ping_budget.saturating_sub(1);
                self.send_query(addr, Method::Ping, Purpose::Ping, now);
            }
        }
        if now.duration_since(self.last_chores) >= CHORES_EVERY {
            self.last_chores = now;
            self.tokens.tick(now);
            self.store.expire(now);
            self.limiter.prune(now);
            self.refresh(REFRESH_AFTER, now);
        }
        let rebootstrap = self
            .last_bootstrap
            .is_some_and(|t| now.duration_since(t) >= REBOOTSTRAP_EVERY);
        if self.table.is_empty() && rebootstrap && !self.bootstrap.is_empty() {
            self.join(now);
        }
    }

    /// Datagrams to send, oldest first.
    pub fn take_outgoing(&mut self) -> std::vec::Drain<'_, (SocketAddr, Vec<u8>)> {
        self.out.drain(..)
    }

    /// Whether anything waits on a timer (queries or lookups in flight).
    pub fn busy(&self) -> bool {
        !self.pending.is_empty() || !self.lookups.is_empty()
    }

    /// The routing table, to persist.
    pub fn save(&self) -> Vec<u8> {
        persist::encode(self.own_id(), self.table.nodes())
    }

    pub fn stats(&self, now: Instant) -> DhtStats {
        let c = self.counters;
        DhtStats {
            node_id: self.own_id(),
            nodes: self.table.len(),
            good_nodes: self.table.good(now),
            queries_in: c.queries_in,
            queries_out: c.queries_out,
            responses_in: c.responses_in,
            errors_in: c.errors_in,
            timeouts: c.timeouts,
            malformed: c.malformed,
            rate_limited: c.rate_limited,
            unexpected: c.unexpected,
            in_flight: self.pending.len(),
            lookups_running: self.lookups.len(),
            lookups_queued: self.queue.len(),
            lookups_done: c.lookups_done,
            lookups_refused: c.lookups_refused,
            announces_sent: c.announces_sent,
            announces_acked: c.announces_acked,
            stored_torrents: self.store.torrents(),
            stored_peers: self.store.peers(),
        }
    }
}

/// Sends the lookup's reader the peers it has not seen yet, up to `max` in all. A full
/// channel drops peers rather than blocking the node.
fn report_peers(run: &mut Running, peers: &[SocketAddr], max: usize) {
    let Some(tx) = &run.req.peers else {
        return;
    };
    for p in peers {
        if run.peers_seen.len() >= max {
            return;
        }
        if run.peers_seen.insert(*p) {
            let _ = tx.try_send(*p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> (Node, Instant) {
        let now = Instant::now();
        (
            Node::new(NodeId::random(), false, DhtLimits::default(), &[], now),
            now,
        )
    }

    /// Delivers every datagram between in-memory nodes until none is left.
    fn settle(nodes: &mut [(SocketAddr, Node)], now: Instant) {
        for _ in 0..200 {
            let mut sent = Vec::new();
            for (from, n) in nodes.iter_mut() {
                sent.extend(n.take_outgoing().map(|(to, d)| (*from, to, d)));
            }
            if sent.is_empty() {
                return;
            }
            for (from, to, data) in sent {
                if let Some((_, n)) = nodes.iter_mut().find(|(a, _)| *a == to) {
                    n.handle_datagram(from, &data, now);
                }
            }
        }
        panic!("the nodes never went quiet");
    }

    #[test]
    fn answers_ping_and_learns_the_querier() {
        let (mut n, now) = node();
        let peer: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let q = Message::query(b"q1".to_vec(), NodeId([3; 20]), Method::Ping);
        n.handle_datagram(peer, &q.encode(), now);
        let out: Vec<_> = n.take_outgoing().collect();
        assert_eq!(out.len(), 2, "a reply and a ping back");
        let reply = krpc::parse(&out[0].1).unwrap();
        assert_eq!(reply.tid, b"q1");
        assert!(matches!(reply.body, Body::Response(ref r) if r.id == n.own_id()));
        // The ping back is answered: the querier enters the table.
        let ping = krpc::parse(&out[1].1).unwrap();
        let pong = Message::response(
            ping.tid,
            Response {
                id: NodeId([3; 20]),
                ..Response::default()
            },
        );
        n.handle_datagram(peer, &pong.encode(), now);
        assert_eq!(n.stats(now).nodes, 1);
        // A response with an unknown transaction, or from another address, is ignored.
        n.handle_datagram("127.0.0.1:9001".parse().unwrap(), &pong.encode(), now);
        assert_eq!(n.stats(now).unexpected, 1);
    }

    #[test]
    fn malformed_packets_are_counted_and_bad_queries_get_error_203() {
        let (mut n, now) = node();
        let peer: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        n.handle_datagram(peer, b"garbage", now);
        n.handle_datagram(peer, &[b'l'; 10_000], now);
        assert_eq!(n.take_outgoing().count(), 0);
        n.handle_datagram(peer, b"d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe", now);
        let out: Vec<_> = n.take_outgoing().collect();
        let e = krpc::parse(&out[0].1).unwrap();
        assert!(matches!(
            e.body,
            Body::Error {
                code: krpc::codes::PROTOCOL,
                ..
            }
        ));
        assert_eq!(n.stats(now).malformed, 3);
    }

    #[test]
    fn rate_limit_drops_floods() {
        let (mut n, now) = node();
        let peer: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        let q = Message::query(b"q1".to_vec(), NodeId([3; 20]), Method::Ping).encode();
        for _ in 0..1000 {
            n.handle_datagram(peer, &q, now);
        }
        let s = n.stats(now);
        assert_eq!(
            s.queries_in,
            u64::from(DhtLimits::default().query_burst_per_ip)
        );
        assert_eq!(s.rate_limited, 1000 - s.queries_in);
    }

    /// Three in-memory nodes: C announces, A (who knows only B) finds C's peer.
    #[test]
    fn announce_then_get_peers_across_nodes() {
        announce_then_get_peers("127.0.0.1".parse().unwrap());
    }

    /// The same over IPv6 (BEP 32: `nodes6`, 18-byte peers).
    #[test]
    fn announce_then_get_peers_across_ipv6_nodes() {
        announce_then_get_peers("::1".parse().unwrap());
    }

    fn announce_then_get_peers(ip: std::net::IpAddr) {
        let now = Instant::now();
        let addrs: Vec<SocketAddr> = (0..3).map(|i| SocketAddr::new(ip, 9100 + i)).collect();
        let mut nodes: Vec<(SocketAddr, Node)> = addrs
            .iter()
            .map(|a| {
                let n = Node::new(
                    NodeId::random(),
                    ip.is_ipv6(),
                    DhtLimits::default(),
                    &[],
                    now,
                );
                (*a, n)
            })
            .collect();
        nodes[0].1.bootstrap(vec![addrs[1]], now);
        nodes[2].1.bootstrap(vec![addrs[1]], now);
        settle(&mut nodes, now);
        let ih = NodeId([0x42; 20]);
        nodes[2].1.start_lookup(
            LookupRequest {
                target: ih,
                kind: LookupKind::GetPeers,
                peers: None,
                announce: Some(AnnouncePort::Port(7777)),
            },
            now,
        );
        settle(&mut nodes, now);
        assert!(nodes[2].1.stats(now).announces_acked >= 1);
        let (tx, mut rx) = mpsc::channel(16);
        nodes[0].1.start_lookup(
            LookupRequest {
                target: ih,
                kind: LookupKind::GetPeers,
                peers: Some(tx),
                announce: None,
            },
            now,
        );
        settle(&mut nodes, now);
        assert_eq!(rx.try_recv().ok(), Some(SocketAddr::new(ip, 7777)));
        assert!(rx.try_recv().is_err(), "one peer, then the stream ends");
        assert_eq!(nodes[0].1.stats(now).lookups_running, 0);
    }

    /// More unknown queriers than ping budget: the rest are pinged in the next seconds.
    #[test]
    fn unknown_queriers_beyond_the_budget_are_pinged_later() {
        let (mut n, now) = node();
        let budget = DhtLimits::default().pings_per_second as usize;
        let pings = |n: &mut Node| {
            n.take_outgoing()
                .filter(|(_, d)| d.windows(6).any(|w| w == b"4:ping"))
                .count()
        };
        for i in 0..20u16 {
            let q = Message::query(b"q1".to_vec(), NodeId::random(), Method::Ping).encode();
            let from = SocketAddr::from(([127, 0, 0, 1], 9000 + i));
            n.handle_datagram(from, &q, now);
            n.handle_datagram(from, &q, now); // a second query does not cost a second ping
        }
        assert_eq!(pings(&mut n), budget);
        n.tick(now + Duration::from_secs(1));
        assert_eq!(pings(&mut n), budget);
        n.tick(now + Duration::from_secs(2));
        assert_eq!(pings(&mut n), 20 - 2 * budget);
    }

    #[test]
    fn unanswered_queries_time_out() {
        let (mut n, now) = node();
        n.add_node("127.0.0.1:9999".parse().unwrap(), now);
        assert_eq!(n.take_outgoing().count(), 1);
        assert!(n.busy());
        n.tick(now + Duration::from_secs(3));
        assert_eq!(n.stats(now).timeouts, 1);
        assert!(!n.busy());
    }
}
