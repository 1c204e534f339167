//! The `data` of each named event on `GET /api/events`.

use serde::{Deserialize, Serialize};

use super::{Priority, TorrentState};

/// Event names, shared so the server publishes and the browser listens for the same strings.
pub mod names {
    pub const TORRENT_ADDED: &str = "torrent:added";
    pub const TORRENT_PROGRESS: &str = "torrent:progress";
    pub const TORRENT_PIECE: &str = "torrent:piece";
    pub const TORRENT_COMPLETE: &str = "torrent:complete";
    pub const TORRENT_SEEDING: &str = "torrent:seeding";
    pub const TORRENT_ERROR: &str = "torrent:error";
    pub const TORRENT_REMOVED: &str = "torrent:removed";
    pub const QUEUE_UPDATED: &str = "queue:updated";
    pub const TORRENT_LABELS: &str = "torrent:labels";
    pub const PEER_BANNED: &str = "peer:banned";
    pub const CHAT_MESSAGE: &str = "chat:message";
    pub const NOTIFICATION: &str = "notification";
    pub const RESYNC: &str = "resync";
}

/// `torrent:progress`: at most one per torrent per `PROGRESS_INTERVAL_MS`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProgressUpdate {
    pub info_hash: String,
    pub bytes_done: u64,
    pub total_bytes: u64,
    pub progress: f64,
    pub download_rate: u64,
    pub upload_rate: u64,
    pub peers: usize,
}

/// `torrent:piece`: pieces verified since the last such event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PiecesUpdate {
    pub info_hash: String,
    pub pieces: Vec<u32>,
}

/// `queue:updated` and `torrent:seeding`: a state change; pause and priority changes also
/// carry `paused` and `priority`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateUpdate {
    pub info_hash: String,
    pub state: TorrentState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
}

/// `torrent:error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorUpdate {
    pub info_hash: String,
    pub message: String,
}

/// `torrent:complete` and `torrent:removed` (which adds `filesDeleted`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentRef {
    pub info_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_deleted: Option<bool>,
}
