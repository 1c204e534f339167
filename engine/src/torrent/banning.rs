//! The torrent's side of bans: striking and banning the addresses it caught, dropping
//! connections from banned addresses, and remembering why recent connections ended.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::shared::{PeerEntry, Shared};
use super::Torrent;
use crate::events::Event;
use crate::peer::DisconnectReason;
use crate::session::bans::{Ban, BanReason};
use crate::status::PeerEnd;
use crate::PeerKey;

/// Ended connections remembered per torrent, for the dashboard's peer list.
const RECENT_ENDS: usize = 64;

impl Torrent {
    /// One proven bad piece from `ip`.
    pub(crate) fn strike(&self, ip: IpAddr) {
        if self.web_seed_convicted(ip) {
            return;
        }
        tracing::info!(torrent = %self.info_hash, %ip, "strike: sent a corrupt block");
        if let Some(ban) = self.env.bans.strike(ip) {
            self.announce_ban(ban);
        }
    }

    /// Bans `ip` for what it did here.
    pub(crate) fn ban(&self, ip: IpAddr, reason: BanReason) {
        if let Some(ban) = self.env.bans.ban(ip, reason) {
            self.announce_ban(ban);
        }
    }

    fn announce_ban(&self, ban: Ban) {
        tracing::warn!(torrent = %self.info_hash, ip = %ban.ip, reason = %ban.reason, "peer banned");
        self.env.emit(Event::PeerBanned {
            ip: ban.ip,
            reason: ban.reason,
            info_hash: Some(self.info_hash),
        });
    }

    /// Drops connections from addresses banned since the last look (cheap when nothing
    /// changed: one atomic load).
    pub(crate) fn enforce_bans(&self, sh: &mut Shared) {
        let generation = self.env.bans.generation();
        if generation == sh.ban_generation {
            return;
        }
        sh.ban_generation = generation;
        for p in sh.peers.values_mut() {
            if self.env.bans.is_banned(p.addr.ip()) {
                p.disconnect();
            }
        }
    }

    /// A connection ended: release it, and ban a peer that pushed unasked-for data.
    pub(crate) fn on_peer_end(&self, key: PeerKey, reason: &DisconnectReason) {
        let addr = self.unregister_peer(key, reason);
        if let (Some(addr), DisconnectReason::UnrequestedData) = (addr, reason) {
            self.ban(addr.ip(), BanReason::UnrequestedData);
        }
    }
}

/// Remembers how a connection ended (the oldest record goes when full).
pub(super) fn remember_end(ends: &mut VecDeque<PeerEnd>, p: &PeerEntry, reason: &DisconnectReason) {
    if ends.len() >= RECENT_ENDS {
        ends.pop_front();
    }
    ends.push_back(PeerEnd {
        addr: p.addr,
        client: p.client.clone().unwrap_or_else(|| p.peer_id.client_name()),
        downloaded: p.downloaded,
        uploaded: p.io.uploaded.load(Ordering::Relaxed),
        reason: reason.clone(),
        at: SystemTime::now(),
    });
}
