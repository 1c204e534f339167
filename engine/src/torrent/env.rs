//! Session-wide resources every torrent shares: settings, the event bus, connection and
//! memory budgets, the tracker client and the hashing limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::hashpool::HashPool;
use super::lock;
use crate::storage::AlignedBuf;

use crate::config::SessionConfig;
use crate::events::Event;
use crate::tracker::{TrackerClient, TrackerError};
use crate::PeerKey;

pub(crate) struct Env {
    pub config: SessionConfig,
    /// The address the listener actually bound (port resolved).
    pub listen_addr: SocketAddr,
    pub events: broadcast::Sender<Event>,
    pub conns: ConnLimiter,
    pub buffers: Budget,
    pub tracker: TrackerClient,
    /// `hash_threads` threads that hash and store completed pieces.
    pub hashers: HashPool,
    next_peer_key: AtomicU64,
}

impl Env {
    pub fn new(
        config: SessionConfig,
        listen_addr: SocketAddr,
        events: broadcast::Sender<Event>,
    ) -> Result<Self, TrackerError> {
        Ok(Env {
            conns: ConnLimiter::new(config.max_peers_total),
            buffers: Budget::new(config.max_buffered_bytes),
            tracker: TrackerClient::new(config.tracker_config())?,
            hashers: HashPool::new(config.hash_threads()),
            next_peer_key: AtomicU64::new(1),
            config,
            listen_addr,
            events,
        })
    }

    /// Publishes an event; nobody listening is fine.
    pub fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    pub fn next_peer_key(&self) -> PeerKey {
        PeerKey(self.next_peer_key.fetch_add(1, Ordering::Relaxed))
    }
}

/// Counts open peer connections against the session-wide cap.
#[derive(Clone)]
pub(crate) struct ConnLimiter {
    open: Arc<AtomicUsize>,
    max: usize,
}

/// One counted connection; dropping it frees the slot.
pub(crate) struct ConnSlot {
    open: Arc<AtomicUsize>,
}

impl ConnLimiter {
    pub fn new(max: usize) -> Self {
        ConnLimiter {
            open: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A slot if the session is below its connection cap.
    pub fn try_acquire(&self) -> Option<ConnSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ConnSlot {
                open: self.open.clone(),
            })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A byte budget shared by all torrents' piece assembly buffers, and the idle buffers kept for
/// reuse.
///
/// Idle buffers count against the budget too: one is kept only while reserved bytes plus idle
/// bytes stay within `max`, so buffer memory peaks at about the budget however many torrents
/// there are. Reusing them means steady-state downloading neither faults in fresh memory
/// (expensive first touches on a VM) nor frees and reallocates 1 MiB blocks from several threads
/// (freed blocks can stay in per-thread malloc arenas). With a separate 16 MiB pool per torrent
/// on top of the budget, one 1 GiB download had peaked at 102 MiB RSS.
pub(crate) struct Budget {
    used: AtomicUsize,
    max: usize,
    idle: Mutex<Idle>,
}

#[derive(Default)]
struct Idle {
    bufs: Vec<AlignedBuf>,
    bytes: usize,
}

impl Budget {
    pub fn new(max: usize) -> Self {
        Budget {
            used: AtomicUsize::new(0),
            max,
            idle: Mutex::default(),
        }
    }

    /// A buffer of `len` bytes, reused if one is idle. Reserve the bytes first.
    pub fn buffer(&self, len: usize) -> AlignedBuf {
        let mut idle = lock(&self.idle);
        let mut b = match idle.bufs.pop() {
            Some(b) => {
                idle.bytes -= b.capacity();
                b
            }
            None => AlignedBuf::default(),
        };
        drop(idle);
        b.resize(len);
        b
    }

    /// Takes back a buffer whose bytes were released; keeps it if it fits (see the type docs).
    pub fn recycle(&self, b: AlignedBuf) {
        let mut idle = lock(&self.idle);
        let keep = idle.bytes + b.capacity();
        if self.used().saturating_add(keep) <= self.max {
            idle.bytes = keep;
            idle.bufs.push(b);
        }
    }

    /// Frees the idle buffers (a download finished: memory should not stay at its peak).
    pub fn trim(&self) {
        *lock(&self.idle) = Idle::default();
    }

    #[cfg(test)]
    pub fn idle_bytes(&self) -> usize {
        lock(&self.idle).bytes
    }

    /// Reserves `n` bytes if they fit, or unconditionally when `force` (one piece per
    /// torrent must always be possible, or a piece larger than the budget would stall).
    pub fn try_reserve(&self, n: usize, force: bool) -> bool {
        if force {
            self.used.fetch_add(n, Ordering::AcqRel);
            return true;
        }
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                (u.saturating_add(n) <= self.max).then_some(u + n)
            })
            .is_ok()
    }

    /// Bytes reserved right now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Acquire)
    }

    pub fn release(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_buffers_stay_within_the_budget() {
        const MIB: usize = 1 << 20;
        let b = Budget::new(3 * MIB);
        let bufs: Vec<_> = (0..3)
            .map(|_| {
                assert!(b.try_reserve(MIB, false));
                b.buffer(MIB)
            })
            .collect();
        assert!(!b.try_reserve(MIB, false), "budget spent");
        for buf in bufs {
            b.release(MIB);
            b.recycle(buf);
            assert!(b.used() + b.idle_bytes() <= 3 * MIB);
        }
        // Each buffer allocates a page more than it holds, so the second one came back while
        // the third was still reserved and did not fit.
        assert_eq!(b.used(), 0);
        assert_eq!(
            b.idle_bytes(),
            2 * (MIB + crate::storage::aligned::ALIGN - 1)
        );
        assert!(b.try_reserve(MIB, false));
        let again = b.buffer(MIB);
        assert_eq!(again.len(), MIB);
        assert_eq!(
            b.idle_bytes(),
            MIB + crate::storage::aligned::ALIGN - 1,
            "reused"
        );
        b.trim();
        assert_eq!(b.idle_bytes(), 0);
    }
}
