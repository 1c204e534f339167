//! Point-in-time snapshots of torrents and peers for the UI and the API.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Serialize;

use crate::selection::FilePriority;
use crate::tracker::TrackerStatus;
use crate::InfoHash;

/// Where a torrent is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TorrentState {
    /// A magnet: finding peers and fetching the info dictionary.
    FetchingMetadata,
    /// Hashing data already on disk.
    Checking,
    Downloading,
    /// Complete; still serving peers.
    Seeding,
    Paused,
    /// Stopped by a storage error; `TorrentStatus::error` says which.
    Error,
}

/// One torrent at a glance. Byte counts are payload bytes.
#[derive(Clone, Debug, Serialize)]
pub struct TorrentStatus {
    pub info_hash: InfoHash,
    pub name: String,
    pub state: TorrentState,
    pub error: Option<String>,
    pub total_bytes: u64,
    /// Verified bytes.
    pub bytes_done: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    /// Bytes received that were not needed or failed their hash check.
    pub wasted: u64,
    pub download_rate: u64,
    pub upload_rate: u64,
    pub peers: usize,
    pub seeds: usize,
    pub pieces_done: u32,
    pub num_pieces: u32,
    pub files: Vec<FileStatus>,
    pub trackers: Vec<TrackerStatus>,
    /// BEP 19 web seeds (empty until a magnet's metadata arrives).
    pub web_seeds: Vec<crate::webseed::WebSeedStatus>,
    pub eta_secs: Option<u64>,
    /// This torrent's own limits, bytes per second, 0 = unlimited (the session's apply too).
    pub download_limit: u64,
    pub upload_limit: u64,
    /// Pieces are fetched in order (previews).
    pub sequential: bool,
    /// The first and last piece of each wanted file come first (previews).
    pub first_last_piece: bool,
    /// BEP 16 super-seeding is on (it acts while the torrent seeds).
    pub super_seeding: bool,
    /// Bytes of the files not skipped, and how many of them are verified: the progress that
    /// counts, since a torrent whose wanted files are done is complete.
    pub wanted_bytes: u64,
    pub wanted_done: u64,
}

/// A torrent's state in brief (see `TorrentHandle::brief`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief {
    pub state: TorrentState,
    pub failed: bool,
    /// Every piece of the wanted files is verified.
    pub wanted_complete: bool,
}

/// One file of a torrent: how much of it is verified.
#[derive(Clone, Debug, Serialize)]
pub struct FileStatus {
    pub path: PathBuf,
    pub length: u64,
    pub bytes_done: u64,
    pub priority: FilePriority,
}

/// Where the engine learned of a peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerSource {
    /// It connected to us.
    #[default]
    Incoming,
    Tracker,
    Dht,
    Pex,
    /// Local service discovery (BEP 14): announced on the LAN.
    Lsd,
    /// Given by the user (add options, magnet `x.pe`, `add_peers`).
    User,
}

/// How one connection of a torrent ended.
#[derive(Clone, Debug, Serialize)]
pub struct PeerEnd {
    pub addr: SocketAddr,
    pub client: String,
    pub downloaded: u64,
    pub uploaded: u64,
    pub reason: crate::peer::DisconnectReason,
    pub at: std::time::SystemTime,
}

/// One connected peer.
#[derive(Clone, Debug, Serialize)]
pub struct PeerStatus {
    pub addr: SocketAddr,
    pub client: String,
    pub incoming: bool,
    /// The connection is RC4-encrypted (MSE).
    pub encrypted: bool,
    pub download_rate: u64,
    pub upload_rate: u64,
    pub downloaded: u64,
    pub uploaded: u64,
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
    pub pieces: u32,
    pub source: PeerSource,
    /// Speaks the BEP 6 fast extension.
    pub fast: bool,
    /// Speaks BEP 10 extensions (`ut_metadata`, `ut_pex`).
    pub extensions: bool,
    /// Proven bad pieces from this address (the session bans it at `strikes_to_ban`).
    pub strikes: u32,
}
