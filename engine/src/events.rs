//! What the engine tells the outside world, over a broadcast bus.
//!
//! Slow subscribers lag (and see `RecvError::Lagged`); the engine never waits for them.

use std::net::SocketAddr;

use serde::Serialize;

use crate::peer::DisconnectReason;
use crate::status::TorrentState;
use crate::tracker::AnnounceSummary;
use crate::InfoHash;

/// Capacity of the broadcast bus: about a few seconds of events for a busy session.
pub const EVENT_CAPACITY: usize = 4096;

/// One engine event; serialized with a `type` tag for the web UI.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    TorrentAdded {
        info_hash: InfoHash,
        name: String,
    },
    /// A magnet's info dictionary arrived and verified; the torrent now has its metainfo.
    MetadataReceived {
        info_hash: InfoHash,
        name: String,
    },
    StateChanged {
        info_hash: InfoHash,
        state: TorrentState,
    },
    /// At most once per second per torrent.
    Progress {
        info_hash: InfoHash,
        bytes_done: u64,
        total_bytes: u64,
        download_rate: u64,
        upload_rate: u64,
        peers: usize,
    },
    PieceVerified {
        info_hash: InfoHash,
        piece: u32,
    },
    /// A piece failed its hash check; `peers` contributed blocks to it (the ban hook).
    PieceFailed {
        info_hash: InfoHash,
        piece: u32,
        peers: Vec<SocketAddr>,
    },
    Completed {
        info_hash: InfoHash,
    },
    /// An address was banned for the session (strikes, pushed data, or a user); `info_hash`
    /// is the torrent where it was caught, if any.
    PeerBanned {
        ip: std::net::IpAddr,
        reason: crate::session::bans::BanReason,
        info_hash: Option<InfoHash>,
    },
    Error {
        info_hash: InfoHash,
        message: String,
    },
    PeerConnected {
        info_hash: InfoHash,
        addr: SocketAddr,
    },
    PeerDisconnected {
        info_hash: InfoHash,
        addr: SocketAddr,
        reason: DisconnectReason,
    },
    TrackerAnnounced {
        info_hash: InfoHash,
        url: String,
        result: Result<AnnounceSummary, String>,
    },
    TorrentRemoved {
        info_hash: InfoHash,
    },
}
