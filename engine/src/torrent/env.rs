//! Session-wide resources every torrent shares: settings, the event bus, connection and
//! memory budgets, the tracker client and the hashing limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::broadcast;

use super::hashpool::HashPool;

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

/// A byte budget shared by all torrents' piece assembly buffers.
pub(crate) struct Budget {
    used: AtomicUsize,
    max: usize,
}

impl Budget {
    pub fn new(max: usize) -> Self {
        Budget {
            used: AtomicUsize::new(0),
            max,
        }
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

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn release(&self, n: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            });
    }
}
