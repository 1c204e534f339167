//! Bans as users see them: the engine session's ban list, and how a torrent's recent
//! connections ended. Who may ban is the API's business (admins).

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use app::types::{BanInfo, PeerEndInfo};
use engine::peer::DisconnectReason;
use engine::session::bans::{Ban, BanReason};
use engine::status::PeerEnd;
use engine::InfoHash;

use super::{Library, LibraryError};
use crate::auth::AuthUser;

impl Library {
    /// Every banned address, oldest first.
    pub fn bans(&self) -> Vec<BanInfo> {
        self.session.bans().iter().map(ban_info).collect()
    }

    /// Bans `ip` for the session; false if it already was.
    pub fn ban(&self, ip: IpAddr) -> bool {
        self.session.ban(ip)
    }

    /// Lifts a ban; false if `ip` was not banned.
    pub fn unban(&self, ip: IpAddr) -> bool {
        self.session.unban(ip)
    }

    /// How the torrent's latest connections ended, newest first.
    pub fn peer_ends(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
    ) -> Result<Vec<PeerEndInfo>, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let mut ends: Vec<PeerEndInfo> = e
            .handle()
            .map_or_else(Vec::new, |h| h.recent_disconnects())
            .iter()
            .map(peer_end)
            .collect();
        ends.reverse();
        Ok(ends)
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub fn ban_kind(r: &BanReason) -> &'static str {
    match r {
        BanReason::CorruptData { .. } => "corrupt_data",
        BanReason::UnrequestedData => "unrequested_data",
        BanReason::Manual => "manual",
    }
}

pub fn ban_info(b: &Ban) -> BanInfo {
    BanInfo {
        ip: b.ip.to_string(),
        kind: ban_kind(&b.reason).into(),
        reason: b.reason.to_string(),
        since: unix(b.since),
    }
}

fn peer_end(e: &PeerEnd) -> PeerEndInfo {
    PeerEndInfo {
        addr: e.addr.to_string(),
        client: e.client.clone(),
        downloaded: e.downloaded,
        uploaded: e.uploaded,
        kind: reason_kind(&e.reason),
        reason: e.reason.to_string(),
        at: unix(e.at),
    }
}

/// The reason's serde tag (`closed_by_peer`, `banned`, …), one source of truth with the
/// engine's own serialization.
fn reason_kind(r: &DisconnectReason) -> String {
    serde_json::to_value(r)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_have_stable_kinds_and_readable_text() {
        assert_eq!(
            reason_kind(&DisconnectReason::ClosedByPeer),
            "closed_by_peer"
        );
        let banned = DisconnectReason::Banned(BanReason::CorruptData { strikes: 3 });
        assert_eq!(reason_kind(&banned), "banned");
        assert_eq!(
            banned.to_string(),
            "banned: sent corrupt data (3 bad pieces)"
        );
        assert_eq!(ban_kind(&BanReason::UnrequestedData), "unrequested_data");
    }
}
