//! Addresses we may dial (tracker, DHT, PEX, user) with retry backoff.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::status::PeerSource;

/// Cap on remembered addresses, so a tracker cannot grow memory without bound.
const MAX_ENTRIES: usize = 2000;
/// Failures after which an address is forgotten.
const MAX_FAILURES: u32 = 6;
const BASE_BACKOFF: Duration = Duration::from_secs(15);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Idle,
    Connecting,
    Connected,
}

struct Entry {
    source: PeerSource,
    slot: Slot,
    failures: u32,
    next_try: Instant,
}

#[derive(Default)]
pub(crate) struct PeerBook {
    entries: HashMap<SocketAddr, Entry>,
}

impl PeerBook {
    /// Learns an address (no effect if known or the book is full), except that a user
    /// naming a known idle address makes it due now.
    pub fn add(&mut self, addr: SocketAddr, source: PeerSource, now: Instant) {
        if let Some(e) = self.entries.get_mut(&addr) {
            if source == PeerSource::User && e.slot == Slot::Idle {
                e.next_try = now;
            }
            return;
        }
        if addr.port() == 0 || addr.ip().is_unspecified() || self.entries.len() >= MAX_ENTRIES {
            return;
        }
        self.entries.entry(addr).or_insert(Entry {
            source,
            slot: Slot::Idle,
            failures: 0,
            next_try: now,
        });
    }

    /// Up to `n` addresses due for a dial, except those `skip` (given each address and
    /// where it came from) refuses; they are marked as connecting.
    pub fn take_due(
        &mut self,
        now: Instant,
        n: usize,
        skip: impl Fn(&SocketAddr, PeerSource) -> bool,
    ) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        for (addr, e) in self.entries.iter_mut() {
            if out.len() >= n {
                break;
            }
            if e.slot == Slot::Idle && e.next_try <= now && !skip(addr, e.source) {
                e.slot = Slot::Connecting;
                out.push(*addr);
            }
        }
        out
    }

    /// Where we learned of `addr` (incoming if we never did).
    pub fn source(&self, addr: &SocketAddr) -> PeerSource {
        self.entries
            .get(addr)
            .map_or(PeerSource::Incoming, |e| e.source)
    }

    /// Addresses known, for handing over to a torrent once its metadata arrived.
    pub fn addresses(&self) -> impl Iterator<Item = (SocketAddr, PeerSource)> + '_ {
        self.entries.iter().map(|(a, e)| (*a, e.source))
    }

    pub fn connected(&mut self, addr: &SocketAddr) {
        if let Some(e) = self.entries.get_mut(addr) {
            e.slot = Slot::Connected;
            e.failures = 0;
        }
    }

    /// A dial failed or a connection ended: retry later, or forget after repeated failures.
    pub fn failed(&mut self, addr: &SocketAddr, now: Instant) {
        let Some(e) = self.entries.get_mut(addr) else {
            return;
        };
        e.failures += 1;
        if e.failures >= MAX_FAILURES {
            self.entries.remove(addr);
            return;
        }
        e.slot = Slot::Idle;
        e.next_try = now + jittered(BASE_BACKOFF * 2u32.pow(e.failures - 1));
    }

    /// A connection we had ended without fault of the address: retry after the base delay.
    pub fn disconnected(&mut self, addr: &SocketAddr, now: Instant) {
        if let Some(e) = self.entries.get_mut(addr) {
            if e.slot == Slot::Connected {
                e.slot = Slot::Idle;
                e.next_try = now + jittered(BASE_BACKOFF);
            }
        }
    }

    /// Makes every idle address due now (on resume).
    pub fn reset_backoff(&mut self, now: Instant) {
        for e in self.entries.values_mut() {
            if e.slot != Slot::Connected {
                e.slot = Slot::Idle;
                e.next_try = now;
            }
        }
    }
}

/// `d` plus up to a quarter more, at random, so addresses that failed together (a tracker's
/// whole list, a network blip) are not all retried in the same instant.
fn jittered(d: Duration) -> Duration {
    d + d.mul_f64(rand::random_range(0.0..0.25))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_and_forgetting() {
        let t0 = Instant::now();
        let a = SocketAddr::from(([127, 0, 0, 1], 1000));
        let mut b = PeerBook::default();
        b.add(a, PeerSource::User, t0);
        b.add(SocketAddr::from(([0, 0, 0, 0], 1)), PeerSource::User, t0);
        assert_eq!(b.source(&a), PeerSource::User);
        assert_eq!(b.take_due(t0, 10, |_, _| false), vec![a]);
        assert!(
            b.take_due(t0, 10, |_, _| false).is_empty(),
            "already connecting"
        );
        b.failed(&a, t0);
        assert!(b.take_due(t0, 10, |_, _| false).is_empty(), "backing off");
        let late = t0 + BASE_BACKOFF.mul_f64(1.25);
        assert_eq!(b.take_due(late, 10, |_, _| false), vec![a]);
        b.failed(&a, t0);
        assert!(
            b.take_due(late, 10, |_, _| false).is_empty(),
            "the second failure waits twice as long"
        );
        assert_eq!(b.take_due(t0 + BASE_BACKOFF * 3, 10, |_, _| false), vec![a]);
        for _ in 2..MAX_FAILURES {
            b.failed(&a, t0);
        }
        assert!(b
            .take_due(t0 + Duration::from_secs(1 << 20), 10, |_, _| false)
            .is_empty());
    }

    #[test]
    fn jitter_stays_within_a_quarter_and_varies() {
        let d = Duration::from_secs(40);
        let v: Vec<Duration> = (0..64).map(|_| jittered(d)).collect();
        assert!(v.iter().all(|j| *j >= d && *j < d + d / 4), "{v:?}");
        assert!(v.iter().any(|j| *j != v[0]), "no jitter at all");
    }
}
