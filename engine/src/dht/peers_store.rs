//! Peers other nodes announced to us (`announce_peer`), served back in `get_peers`.
//!
//! Bounded on both axes because remotes fill it: at most `max_torrents` info-hashes
//! (the least recently announced one is evicted for a new one) and `max_peers` peers per
//! info-hash (the oldest announcement is replaced). Entries expire after `ttl`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::seq::IteratorRandom;

use super::node_id::NodeId;

pub struct PeerStore {
    swarms: HashMap<NodeId, Swarm>,
    max_torrents: usize,
    max_peers: usize,
    ttl: Duration,
}

struct Swarm {
    peers: HashMap<SocketAddr, Instant>,
    last_announce: Instant,
}

impl PeerStore {
    pub fn new(max_torrents: usize, max_peers: usize, ttl: Duration) -> Self {
        PeerStore {
            swarms: HashMap::new(),
            max_torrents: max_torrents.max(1),
            max_peers: max_peers.max(1),
            ttl,
        }
    }

    /// Records `peer` for `info_hash` (refreshing it if known).
    pub fn announce(&mut self, info_hash: NodeId, peer: SocketAddr, now: Instant) {
        if !self.swarms.contains_key(&info_hash) && self.swarms.len() >= self.max_torrents {
            let oldest = self
                .swarms
                .iter()
                .min_by_key(|(_, s)| s.last_announce)
                .map(|(k, _)| *k);
            if let Some(k) = oldest {
                self.swarms.remove(&k);
            }
        }
        let swarm = self.swarms.entry(info_hash).or_insert_with(|| Swarm {
            peers: HashMap::new(),
            last_announce: now,
        });
        swarm.last_announce = now;
        if !swarm.peers.contains_key(&peer) && swarm.peers.len() >= self.max_peers {
            let oldest = swarm.peers.iter().min_by_key(|(_, t)| **t).map(|(a, _)| *a);
            if let Some(a) = oldest {
                swarm.peers.remove(&a);
            }
        }
        swarm.peers.insert(peer, now);
    }

    /// Up to `max` peers of `info_hash` in the family `v6` asks for, chosen at random.
    pub fn get(&self, info_hash: &NodeId, v6: bool, max: usize) -> Vec<SocketAddr> {
        let Some(s) = self.swarms.get(info_hash) else {
            return Vec::new();
        };
        s.peers
            .keys()
            .filter(|a| a.is_ipv6() == v6)
            .copied()
            .choose_multiple(&mut rand::rng(), max)
    }

    /// Drops announcements older than the time-to-live and swarms left empty.
    pub fn expire(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.swarms.retain(|_, s| {
            s.peers.retain(|_, t| now.duration_since(*t) < ttl);
            !s.peers.is_empty()
        });
    }

    /// Info-hashes stored.
    pub fn torrents(&self) -> usize {
        self.swarms.len()
    }

    /// Peers stored over all info-hashes.
    pub fn peers(&self) -> usize {
        self.swarms.values().map(|s| s.peers.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(i: u16) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, 1], 1000 + i))
    }

    #[test]
    fn caps_peers_per_hash_and_hashes() {
        let t0 = Instant::now();
        let mut s = PeerStore::new(3, 5, Duration::from_secs(60));
        let ih = NodeId([1; 20]);
        for i in 0..20 {
            s.announce(ih, peer(i), t0 + Duration::from_millis(u64::from(i)));
        }
        let got = s.get(&ih, false, 100);
        assert_eq!(got.len(), 5);
        assert!(got.contains(&peer(19)), "the newest stays");
        assert!(!got.contains(&peer(0)), "the oldest went");
        assert_eq!(s.get(&ih, false, 2).len(), 2);
        assert!(s.get(&ih, true, 10).is_empty(), "no IPv6 peers stored");
        for h in 2..10u8 {
            s.announce(
                NodeId([h; 20]),
                peer(0),
                t0 + Duration::from_secs(u64::from(h)),
            );
        }
        assert_eq!(s.torrents(), 3);
        assert!(s.get(&NodeId([9; 20]), false, 10).len() == 1);
        assert!(
            s.get(&ih, false, 10).is_empty(),
            "least recent hash evicted"
        );
    }

    #[test]
    fn entries_expire() {
        let t0 = Instant::now();
        let mut s = PeerStore::new(10, 10, Duration::from_secs(60));
        let ih = NodeId([1; 20]);
        s.announce(ih, peer(1), t0);
        s.announce(ih, peer(2), t0 + Duration::from_secs(40));
        s.expire(t0 + Duration::from_secs(70));
        assert_eq!(s.get(&ih, false, 10), vec![peer(2)]);
        s.expire(t0 + Duration::from_secs(200));
        assert_eq!(s.torrents(), 0);
        assert_eq!(s.peers(), 0);
    }
}
