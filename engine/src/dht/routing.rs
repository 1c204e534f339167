//! The routing table: 160 k-buckets indexed by the number of leading bits a node's id
//! shares with ours (a fully split Kademlia tree), plus a small replacement cache per
//! bucket.
//!
//! Only nodes that answered one of our queries enter as good; nodes loaded from a saved
//! table enter as unverified and are pinged. A node that misses [`MAX_FAILS`] queries in
//! a row is bad: the next candidate for its bucket takes its place. One entry per
//! address, so a host cannot take a bucket by inventing ids.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::krpc::CompactNode;
use super::node_id::NodeId;

/// Nodes per bucket (BEP 5's K).
pub const K: usize = 8;
/// Consecutive unanswered queries after which a node is bad.
pub const MAX_FAILS: u8 = 2;
/// A node not heard from for this long is questionable (BEP 5).
pub const GOOD_FOR: Duration = Duration::from_secs(15 * 60);

const BUCKETS: usize = 160;

#[derive(Clone, Debug)]
pub struct Entry {
    pub id: NodeId,
    pub addr: SocketAddr,
    /// When it last answered us; `None` if never (loaded from a saved table).
    pub last_seen: Option<Instant>,
    /// When we last pinged it to check it.
    pub last_ping: Option<Instant>,
    pub fails: u8,
}

impl Entry {
    fn is_bad(&self) -> bool {
        self.fails >= MAX_FAILS
    }

    fn is_good(&self, now: Instant) -> bool {
        self.fails == 0
            && self
                .last_seen
                .is_some_and(|t| now.duration_since(t) < GOOD_FOR)
    }
}

struct Bucket {
    nodes: Vec<Entry>,
    /// Verified candidates waiting for a slot, newest last.
    replacements: Vec<Entry>,
    /// Last time a node was added or answered (BEP 5 refreshes quiet buckets).
    changed: Instant,
}

/// What [`RoutingTable::heard_from`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Insert {
    Added,
    Updated,
    /// The bucket is full of good nodes: kept as a replacement candidate.
    Candidate,
    /// Our own id, or an address already in the table under another id.
    Ignored,
}

pub struct RoutingTable {
    own: NodeId,
    buckets: Vec<Bucket>,
    by_addr: HashMap<SocketAddr, NodeId>,
}

impl RoutingTable {
    pub fn new(own: NodeId, now: Instant) -> Self {
        RoutingTable {
            own,
            buckets: (0..BUCKETS)
                .map(|_| Bucket {
                    nodes: Vec::new(),
                    replacements: Vec::new(),
                    changed: now,
                })
                .collect(),
            by_addr: HashMap::new(),
        }
    }

    pub fn own_id(&self) -> NodeId {
        self.own
    }

    /// Nodes in the table.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// `id` at `addr` answered a query of ours (`verified`), or was loaded from a saved
    /// table (not verified: it is pinged before it counts as good).
    pub fn heard_from(
        &mut self,
        id: NodeId,
        addr: SocketAddr,
        verified: bool,
        now: Instant,
    ) -> Insert {
        let Some(b) = self.own.bucket_index(&id) else {
            return Insert::Ignored;
        };
        if let Some(known) = self.by_addr.get(&addr) {
            if *known != id {
                return Insert::Ignored;
            }
        }
        let entry = Entry {
            id,
            addr,
            last_seen: verified.then_some(now),
            last_ping: None,
            fails: 0,
        };
        let bucket = &mut self.buckets[b];
        if let Some(e) = bucket.nodes.iter_mut().find(|e| e.id == id) {
            if e.addr != addr {
                // Same id from another address: keep the one we know.
                return Insert::Ignored;
            }
            if verified {
                e.last_seen = Some(now);
                e.fails = 0;
                bucket.changed = now;
            }
            return Insert::Updated;
        }
        if bucket.nodes.len() < K {
            bucket.nodes.push(entry);
            bucket.changed = now;
            self.by_addr.insert(addr, id);
            return Insert::Added;
        }
        if let Some(i) = bucket.nodes.iter().position(Entry::is_bad) {
            let old = std::mem::replace(&mut bucket.nodes[i], entry);
            self.by_addr.remove(&old.addr);
            self.by_addr.insert(addr, id);
            bucket.changed = now;
            return Insert::Added;
        }
        if verified {
            bucket.replacements.retain(|e| e.id != id && e.addr != addr);
            if bucket.replacements.len() >= K {
                bucket.replacements.remove(0);
            }
            bucket.replacements.push(entry);
        }
        Insert::Candidate
    }

    /// `id` at `addr` sent us a query: a node that has answered us before stays good
    /// (BEP 5). Returns whether it is in the table.
    pub fn queried_by(&mut self, id: NodeId, addr: SocketAddr, now: Instant) -> bool {
        if self.by_addr.get(&addr) != Some(&id) {
            return false;
        }
        let Some(b) = self.own.bucket_index(&id) else {
            return false;
        };
        if let Some(e) = self.buckets[b].nodes.iter_mut().find(|e| e.id == id) {
            if e.last_seen.is_some() {
                e.last_seen = Some(now);
                e.fails = 0;
            }
        }
        true
    }

    /// Whether a new node with `id` could enter the table now (its bucket has room or a
    /// node that is not good): worth a ping to verify it.
    pub fn wants(&self, id: &NodeId, now: Instant) -> bool {
        let Some(b) = self.own.bucket_index(id) else {
            return false;
        };
        let bucket = &self.buckets[b];
        bucket.nodes.len() < K || bucket.nodes.iter().any(|e| !e.is_good(now))
    }

    /// A query to `addr` went unanswered. A node that is now bad gives its slot to the
    /// newest replacement candidate, if there is one.
    pub fn failed(&mut self, addr: SocketAddr) {
        let Some(id) = self.by_addr.get(&addr).copied() else {
            return;
        };
        let Some(b) = self.own.bucket_index(&id) else {
            return;
        };
        let bucket = &mut self.buckets[b];
        let Some(i) = bucket.nodes.iter().position(|e| e.id == id) else {
            return;
        };
        let e = &mut bucket.nodes[i];
        e.fails = e.fails.saturating_add(1);
        if !e.is_bad() {
            return;
        }
        while let Some(r) = bucket.replacements.pop() {
            if self.by_addr.contains_key(&r.addr) {
                continue;
            }
            let old = std::mem::replace(&mut bucket.nodes[i], r);
            self.by_addr.remove(&old.addr);
            self.by_addr
                .insert(bucket.nodes[i].addr, bucket.nodes[i].id);
            return;
        }
        // No candidate: a node that keeps failing is dropped after all.
        if bucket.nodes[i].fails >= MAX_FAILS * 2 {
            let old = bucket.nodes.remove(i);
            self.by_addr.remove(&old.addr);
        }
    }

    /// Up to `n` non-bad nodes closest to `target` of the given family.
    pub fn closest(&self, target: &NodeId, n: usize, v6: bool) -> Vec<CompactNode> {
        let mut all: Vec<&Entry> = self
            .buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .filter(|e| !e.is_bad() && e.addr.is_ipv6() == v6)
            .collect();
        let key = |e: &&Entry| e.id.distance(target);
        if all.len() > n && n > 0 {
            all.select_nth_unstable_by_key(n - 1, key);
            all.truncate(n);
        }
        all.sort_unstable_by_key(key);
        all.into_iter()
            .take(n)
            .map(|e| CompactNode {
                id: e.id,
                addr: e.addr,
            })
            .collect()
    }

    /// Up to `max` nodes to ping now: unverified or questionable ones not pinged within
    /// `interval`. Marks them as pinged.
    pub fn to_ping(
        &mut self,
        now: Instant,
        interval: Duration,
        max: usize,
    ) -> Vec<(NodeId, SocketAddr)> {
        let mut out = Vec::new();
        for e in self.buckets.iter_mut().flat_map(|b| b.nodes.iter_mut()) {
            if out.len() >= max {
                break;
            }
            let recently_pinged = e
                .last_ping
                .is_some_and(|t| now.duration_since(t) < interval);
            if !e.is_good(now) && !recently_pinged {
                e.last_ping = Some(now);
                out.push((e.id, e.addr));
            }
        }
        out
    }

    /// Buckets, up to the deepest non-empty one, where nothing changed for `quiet`;
    /// marks them as refreshed. Each gets a lookup for a random id inside it.
    pub fn buckets_to_refresh(&mut self, now: Instant, quiet: Duration) -> Vec<usize> {
        let deepest = self.buckets.iter().rposition(|b| !b.nodes.is_empty());
        let Some(deepest) = deepest else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, b) in self.buckets.iter_mut().enumerate().take(deepest + 1) {
            if now.duration_since(b.changed) >= quiet {
                b.changed = now;
                out.push(i);
            }
        }
        out
    }

    /// Every node (for saving the table).
    pub fn nodes(&self) -> impl Iterator<Item = CompactNode> + '_ {
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .map(|e| CompactNode {
                id: e.id,
                addr: e.addr,
            })
    }

    /// Whether `addr` is in the table.
    pub fn contains_addr(&self, addr: &SocketAddr) -> bool {
        self.by_addr.contains_key(addr)
    }

    /// Good nodes (answered within [`GOOD_FOR`], no failures since).
    pub fn good(&self, now: Instant) -> usize {
        self.buckets
            .iter()
            .flat_map(|b| b.nodes.iter())
            .filter(|e| e.is_good(now))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(i: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 10_000 + i))
    }

    #[test]
    fn buckets_hold_k_and_keep_candidates() {
        let t0 = Instant::now();
        let me = NodeId::random();
        let mut t = RoutingTable::new(me, t0);
        for i in 0..K as u16 {
            assert_eq!(
                t.heard_from(me.random_in_bucket(0), addr(i), true, t0),
                Insert::Added
            );
        }
        let extra = me.random_in_bucket(0);
        assert_eq!(t.heard_from(extra, addr(100), true, t0), Insert::Candidate);
        assert_eq!(t.len(), K);
        assert!(!t.contains_addr(&addr(100)));
        // A bucket member fails twice: the candidate takes its place.
        t.failed(addr(3));
        assert!(t.contains_addr(&addr(3)), "one miss is not enough");
        t.failed(addr(3));
        assert!(!t.contains_addr(&addr(3)));
        assert!(t.contains_addr(&addr(100)));
        assert_eq!(t.len(), K);
        // Our own id and an address reused under a new id are ignored.
        assert_eq!(t.heard_from(me, addr(200), true, t0), Insert::Ignored);
        assert_eq!(
            t.heard_from(me.random_in_bucket(5), addr(1), true, t0),
            Insert::Ignored
        );
    }

    #[test]
    fn closest_sorts_by_distance_and_filters_family() {
        let t0 = Instant::now();
        let me = NodeId([0; 20]);
        let mut t = RoutingTable::new(me, t0);
        for b in 0..40u16 {
            t.heard_from(me.random_in_bucket(b as usize), addr(b), true, t0);
        }
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        t.heard_from(me.random_in_bucket(50), v6, true, t0);
        let target = me.random_in_bucket(30);
        let c = t.closest(&target, 8, false);
        assert_eq!(c.len(), 8);
        for w in c.windows(2) {
            assert!(w[0].id.distance(&target) <= w[1].id.distance(&target));
        }
        assert_eq!(
            me.bucket_index(&c[0].id),
            Some(30),
            "the node in the target's bucket is closest"
        );
        assert_eq!(t.closest(&target, 8, true).len(), 1);
        assert_eq!(t.closest(&target, 0, false).len(), 0);
    }

    #[test]
    fn pings_unverified_and_refreshes_quiet_buckets() {
        let t0 = Instant::now();
        let me = NodeId::random();
        let mut t = RoutingTable::new(me, t0);
        t.heard_from(me.random_in_bucket(0), addr(1), false, t0);
        t.heard_from(me.random_in_bucket(3), addr(2), true, t0);
        let p = t.to_ping(t0, Duration::from_secs(60), 10);
        assert_eq!(p.len(), 1, "only the unverified node");
        assert!(
            t.to_ping(t0, Duration::from_secs(60), 10).is_empty(),
            "not twice in a row"
        );
        let later = t0 + GOOD_FOR;
        assert_eq!(t.to_ping(later, Duration::from_secs(60), 10).len(), 2);
        assert_eq!(t.buckets_to_refresh(later, GOOD_FOR), vec![0, 1, 2, 3]);
        assert!(t.buckets_to_refresh(later, GOOD_FOR).is_empty());
        assert_eq!(t.good(t0), 1);
    }
}
