//! Session-wide resources every torrent shares: settings, the event bus, connection and
//! memory budgets, the tracker client and the hashing limit.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::broadcast;

use super::bans::BanList;
use super::budget::Budget;
use super::conns::ConnLimiter;
use super::dhts::Dhts;
use super::encryption::EncryptionState;
use super::hashpool::HashPool;
use super::ratelimit::RateLimits;
use super::transports::Transports;
use super::upload_slots::UploadSlots;

use crate::config::SessionConfig;
use crate::events::Event;
use crate::resume::ResumeStore;
use crate::tracker::{TrackerClient, TrackerError};
use crate::utp::UtpSocket;
use crate::wire::Handshake;
use crate::{InfoHash, PeerKey};

pub(crate) struct Env {
    pub config: SessionConfig,
    /// The address the listener actually bound (port resolved).
    pub listen_addr: SocketAddr,
    /// The IPv6 listener's address, when one runs.
    pub listen_v6: Option<SocketAddr>,
    pub events: broadcast::Sender<Event>,
    pub conns: ConnLimiter,
    /// Incoming connections still in their handshake.
    pub half_open: ConnLimiter,
    pub buffers: Budget,
    pub tracker: TrackerClient,
    /// `hash_threads` threads that hash and store completed pieces.
    pub hashers: HashPool,
    /// Fast-resume records, when the session keeps them.
    pub resume: Option<ResumeStore>,
    /// The session's DHT nodes (one per family), when [`SessionConfig::dht`] asked for them.
    pub dht: Option<Dhts>,
    /// Session-wide rate limits; every connection also answers to its torrent's.
    pub limits: RateLimits,
    /// Banned addresses and strikes.
    pub bans: BanList,
    /// Upload slots per torrent and across the session.
    pub upload_slots: UploadSlots,
    /// The encryption policy in force and peers known to want MSE.
    pub encryption: EncryptionState,
    /// The uTP socket (on the listener's port, shared with the DHT when that runs there).
    pub utp: Option<UtpSocket>,
    /// The IPv6 uTP socket beside the IPv6 listener, when both run.
    pub utp_v6: Option<UtpSocket>,
    /// The uTP switch and the peers dialed over TCP only.
    pub transports: Transports,
    next_peer_key: AtomicU64,
}

impl Env {
    pub fn new(
        config: SessionConfig,
        listen_addr: SocketAddr,
        listen_v6: Option<SocketAddr>,
        events: broadcast::Sender<Event>,
        dht: Option<Dhts>,
    ) -> Result<Self, TrackerError> {
        Ok(Env {
            conns: ConnLimiter::new(config.max_peers_total, config.max_peers_per_ip),
            half_open: ConnLimiter::new(config.max_half_open, config.max_peers_per_ip),
            buffers: Budget::new(config.max_buffered_bytes),
            tracker: TrackerClient::new(config.tracker_config())?,
            hashers: HashPool::new(config.hash_threads()),
            resume: config.resume_dir.clone().map(ResumeStore::new),
            next_peer_key: AtomicU64::new(1),
            dht,
            limits: RateLimits::default(),
            bans: BanList::new(config.strikes_to_ban),
            upload_slots: UploadSlots::new(
                config.upload_slots_per_torrent,
                config.upload_slots_total,
            ),
            encryption: EncryptionState::new(config.encryption),
            utp: None,
            utp_v6: None,
            transports: Transports::new(config.utp),
            config,
            listen_addr,
            listen_v6,
            events,
        })
    }

    /// Publishes an event; nobody listening is fine.
    pub fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    /// Our handshake for `info_hash`: the DHT bit only while a node runs, so peers send
    /// `port` only to clients that can use it.
    pub fn handshake(&self, info_hash: InfoHash) -> Handshake {
        let hs = Handshake::new(info_hash, self.config.peer_id);
        if self.dht.is_some() {
            hs.with_dht()
        } else {
            hs
        }
    }

    /// The UDP port of our DHT node in `peer`'s family, for its `port` message and nothing
    /// else (none without a node in that family: the peer could not reach another).
    pub fn dht_port_for(&self, peer: &SocketAddr) -> Option<u16> {
        self.dht.as_ref()?.port_for(peer)
    }

    /// Whether `a` is one of our own listeners (a tracker or PEX handing us back to us).
    pub fn is_self(&self, a: &SocketAddr) -> bool {
        std::iter::once(self.listen_addr)
            .chain(self.listen_v6)
            .any(|l| crate::torrent::is_self(a, l))
    }

    /// Where we listen in each family as `(ipv4, ipv6)`, for BEP 7's announce parameters.
    pub fn advertised(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let mut out = (None, None);
        for l in std::iter::once(self.listen_addr).chain(self.listen_v6) {
            let slot = if l.is_ipv6() { &mut out.1 } else { &mut out.0 };
            if slot.is_none() {
                *slot = super::own_addrs::advertised(l);
            }
        }
        out
    }

    /// Whether uTP connections are made and accepted now.
    pub fn utp_enabled(&self) -> bool {
        (self.utp.is_some() || self.utp_v6.is_some()) && self.transports.utp()
    }

    /// The socket to dial `addr` over uTP with: the one of `addr`'s family, unless uTP is
    /// off, no socket of that family is bound, or `addr` is known to answer only over TCP.
    pub fn utp_for(&self, addr: &SocketAddr) -> Option<&UtpSocket> {
        let s = [self.utp.as_ref(), self.utp_v6.as_ref()]
            .into_iter()
            .flatten()
            .find(|s| s.local_addr().is_ok_and(|l| l.is_ipv4() == addr.is_ipv4()))?;
        (self.transports.utp() && !self.transports.tcp_only(addr)).then_some(s)
    }

    pub fn next_peer_key(&self) -> PeerKey {
        PeerKey(self.next_peer_key.fetch_add(1, Ordering::Relaxed))
    }
}
