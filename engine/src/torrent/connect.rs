//! Outgoing dials and the torrent's half of incoming connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::Torrent;
use crate::peer::{self, dial, HANDSHAKE_TIMEOUT};
use crate::session::conns::ConnSlot;
use crate::status::TorrentState;
use crate::wire::{write_handshake, Handshake};

impl Torrent {
    /// Dials known addresses while below the per-torrent cap (not while seeding: leechers
    /// find a seed through the tracker, and seed-to-seed dials are wasted).
    pub fn dial_due(self: &Arc<Self>) {
        let now = Instant::now();
        let addrs = {
            let mut guard = self.lock();
            let sh = &mut *guard;
            if !sh.accepting || sh.state == TorrentState::Seeding {
                return;
            }
            let room = self
                .env
                .config
                .max_peers_per_torrent
                .saturating_sub(sh.peers.len() + sh.connecting);
            if room == 0 {
                return;
            }
            let listen = self.env.listen_addr;
            let peers = &sh.peers;
            let addrs = sh.book.take_due(now, room, |a| {
                is_self(a, listen) || peers.values().any(|p| p.addr == *a)
            });
            sh.connecting += addrs.len();
            addrs
        };
        for addr in addrs {
            tokio::spawn(self.clone().dial(addr));
        }
    }

    async fn dial(self: Arc<Self>, addr: SocketAddr) {
        let slot = self.env.conns.try_acquire();
        let result = match slot {
            Some(_) => {
                // libtorrent answers a v1 handshake for a hybrid (v1+v2) torrent with the
                // truncated v2 hash; any other hash is a peer that does not serve this torrent.
                let hybrid = self.meta.hybrid_v2_hash();
                let ours = self.handshake();
                dial::connect(addr, &ours, |h| *h == self.info_hash || Some(*h) == hybrid)
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

    /// Completes an incoming connection the listener routed here.
    pub async fn accept_incoming(
        self: Arc<Self>,
        mut stream: TcpStream,
        remote: Handshake,
        addr: SocketAddr,
        slot: ConnSlot,
    ) {
        if !self.lock().accepting {
            return;
        }
        let hs = self.handshake();
        match timeout(HANDSHAKE_TIMEOUT, write_handshake(&mut stream, &hs)).await {
            Ok(Ok(())) => peer::run(self, stream, remote, addr, true, slot).await,
            _ => tracing::debug!(%addr, "incoming handshake failed"),
        }
    }
}

/// Whether `a` is our own listener (same port on a loopback/unspecified or our bound IP).
fn is_self(a: &SocketAddr, listen: SocketAddr) -> bool {
    a.port() == listen.port()
        && (a.ip() == listen.ip() || a.ip().is_loopback() || a.ip().is_unspecified())
}
