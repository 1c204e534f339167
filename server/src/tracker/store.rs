//! The swarms the tracker knows: per info-hash, the peers that announced lately, kept apart
//! by address family (IPv4 peers go to `peers`, IPv6 to `peers6`), with counts of seeders,
//! leechers and completed downloads.
//!
//! Bounded: at most `max_torrents` swarms and `max_peers` peers each (a new peer past the
//! cap still gets an answer, it is just not remembered); a peer that misses announces for
//! `peer_ttl` is dropped by [`Store::sweep`]. The swarms are spread over shards, each behind
//! its own mutex held only for one announce, so announces of different torrents rarely wait.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::query::Event;

const SHARDS: usize = 64;

/// Limits of the store.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_torrents: usize,
    pub max_peers: usize,
    /// Most peers handed out per announce.
    pub max_numwant: usize,
    /// Handed out when the client does not say.
    pub default_numwant: usize,
    /// A peer not heard from for this long is dropped.
    pub peer_ttl: Duration,
}

/// One announce, protocol-neutral.
#[derive(Clone, Copy, Debug)]
pub struct Announce {
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
    pub addr: SocketAddr,
    pub left: u64,
    pub event: Event,
    pub numwant: Option<u32>,
}

/// Counts of one swarm (the API's type).
pub use app::types::SwarmCounts as Counts;

/// What an announce gets back: the swarm's counts and peers of the announcer's family first.
#[derive(Debug, Default)]
pub struct Reply {
    pub counts: Counts,
    pub peers4: Vec<([u8; 20], SocketAddr)>,
    pub peers6: Vec<([u8; 20], SocketAddr)>,
}

/// Why an announce is not stored.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("tracker is full")]
    Full,
}

#[derive(Clone, Copy)]
struct Peer<const N: usize> {
    id: [u8; 20],
    addr: [u8; N],
    seeder: bool,
    /// Seconds since the store's epoch at the last announce.
    seen: u32,
}

/// Compact forms: 4 + 2 and 16 + 2 bytes.
trait Compact: Sized {
    fn pack(a: SocketAddr) -> Option<Self>;
    fn unpack(&self) -> SocketAddr;
}

impl Compact for [u8; 6] {
    fn pack(a: SocketAddr) -> Option<Self> {
        let IpAddr::V4(ip) = a.ip() else { return None };
        let mut b = [0; 6];
        b[..4].copy_from_slice(&ip.octets());
        b[4..].copy_from_slice(&a.port().to_be_bytes());
        Some(b)
    }
    fn unpack(&self) -> SocketAddr {
        let ip = Ipv4Addr::new(self[0], self[1], self[2], self[3]);
        SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([self[4], self[5]]))
    }
}

impl Compact for [u8; 18] {
    fn pack(a: SocketAddr) -> Option<Self> {
        let IpAddr::V6(ip) = a.ip() else { return None };
        let mut b = [0; 18];
        b[..16].copy_from_slice(&ip.octets());
        b[16..].copy_from_slice(&a.port().to_be_bytes());
        Some(b)
    }
    fn unpack(&self) -> SocketAddr {
        let mut o = [0; 16];
        o.copy_from_slice(&self[..16]);
        SocketAddr::new(
            IpAddr::V6(Ipv6Addr::from(o)),
            u16::from_be_bytes([self[16], self[17]]),
        )
    }
}

#[derive(Default)]
struct Swarm {
    v4: Vec<Peer<6>>,
    v6: Vec<Peer<18>>,
    /// Peer id → (is IPv6, index in its list).
    index: HashMap<[u8; 20], (bool, u32)>,
    seeders: u32,
    completed: u32,
}

impl Swarm {
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn counts(&self) -> Counts {
        Counts {
            seeders: self.seeders,
            leechers: self.len() as u32 - self.seeders,
            completed: self.completed,
        }
    }

    /// Removes the peer at `(v6, i)`, keeping the index right for the one moved into its place.
    fn remove_at(&mut self, v6: bool, i: usize) {
        let (id, seeder, moved) = if v6 {
            let p = self.v6.swap_remove(i);
            (p.id, p.seeder, self.v6.get(i).map(|m| m.id))
        } else {
            let p = self.v4.swap_remove(i);
            (p.id, p.seeder, self.v4.get(i).map(|m| m.id))
        };
        self.index.remove(&id);
        if let Some(m) = moved {
            self.index.insert(m, (v6, i as u32));
        }
        if seeder {
            self.seeders -= 1;
        }
    }

    fn remove(&mut self, id: &[u8; 20]) -> Option<bool> {
        let (v6, i) = *self.index.get(id)?;
        let seeder = if v6 {
            self.v6[i as usize].seeder
        } else {
            self.v4[i as usize].seeder
        };
        self.remove_at(v6, i as usize);
        Some(seeder)
    }

    /// Inserts or refreshes a peer; returns whether it was a seeder before (`None`: new).
    fn upsert(&mut self, a: &Announce, now: u32, max_peers: usize) -> Option<bool> {
        let seeder = a.left == 0;
        let v6 = a.addr.is_ipv6();
        if let Some(&(was_v6, i)) = self.index.get(&a.peer_id) {
            let i = i as usize;
            if was_v6 == v6 {
                let before = if v6 {
                    let p = &mut self.v6[i];
                    let b = p.seeder;
                    (p.seeder, p.seen, p.addr) = (seeder, now, Compact::pack(a.addr)?);
                    b
                } else {
                    let p = &mut self.v4[i];
                    let b = p.seeder;
                    (p.seeder, p.seen, p.addr) = (seeder, now, Compact::pack(a.addr)?);
                    b
                };
                match (before, seeder) {
                    (false, true) => self.seeders += 1,
                    (true, false) => self.seeders -= 1,
                    _ => {}
                }
                return Some(before);
            }
            // Same peer, other family: moved over.
            let before = self.remove(&a.peer_id);
            self.insert(a, now, max_peers);
            return before;
        }
        self.insert(a, now, max_peers);
        None
    }

    fn insert(&mut self, a: &Announce, now: u32, max_peers: usize) {
        if self.len() >= max_peers {
            return;
        }
        let seeder = a.left == 0;
        let at = if a.addr.is_ipv6() {
            let Some(addr) = Compact::pack(a.addr) else {
                return;
            };
            self.v6.push(Peer {
                id: a.peer_id,
                addr,
                seeder,
                seen: now,
            });
            (true, self.v6.len() as u32 - 1)
        } else {
            let Some(addr) = Compact::pack(a.addr) else {
                return;
            };
            self.v4.push(Peer {
                id: a.peer_id,
                addr,
                seeder,
                seen: now,
            });
            (false, self.v4.len() as u32 - 1)
        };
        self.index.insert(a.peer_id, at);
        if seeder {
            self.seeders += 1;
        }
    }

    /// Drops peers last seen before `cutoff`; how many.
    fn expire(&mut self, cutoff: u32) -> usize {
        let mut dropped = 0;
        for v6 in [false, true] {
            let mut i = 0;
            loop {
                let stale = if v6 {
                    self.v6.get(i).map(|p| p.seen < cutoff)
                } else {
                    self.v4.get(i).map(|p| p.seen < cutoff)
                };
                match stale {
                    None => break,
                    Some(true) => {
                        self.remove_at(v6, i);
                        dropped += 1;
                    }
                    Some(false) => i += 1,
                }
            }
        }
        dropped
    }
}

/// Up to `n` peers of `list` from a random start, skipping `me`.
fn pick<const N: usize>(
    list: &[Peer<N>],
    me: &[u8; 20],
    n: usize,
    out: &mut Vec<([u8; 20], SocketAddr)>,
) where
    [u8; N]: Compact,
{
    if n == 0 || list.is_empty() {
        return;
    }
    let start = rand::random_range(0..list.len());
    let want = n.min(list.len());
    for p in list[start..].iter().chain(&list[..start]) {
        if out.len() >= want {
            break;
        }
        if &p.id != me {
            out.push((p.id, p.addr.unpack()));
        }
    }
}

/// All swarms.
pub struct Store {
    shards: Vec<Mutex<HashMap<[u8; 20], Swarm>>>,
    limits: Limits,
    epoch: Instant,
    torrents: AtomicUsize,
    peers: AtomicUsize,
    /// Seconds added to the clock (tests of expiry move time forward).
    skew: std::sync::atomic::AtomicU32,
}

impl Store {
    pub fn new(limits: Limits) -> Store {
        Store {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            limits,
            epoch: Instant::now(),
            torrents: AtomicUsize::new(0),
            peers: AtomicUsize::new(0),
            skew: Default::default(),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn shard(&self, ih: &[u8; 20]) -> std::sync::MutexGuard<'_, HashMap<[u8; 20], Swarm>> {
        // Info-hashes are SHA-1 output: any byte is uniform.
        self.shards[usize::from(ih[0]) % SHARDS]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> u32 {
        u32::try_from(self.epoch.elapsed().as_secs())
            .unwrap_or(u32::MAX)
            .saturating_add(self.skew.load(Ordering::Relaxed))
    }

    /// Records `a` and answers it.
    pub fn announce(&self, a: &Announce) -> Result<Reply, StoreError> {
        let now = self.now();
        let mut shard = self.shard(&a.info_hash);
        let swarm = match shard.entry(a.info_hash) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                if a.event == Event::Stopped {
                    return Ok(Reply::default());
                }
                if self.torrents.load(Ordering::Relaxed) >= self.limits.max_torrents {
                    return Err(StoreError::Full);
                }
                self.torrents.fetch_add(1, Ordering::Relaxed);
                v.insert(Swarm::default())
            }
        };
        let before = swarm.len();
        let mut reply = Reply::default();
        if a.event == Event::Stopped {
            swarm.remove(&a.peer_id);
        } else {
            let was = swarm.upsert(a, now, self.limits.max_peers);
            // A download counts once: a leecher (or an unknown peer) that says completed.
            if a.left == 0 && a.event == Event::Completed && was != Some(true) {
                swarm.completed = swarm.completed.saturating_add(1);
            }
            let want = a
                .numwant
                .map_or(self.limits.default_numwant, |n| n as usize)
                .min(self.limits.max_numwant);
            let (mine4, mine6) = if a.addr.is_ipv6() {
                (0, want)
            } else {
                (want, 0)
            };
            reply.peers4.reserve(mine4.min(swarm.v4.len()));
            reply.peers6.reserve(mine6.min(swarm.v6.len()));
            pick(&swarm.v4, &a.peer_id, mine4, &mut reply.peers4);
            pick(&swarm.v6, &a.peer_id, mine6, &mut reply.peers6);
        }
        reply.counts = swarm.counts();
        let after = swarm.len();
        if after >= before {
            self.peers.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.peers.fetch_sub(before - after, Ordering::Relaxed);
        }
        Ok(reply)
    }

    /// Counts of one swarm (zeros when unknown).
    pub fn counts(&self, ih: &[u8; 20]) -> Counts {
        self.shard(ih)
            .get(ih)
            .map(Swarm::counts)
            .unwrap_or_default()
    }

    /// Drops peers that missed their announces, then swarms left with nobody and no
    /// completed download (with the store over 90 % full, empty ones whatever their count,
    /// so finished swarms cannot keep new torrents out). Returns the peers dropped.
    pub fn sweep(&self) -> usize {
        let cutoff = self
            .now()
            .saturating_sub(u32::try_from(self.limits.peer_ttl.as_secs()).unwrap_or(u32::MAX));
        let mut dropped = 0;
        let crowded =
            self.torrents.load(Ordering::Relaxed) > self.limits.max_torrents.saturating_mul(9) / 10;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let before = shard.len();
            shard.retain(|_, s| {
                dropped += s.expire(cutoff);
                s.len() > 0 || (s.completed > 0 && !crowded)
            });
            self.torrents
                .fetch_sub(before - shard.len(), Ordering::Relaxed);
        }
        self.peers.fetch_sub(dropped, Ordering::Relaxed);
        dropped
    }

    /// Swarms and peers held.
    pub fn size(&self) -> (usize, usize) {
        (
            self.torrents.load(Ordering::Relaxed),
            self.peers.load(Ordering::Relaxed),
        )
    }

    /// Bytes the swarms hold on the heap (capacities, not lengths; allocator overhead not
    /// counted): what `make bench-tracker` reports per 100,000 peers.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let entry = size_of::<([u8; 20], Swarm)>() + 1;
        let index = size_of::<([u8; 20], (bool, u32))>() + 1;
        self.shards
            .iter()
            .map(|shard| {
                let shard = shard.lock().unwrap_or_else(|e| e.into_inner());
                shard.capacity() * entry
                    + shard
                        .values()
                        .map(|s| {
                            s.v4.capacity() * size_of::<Peer<6>>()
                                + s.v6.capacity() * size_of::<Peer<18>>()
                                + s.index.capacity() * index
                        })
                        .sum::<usize>()
            })
            .sum()
    }

    /// Moves the clock forward by `secs` (tests of expiry).
    #[cfg(test)]
    fn age(&self, secs: u32) {
        self.skew.fetch_add(secs, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_torrents: 3,
            max_peers: 5,
            max_numwant: 3,
            default_numwant: 2,
            peer_ttl: Duration::from_secs(100),
        }
    }

    fn ann(ih: u8, peer: u8, addr: &str, left: u64, event: Event) -> Announce {
        Announce {
            info_hash: [ih; 20],
            peer_id: [peer; 20],
            addr: addr.parse().unwrap(),
            left,
            event,
            numwant: None,
        }
    }

    #[test]
    fn counts_follow_announces_and_families_stay_apart() {
        let s = Store::new(limits());
        s.announce(&ann(1, 1, "10.0.0.1:1", 0, Event::Started))
            .unwrap();
        s.announce(&ann(1, 2, "[::1]:2", 5, Event::Started))
            .unwrap();
        let r = s
            .announce(&ann(1, 3, "10.0.0.3:3", 5, Event::Started))
            .unwrap();
        assert_eq!(
            r.counts,
            Counts {
                seeders: 1,
                leechers: 2,
                completed: 0
            }
        );
        assert_eq!(r.peers4.len(), 1, "only the other IPv4 peer");
        assert_eq!(r.peers4[0].1, "10.0.0.1:1".parse().unwrap());
        assert!(r.peers6.is_empty());
        let r6 = s.announce(&ann(1, 2, "[::1]:2", 5, Event::None)).unwrap();
        assert!(r6.peers6.is_empty() && r6.peers4.is_empty());
        // Leecher 3 completes (counted once), then stops.
        s.announce(&ann(1, 3, "10.0.0.3:3", 0, Event::Completed))
            .unwrap();
        s.announce(&ann(1, 3, "10.0.0.3:3", 0, Event::Completed))
            .unwrap();
        assert_eq!(
            s.counts(&[1; 20]),
            Counts {
                seeders: 2,
                leechers: 1,
                completed: 1
            }
        );
        s.announce(&ann(1, 3, "10.0.0.3:3", 0, Event::Stopped))
            .unwrap();
        assert_eq!(
            s.counts(&[1; 20]),
            Counts {
                seeders: 1,
                leechers: 1,
                completed: 1
            }
        );
        assert_eq!(s.size(), (1, 2));
    }

    #[test]
    fn caps_hold_and_numwant_is_capped() {
        let s = Store::new(limits());
        for p in 0..10 {
            s.announce(&ann(1, p, &format!("10.0.0.{p}:1"), 1, Event::None))
                .unwrap();
        }
        assert_eq!(s.counts(&[1; 20]).leechers, 5);
        let mut a = ann(1, 99, "10.0.0.99:1", 1, Event::None);
        a.numwant = Some(u32::MAX);
        assert_eq!(s.announce(&a).unwrap().peers4.len(), 3);
        s.announce(&ann(2, 1, "10.0.0.1:1", 1, Event::None))
            .unwrap();
        s.announce(&ann(3, 1, "10.0.0.1:1", 1, Event::None))
            .unwrap();
        assert_eq!(
            s.announce(&ann(4, 1, "10.0.0.1:1", 1, Event::None))
                .unwrap_err(),
            StoreError::Full
        );
        assert_eq!(s.size(), (3, 7));
    }

    #[test]
    fn silent_peers_expire_and_empty_swarms_go() {
        let s = Store::new(limits());
        s.announce(&ann(1, 1, "10.0.0.1:1", 1, Event::None))
            .unwrap();
        s.announce(&ann(1, 2, "[::2]:1", 1, Event::None)).unwrap();
        s.age(150);
        s.announce(&ann(1, 3, "10.0.0.3:1", 1, Event::None))
            .unwrap();
        assert_eq!(s.sweep(), 2);
        assert_eq!(s.counts(&[1; 20]).leechers, 1);
        s.age(150);
        assert_eq!(s.sweep(), 1);
        assert_eq!(s.size(), (0, 0));
        // A finished swarm stays for its count, until the store is crowded.
        s.announce(&ann(5, 1, "10.0.0.1:1", 0, Event::Completed))
            .unwrap();
        s.age(150);
        s.sweep();
        assert_eq!(s.counts(&[5; 20]).completed, 1);
        s.announce(&ann(6, 1, "10.0.0.1:1", 1, Event::None))
            .unwrap();
        s.announce(&ann(7, 1, "10.0.0.1:1", 1, Event::None))
            .unwrap();
        s.age(150);
        s.sweep();
        assert_eq!(s.size(), (0, 0));
        // Random starts never return the announcer nor duplicates.
        for p in 0..5 {
            s.announce(&ann(9, p, &format!("10.0.0.{p}:1"), 1, Event::None))
                .unwrap();
        }
        for _ in 0..50 {
            let r = s
                .announce(&ann(9, 0, "10.0.0.0:1", 1, Event::None))
                .unwrap();
            let mut ids: Vec<_> = r.peers4.iter().map(|p| p.0).collect();
            ids.sort();
            ids.dedup();
            assert_eq!(ids.len(), 2);
            assert!(!ids.contains(&[0; 20]));
        }
    }

    /// `make bench-tracker`: memory per 100,000 peers, as heap capacity and as the growth of
    /// this process's resident set, for a few large swarms and for many small ones.
    #[test]
    #[ignore = "a measurement: make bench-tracker"]
    fn bench_memory_per_100k_peers() {
        fn rss() -> usize {
            let s = std::fs::read_to_string("/proc/self/status").unwrap();
            let kb = s
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
                .unwrap();
            kb * 1024
        }
        for (torrents, per) in [(100u32, 1000u32), (10_000, 10)] {
            let s = Store::new(Limits {
                max_torrents: 100_000,
                max_peers: 1000,
                max_numwant: 50,
                default_numwant: 0,
                peer_ttl: Duration::from_secs(3600),
            });
            let before = rss();
            for t in 0..torrents {
                let mut ih = [0u8; 20];
                ih[..4].copy_from_slice(&t.to_le_bytes());
                ih[4..8].copy_from_slice(&t.wrapping_mul(2_654_435_761).to_be_bytes());
                for p in 0..per {
                    let mut id = [0u8; 20];
                    id[..4].copy_from_slice(&p.to_le_bytes());
                    id[4..8].copy_from_slice(&t.to_le_bytes());
                    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::from(p ^ t << 10)), 6881);
                    s.announce(&Announce {
                        info_hash: ih,
                        peer_id: id,
                        addr,
                        left: u64::from(p % 2),
                        event: Event::Started,
                        numwant: Some(0),
                    })
                    .unwrap();
                }
            }
            let grown = rss().saturating_sub(before);
            assert_eq!(s.size(), (torrents as usize, 100_000));
            println!(
                "BENCH tracker memory: {torrents} torrents x {per} peers = 100000 IPv4 peers: \
                 heap {:.1} MiB ({} B/peer), resident growth {:.1} MiB",
                s.heap_bytes() as f64 / 1048576.0,
                s.heap_bytes() / 100_000,
                grown as f64 / 1048576.0
            );
        }
    }
}
