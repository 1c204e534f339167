//! The tracker's UDP adapter (BEP 15, with BEP 41 URL data for a passkey).
//!
//! Connection ids are not stored: an id is a keyed hash (SipHash with a random key made at
//! start) of the client's IP address and a one-minute window, and an id of the current or the
//! previous window is accepted. So a spoofed source cannot announce without having received
//! the connect reply, and a flood of connects costs no memory. The port is left out: clients
//! (ours among them) reuse a cached id from a fresh socket, so from another source port.

use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::packet::{self, Request};
use super::query::Event;
use super::store::Announce;
use super::Tracker;

/// How long a connection id stays valid at least (BEP 15 asks for 1 minute; up to 2 here).
const WINDOW_SECS: u64 = 60;

/// Connection ids, derived rather than remembered.
pub struct ConnectionIds {
    key: RandomState,
}

impl ConnectionIds {
    pub fn new() -> ConnectionIds {
        ConnectionIds {
            key: RandomState::new(),
        }
    }

    fn window() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / WINDOW_SECS)
    }

    fn id(&self, addr: &SocketAddr, window: u64) -> u64 {
        self.key.hash_one((addr.ip(), window))
    }

    pub fn issue(&self, addr: &SocketAddr) -> u64 {
        self.id(addr, Self::window())
    }

    pub fn check(&self, addr: &SocketAddr, id: u64) -> bool {
        let w = Self::window();
        id == self.id(addr, w) || id == self.id(addr, w.saturating_sub(1))
    }
}

impl Default for ConnectionIds {
    fn default() -> Self {
        Self::new()
    }
}

/// Answers one datagram from `from` into `out` (left empty: send nothing).
pub fn handle(t: &Tracker, ids: &ConnectionIds, data: &[u8], from: SocketAddr, out: &mut Vec<u8>) {
    out.clear();
    let req = match packet::parse(data) {
        Ok(r) => r,
        Err(e) => {
            if let Some(tid) = e.transaction {
                packet::error_reply(tid, e.message, out);
            }
            return;
        }
    };
    match req {
        Request::Connect { transaction } => {
            packet::connect_reply(transaction, ids.issue(&from), out);
        }
        Request::Announce {
            connection,
            transaction,
            announce: u,
        } => {
            if !ids.check(&from, connection) {
                return packet::error_reply(transaction, "invalid connection id", out);
            }
            let a = Announce {
                info_hash: u.info_hash,
                peer_id: u.peer_id,
                addr: SocketAddr::new(from.ip(), u.port),
                left: u.left,
                event: match u.event {
                    1 => Event::Completed,
                    2 => Event::Started,
                    3 => Event::Stopped,
                    _ => Event::None,
                },
                numwant: u32::try_from(u.num_want).ok(),
            };
            match t.announce(&a, packet::url_passkey(u.url_data)) {
                Ok(r) => {
                    let interval = u32::try_from(t.settings.interval.as_secs()).unwrap_or(u32::MAX);
                    packet::announce_reply_head(
                        transaction,
                        interval,
                        r.counts.leechers,
                        r.counts.seeders,
                        out,
                    );
                    for (_, p) in r.peers4.iter().chain(&r.peers6) {
                        // One datagram without fragments: the rest wait for the next announce.
                        if out.len() + 18 > packet::MAX_PACKET {
                            break;
                        }
                        match p {
                            SocketAddr::V4(v4) => out.extend_from_slice(&v4.ip().octets()),
                            SocketAddr::V6(v6) => out.extend_from_slice(&v6.ip().octets()),
                        }
                        out.extend_from_slice(&p.port().to_be_bytes());
                    }
                }
                Err(e) => packet::error_reply(transaction, &e.to_string(), out),
            }
        }
        Request::Scrape {
            connection,
            transaction,
            hashes,
        } => {
            if !ids.check(&from, connection) {
                return packet::error_reply(transaction, "invalid connection id", out);
            }
            let hashes: Vec<[u8; 20]> = hashes
                .chunks_exact(20)
                .filter_map(|c| c.try_into().ok())
                .collect();
            match t.scrape(&hashes, None) {
                Ok(counts) => {
                    out.extend_from_slice(&packet::ACTION_SCRAPE.to_be_bytes());
                    out.extend_from_slice(&transaction.to_be_bytes());
                    for c in counts {
                        for v in [c.seeders, c.completed, c.leechers] {
                            out.extend_from_slice(&v.to_be_bytes());
                        }
                    }
                }
                Err(e) => packet::error_reply(transaction, &e.to_string(), out),
            }
        }
    }
}

/// Binds `addr` and serves until shutdown; returns the bound address.
pub async fn start(
    tracker: Arc<Tracker>,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<SocketAddr> {
    let socket = UdpSocket::bind(addr).await?;
    let local = socket.local_addr()?;
    let _ = tracker.udp_addr.set(local);
    tokio::spawn(async move {
        let ids = ConnectionIds::new();
        let mut buf = vec![0u8; packet::MAX_PACKET + 1];
        let mut out = Vec::with_capacity(packet::MAX_PACKET);
        loop {
            let (n, from) = tokio::select! {
                r = socket.recv_from(&mut buf) => match r {
                    Ok(v) => v,
                    // ICMP errors of earlier replies surface here on some systems.
                    Err(e) => {
                        tracing::debug!("tracker UDP receive: {e}");
                        continue;
                    }
                },
                _ = shutdown.changed() => return,
            };
            handle(&tracker, &ids, &buf[..n], from, &mut out);
            if !out.is_empty() {
                if let Err(e) = socket.send_to(&out, from).await {
                    tracing::debug!("tracker UDP reply to {from}: {e}");
                }
            }
        }
    });
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_depend_on_the_address_and_expire() {
        let ids = ConnectionIds::new();
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "127.0.0.2:1000".parse().unwrap();
        let id = ids.issue(&a);
        assert!(ids.check(&a, id));
        assert!(!ids.check(&b, id));
        let old = ids.id(&a, ConnectionIds::window() - 2);
        assert!(!ids.check(&a, old));
    }
}
