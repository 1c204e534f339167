//! Outgoing dials.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::Torrent;
use crate::peer::handler::PeerHandler;
use crate::peer::{self, dial};
use crate::status::{PeerSource, TorrentState};

impl Torrent {
    /// Dials known addresses while below the per-torrent cap. While seeding, only peers
    /// announced on the LAN (LSD): leechers find a seed through the tracker and seed-to-seed
    /// dials are wasted, but a LAN leecher that announced after our last announce would
    /// otherwise wait minutes for the next.
    pub fn dial_due(self: &Arc<Self>) {
        let now = Instant::now();
        let addrs = {
            let mut guard = self.lock();
            let sh = &mut *guard;
            if !sh.accepting {
                return;
            }
            let seeding = sh.state == TorrentState::Seeding;
            let room = self
                .env
                .config
                .max_peers_per_torrent
                .saturating_sub(sh.peers.len() + sh.connecting);
            if room == 0 {
                return;
            }
            let peers = &sh.peers;
            let bans = &self.env.bans;
            let addrs = sh.book.take_due(now, room, |a, source| {
                (seeding && source != PeerSource::Lsd)
                    || self.env.is_self(a)
                    || bans.is_banned(a.ip())
                    || peers.values().any(|p| p.addr == *a)
            });
            sh.connecting += addrs.len();
            addrs
        };
        for addr in addrs {
            tokio::spawn(self.clone().dial(addr));
        }
    }

    async fn dial(self: Arc<Self>, addr: SocketAddr) {
        let slot = self.env.conns.try_acquire(addr.ip());
        let result = match slot {
            Some(_) => {
                // libtorrent answers a v1 handshake for a hybrid (v1+v2) torrent with the
                // truncated v2 hash; any other hash is a peer that does not serve this torrent.
                let hybrid = self.meta.hybrid_v2_hash();
                let ours = self.handshake();
                dial::connect(&self.env, addr, &ours, |h| {
                    *h == self.info_hash || Some(*h) == hybrid
                })
                .await
                .map_err(|e| tracing::debug!(%addr, "dial failed: {e}"))
                .ok()
            }
            None => None,
        };
        {
            let mut sh = self.lock();
            sh.connecting = sh.connecting.saturating_sub(1);
            if result.is_none() {
                sh.book.failed(&addr, Instant::now());
            }
        }
        if let (Some(slot), Some((stream, remote))) = (slot, result) {
            peer::run(self, stream, remote, addr, false, slot).await;
        }
    }
}

/// Whether `a` is our own listener (same port on a loopback/unspecified or our bound IP).
pub(crate) fn is_self(a: &SocketAddr, listen: SocketAddr) -> bool {
    a.port() == listen.port()
        && (a.ip() == listen.ip() || a.ip().is_loopback() || a.ip().is_unspecified())
}
