//! Types that cross the wire between the server and the browser.

use serde::{Deserialize, Serialize};

mod bans;
mod chat;
mod encryption;
mod events;
mod folders;
mod labels;
mod network;
mod notifications;
mod search;
mod selection;
mod speed;
mod tracker;

pub use bans::*;
pub use chat::*;
pub use encryption::*;
pub use events::*;
pub use folders::*;
pub use labels::*;
pub use network::*;
pub use notifications::*;
pub use search::*;
pub use selection::*;
pub use speed::*;
pub use tracker::*;

/// What the server says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerStatus {
    pub version: String,
    pub uptime_secs: u64,
}

/// Body of every API error: a machine-readable code and a human-readable reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    pub error: String,
    pub message: String,
}

/// What a user may do: an admin sees and controls every torrent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    User,
}

/// A user as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// Unix seconds.
    pub created_at: i64,
}

/// `POST /api/auth/register` and `POST /api/auth/login`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// A successful login (also sets the `te_session` and `te_csrf` cookies).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Echo in `X-CSRF-Token` on unsafe requests authenticated by cookie.
    pub csrf_token: String,
    pub user: User,
}

/// `PUT /api/users/me`: change the password (existing tokens stop working).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMe {
    pub current_password: String,
    pub new_password: String,
}

/// Download priority: orders the queue under `MAX_CONCURRENT_TORRENTS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    High,
    #[default]
    Normal,
    Low,
}

impl Priority {
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        match s {
            "high" => Some(Priority::High),
            "normal" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }
}

/// `PUT /api/torrents/{infoHash}/priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityRequest {
    pub priority: Priority,
}

/// Where a torrent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TorrentState {
    /// A magnet whose metadata has not arrived yet.
    FetchingMetadata,
    Checking,
    /// Waiting for a slot under `MAX_CONCURRENT_TORRENTS`.
    Queued,
    Downloading,
    Seeding,
    Paused,
    Error,
}

impl TorrentState {
    pub const ALL: [TorrentState; 7] = [
        TorrentState::FetchingMetadata,
        TorrentState::Checking,
        TorrentState::Queued,
        TorrentState::Downloading,
        TorrentState::Seeding,
        TorrentState::Paused,
        TorrentState::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TorrentState::FetchingMetadata => "fetchingMetadata",
            TorrentState::Checking => "checking",
            TorrentState::Queued => "queued",
            TorrentState::Downloading => "downloading",
            TorrentState::Seeding => "seeding",
            TorrentState::Paused => "paused",
            TorrentState::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<TorrentState> {
        TorrentState::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// `POST /api/torrents` with a JSON body: add a magnet link.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddMagnet {
    #[serde(rename = "magnetURI", alias = "magnetUri", alias = "magnet")]
    pub magnet_uri: String,
    #[serde(flatten)]
    pub options: AddOptions,
}

/// Options of `POST /api/torrents` (JSON fields, or multipart fields of the same names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddOptions {
    /// Folder inside the user's download root; default: the root itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_path: Option<String>,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub priority: Priority,
    /// Extra peers to dial (`IP:PORT`), besides those trackers return.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<String>,
    /// One of the user's categories; its save path applies when `savePath` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// File priorities (a `.torrent` only; files not listed are `normal`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FilePriorityChange>,
    /// Only these files (0-based), every other skipped (a `.torrent` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_files: Option<Vec<usize>>,
    /// Download pieces in order.
    #[serde(default)]
    pub sequential: bool,
    /// The first and last piece of each wanted file first (previews).
    #[serde(default)]
    pub first_last_piece: bool,
}

/// `POST /api/torrents/create` with a JSON body: share a file or folder that is already on the
/// server, inside the user's download folder.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTorrent {
    pub path: String,
    /// Announce URLs, one tier each.
    #[serde(default)]
    pub trackers: Vec<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Power of two, 16 KiB to 64 MiB; default: chosen from the size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piece_length: Option<u32>,
    #[serde(default)]
    pub paused: bool,
    #[serde(default)]
    pub priority: Priority,
    /// Put this server in the torrent's `url-list` (BEP 19 web seed), so it downloads over
    /// HTTP from here when no peer is online.
    #[serde(default)]
    pub web_seed: bool,
    /// Put this server's built-in tracker first in the announce list.
    #[serde(default)]
    pub built_in_tracker: bool,
}

/// A torrent in lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentSummary {
    pub info_hash: String,
    pub name: String,
    pub state: TorrentState,
    pub error: Option<String>,
    /// 0.0 ..= 1.0
    pub progress: f64,
    pub total_bytes: u64,
    pub bytes_done: u64,
    pub download_rate: u64,
    pub upload_rate: u64,
    /// Payload bytes over the torrent's whole life (across restarts).
    pub downloaded: u64,
    pub uploaded: u64,
    pub ratio: f64,
    pub peers: usize,
    pub seeds: usize,
    pub eta_secs: Option<u64>,
    pub priority: Priority,
    pub save_path: String,
    pub owner_id: i64,
    pub added_at: i64,
    pub completed_at: Option<i64>,
    pub magnet_uri: Option<String>,
    /// Small and stable while the torrent exists (Transmission RPC addresses torrents by it).
    #[serde(default)]
    pub id: u32,
    #[serde(default)]
    pub category: Option<String>,
    /// Sorted.
    #[serde(default)]
    pub tags: Vec<String>,
    /// This torrent's own limits, bytes per second, 0 = unlimited (the server's apply too).
    #[serde(default)]
    pub download_limit: u64,
    #[serde(default)]
    pub upload_limit: u64,
    /// Pieces in order (previews).
    #[serde(default)]
    pub sequential: bool,
    /// The first and last piece of each wanted file come first (previews).
    #[serde(default)]
    pub first_last_piece: bool,
    /// BEP 16 super-seeding is on.
    #[serde(default)]
    pub super_seeding: bool,
    /// Seconds spent seeding over the torrent's whole life (across restarts).
    #[serde(default)]
    pub seconds_seeding: u64,
    /// This torrent's seeding goals (`-1` = the server's).
    #[serde(default)]
    pub goals: TorrentGoals,
    /// Listed in this server's search catalog (found by federated servers too).
    #[serde(default)]
    pub public: bool,
}

/// `GET /api/torrents/{infoHash}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentDetail {
    #[serde(flatten)]
    pub summary: TorrentSummary,
    pub pieces_done: u32,
    pub num_pieces: u32,
    pub piece_length: u32,
    pub wasted: u64,
    pub private: bool,
    pub comment: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    /// Unix seconds, as the .torrent says.
    #[serde(default)]
    pub creation_date: Option<i64>,
    pub files: Vec<FileProgress>,
    pub trackers: Vec<TrackerInfo>,
    /// BEP 19 web seeds (`url-list`): HTTP URLs serving the content.
    #[serde(default)]
    pub web_seeds: Vec<String>,
    /// What each web seed is doing (shown beside the trackers).
    #[serde(default)]
    pub web_seed_status: Vec<WebSeedInfo>,
    /// Counts on this server's built-in tracker, when it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_in_tracker: Option<SwarmCounts>,
}

/// One file of a torrent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileProgress {
    pub path: String,
    pub length: u64,
    pub bytes_done: u64,
    pub progress: f64,
    #[serde(default)]
    pub priority: FilePriority,
}

/// One tracker and how its last announce went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackerInfo {
    pub url: String,
    pub tier: usize,
    /// Unix seconds.
    pub last_announce: Option<u64>,
    pub last_result: Option<AnnounceResult>,
    pub next_announce_secs: Option<u64>,
}

/// What a web seed is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WebSeedState {
    /// Nothing to fetch from it now (seeding, paused, all wanted blocks requested).
    Idle,
    /// Requests in flight.
    Active,
    /// Failed lately; tried again later.
    BackingOff,
    /// Given up on for this session (`last_error` says why).
    Dropped,
}

/// One web seed (BEP 19) of a torrent, as a tracker's line shows one tracker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSeedInfo {
    pub url: String,
    pub state: WebSeedState,
    /// Payload bytes received from it.
    pub downloaded: u64,
    pub download_rate: u64,
    /// Range requests in flight.
    pub requests: usize,
    /// Failures in a row.
    pub failures: u32,
    pub last_error: Option<String>,
    pub retry_in_secs: Option<u64>,
}

/// The outcome of an announce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnnounceResult {
    pub ok: bool,
    pub error: Option<String>,
    pub peers: Option<usize>,
    pub seeders: Option<u32>,
    pub leechers: Option<u32>,
    pub interval_secs: Option<u64>,
}

/// One connected peer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    pub addr: String,
    pub client: String,
    pub incoming: bool,
    pub download_rate: u64,
    pub upload_rate: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
    pub pieces: u32,
    pub progress: f64,
    /// Where we learned of the peer: `tracker`, `dht`, `pex`, `user` or `incoming`.
    #[serde(default)]
    pub source: String,
    /// Proven bad pieces from this address (banned at the session's threshold).
    #[serde(default)]
    pub strikes: u32,
    /// The connection is RC4-encrypted (MSE/PE).
    #[serde(default)]
    pub encrypted: bool,
}

/// `GET /api/torrents/{infoHash}/pieces`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PiecesInfo {
    pub num_pieces: u32,
    pub pieces_done: u32,
    pub piece_length: u32,
    /// BEP 3 bitfield (piece 0 is the high bit of the first byte), lower-case hex.
    pub bitfield: String,
}

/// `POST /api/torrents/{infoHash}/peers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddPeers {
    pub peers: Vec<String>,
}

/// `GET /api/statistics`: the caller's torrents (an admin's: all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statistics {
    pub download_rate: u64,
    pub upload_rate: u64,
    pub total_downloaded: u64,
    pub total_uploaded: u64,
    pub torrents: usize,
    /// Count per state (every state present, zeros included).
    pub by_state: std::collections::BTreeMap<String, usize>,
    pub peers: usize,
    pub history: Vec<HistoryPoint>,
    /// The server's DHT node (server-wide, whoever asks).
    #[serde(default)]
    pub dht: DhtInfo,
}

/// The DHT node as `GET /api/statistics` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DhtInfo {
    /// Whether a node runs (off with `--no-dht`).
    pub enabled: bool,
    /// Nodes in its routing table, and those of them known to be alive.
    pub nodes: usize,
    pub good_nodes: usize,
    /// Its UDP port.
    pub port: Option<u16>,
    /// Peers other nodes announced to us, over all info-hashes.
    pub stored_peers: usize,
    /// The IPv6 node (BEP 32) beside an IPv4 one, when the server listens on IPv6 too:
    /// its routing table and UDP port (`nodes`, `good_nodes` and `port` are the IPv4
    /// node's; `stored_peers` counts both).
    #[serde(default)]
    pub nodes_v6: Option<usize>,
    #[serde(default)]
    pub good_nodes_v6: Option<usize>,
    #[serde(default)]
    pub port_v6: Option<u16>,
}

/// One statistics sample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// Unix seconds.
    pub at: i64,
    pub download_rate: u64,
    pub upload_rate: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub peers: u64,
    pub torrents: u64,
}

/// `GET /api/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// "ok" or "degraded".
    pub status: String,
    pub version: String,
    pub uptime_secs: u64,
    pub engine: ComponentHealth,
    pub database: ComponentHealth,
    pub peer_listener: ComponentHealth,
    /// Only when the Kafka adapter runs; not ok makes the status "degraded" (still 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<ComponentHealth>,
}

/// One part of the server in a health report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentHealth {
    pub ok: bool,
    pub detail: String,
}

/// `3725` seconds as `1h 2m 5s`: uptimes and ETAs read better this way.
pub fn format_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m {s}s"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(5), "5s");
        assert_eq!(format_duration(65), "1m 5s");
        assert_eq!(format_duration(3725), "1h 2m 5s");
        assert_eq!(format_duration(90_061), "1d 1h 1m");
    }
}
