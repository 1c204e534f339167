//! Local service discovery (BEP 14): announce our non-private torrents to the LAN by IPv4
//! multicast and learn peers on the LAN from their announces.
//!
//! One task per session: every [`TICK`] it announces the torrents not announced for
//! [`INTERVAL`] (a new torrent within a tick), batched [`message::MAX_HASHES`] per
//! datagram; every datagram received that names a torrent of ours adds its sender at its
//! `Port` as a peer ([`PeerSource::Lsd`]). Our own datagrams, looped back by multicast,
//! carry our random cookie and are ignored. Private torrents are never announced nor fed.

pub mod message;

use std::collections::{HashMap, HashSet};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::listener::Routes;
use crate::status::PeerSource;
use crate::torrent::slot::Stage;
use crate::InfoHash;
use message::{Announce, MAX_DATAGRAM, MAX_HASHES};

/// BEP 14's IPv4 group and port.
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(239, 192, 152, 143);
pub const PORT: u16 = 6771;
/// How often each torrent is announced (libtorrent's interval).
pub const INTERVAL: Duration = Duration::from_secs(5 * 60);
const TICK: Duration = Duration::from_secs(5);

/// Where LSD runs.
#[derive(Clone, Debug)]
pub struct LsdConfig {
    /// The interface (by its IPv4 address) to announce and listen on; unspecified: the
    /// host's default multicast interface.
    pub interface: Ipv4Addr,
    /// The UDP port of the group (BEP 14: 6771).
    pub port: u16,
}

impl Default for LsdConfig {
    fn default() -> Self {
        LsdConfig {
            interface: Ipv4Addr::UNSPECIFIED,
            port: PORT,
        }
    }
}

/// Joins the group; the socket shares the port with other clients on the host.
pub(crate) fn bind(cfg: &LsdConfig) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    s.set_nonblocking(true)?;
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, cfg.port)).into())?;
    s.join_multicast_v4(&GROUP_V4, &cfg.interface)?;
    s.set_multicast_if_v4(&cfg.interface)?;
    s.set_multicast_loop_v4(true)?;
    s.set_multicast_ttl_v4(1)?;
    UdpSocket::from_std(s.into())
}

/// Announces and listens until aborted. `port` is our peer listener's.
pub(crate) async fn run(socket: UdpSocket, cfg: LsdConfig, routes: Routes, port: u16) {
    let cookie = format!("te{:08x}", rand::random::<u32>());
    let group = SocketAddrV4::new(GROUP_V4, cfg.port);
    let host = group.to_string();
    let mut announced: HashMap<InfoHash, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let due = due(&routes, &mut announced, Instant::now());
                for chunk in due.chunks(MAX_HASHES) {
                    let a = Announce { port, info_hashes: chunk.to_vec(), cookie: Some(cookie.clone()) };
                    if let Err(e) = socket.send_to(&a.encode(&host), group).await {
                        tracing::debug!("LSD announce failed: {e}");
                    }
                }
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok((n, from)) => receive(&routes, &buf[..n], from, &cookie),
                Err(e) => {
                    tracing::debug!("LSD receive failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
        }
    }
}

/// Our announceable torrents whose last announce is older than [`INTERVAL`], marked as
/// announced now; forgets removed ones.
fn due(routes: &Routes, announced: &mut HashMap<InfoHash, Instant>, now: Instant) -> Vec<InfoHash> {
    let ours: HashSet<InfoHash> = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, slot)| announceable(&slot.stage()))
        .map(|(ih, _)| *ih)
        .collect();
    announced.retain(|ih, _| ours.contains(ih));
    ours.into_iter()
        .filter(|ih| {
            let fresh = announced
                .get(ih)
                .is_some_and(|t| now.duration_since(*t) < INTERVAL);
            if !fresh {
                announced.insert(*ih, now);
            }
            !fresh
        })
        .collect()
}

fn announceable(stage: &Stage) -> bool {
    match stage {
        Stage::Live(t) => !t.meta.private,
        Stage::Metadata(_) => true,
        Stage::Failed(_) => false,
    }
}

fn receive(routes: &Routes, datagram: &[u8], from: SocketAddr, cookie: &str) {
    let a = match Announce::parse(datagram) {
        Ok(a) => a,
        Err(e) => {
            tracing::trace!(%from, "LSD datagram ignored: {e}");
            return;
        }
    };
    if a.cookie.as_deref() == Some(cookie) {
        return;
    }
    let peer = [SocketAddr::new(from.ip(), a.port)];
    let routes = routes.read().unwrap_or_else(|e| e.into_inner());
    for ih in &a.info_hashes {
        match routes.get(ih).map(|s| s.stage()) {
            Some(Stage::Live(t)) if !t.meta.private => t.learn_peers(&peer, PeerSource::Lsd),
            Some(Stage::Metadata(f)) => f.add_peers(&peer, PeerSource::Lsd),
            _ => {}
        }
    }
}
