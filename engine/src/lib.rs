//! TorrentEdge's BitTorrent engine.
//!
//! A library with no web, SQL or UI code: the server and the CLI drive it through
//! [`session::Session`] and observe it through [`events::Event`] and status snapshots.
//! `engine/DESIGN.md` describes how the pieces fit.

pub mod bencode;
pub mod bitfield;
pub mod config;
pub mod create;
pub mod dht;
pub mod events;
pub mod http;
pub mod listener;
pub mod lsd;
pub mod magnet;
mod metadata;
pub mod metainfo;
pub mod peer;
pub mod picker;
pub mod portmap;
pub mod resume;
pub mod selection;
pub mod session;
pub mod status;
pub mod storage;
pub mod torrent;
pub mod tracker;
pub mod types;
pub mod utp;
pub mod webseed;
pub mod wire;

pub use bitfield::Bitfield;
pub use types::{InfoHash, PeerId, PeerKey};
