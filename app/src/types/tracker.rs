//! The built-in tracker as the API shows it (`GET /api/tracker`, a torrent's detail).

use serde::{Deserialize, Serialize};

/// A swarm's counts on this server's tracker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SwarmCounts {
    pub seeders: u32,
    pub leechers: u32,
    /// Downloads that announced `completed`.
    pub completed: u32,
}

/// `GET /api/tracker`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerStatus {
    pub enabled: bool,
    /// `private` (torrents on this server only) or `open`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub udp_port: Option<u16>,
    #[serde(default)]
    pub interval_secs: u64,
    #[serde(default)]
    pub require_passkey: bool,
    #[serde(default)]
    pub torrents: u64,
    #[serde(default)]
    pub peers: u64,
    #[serde(default)]
    pub announces: u64,
    #[serde(default)]
    pub scrapes: u64,
    /// Over the last 10 seconds.
    #[serde(default)]
    pub announces_per_sec: f64,
    /// What to put in a torrent's announce list (the caller's passkey included when
    /// passkeys are required).
    #[serde(default)]
    pub announce_url: Option<String>,
    #[serde(default)]
    pub udp_announce_url: Option<String>,
}
