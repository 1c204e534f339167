//! Bans, strikes and how connections ended (`/api/bans`, `/api/torrents/{hash}/peers/ended`).

use serde::{Deserialize, Serialize};

/// One banned address (`GET /api/bans`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BanInfo {
    pub ip: String,
    /// `corrupt_data`, `unrequested_data` or `manual`.
    pub kind: String,
    /// What the user reads, e.g. "sent corrupt data (3 bad pieces)".
    pub reason: String,
    /// Unix seconds.
    pub since: u64,
}

/// `POST /api/bans`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanRequest {
    pub ip: String,
}

/// How one of a torrent's recent connections ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerEndInfo {
    pub addr: String,
    pub client: String,
    pub downloaded: u64,
    pub uploaded: u64,
    /// Machine-readable, e.g. `closed_by_peer`, `banned`, `unrequested_data`.
    pub kind: String,
    pub reason: String,
    /// Unix seconds.
    pub at: u64,
}

/// The `peer_banned` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerBanned {
    #[serde(flatten)]
    pub ban: BanInfo,
    /// The torrent where the peer was caught (none for a ban by hand).
    pub info_hash: Option<String>,
}
