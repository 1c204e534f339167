//! The seam between a peer connection and what it serves.
//!
//! A connection ([`super::run`]) knows the wire codec, its socket and its writer; everything
//! a message *means* belongs to a [`PeerHandler`]: a torrent with metadata
//! ([`crate::torrent::Torrent`]) or a magnet's metadata fetcher
//! ([`crate::metadata::Fetcher`]). The listener routes an incoming handshake to whichever
//! handler the info-hash belongs to right now.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::reason::DisconnectReason;
use super::{Out, WriterCmd};
use crate::session::env::Env;
use crate::session::ratelimit::PeerLimits;
use crate::storage::Storage;
use crate::torrent::shared::PeerIo;
use crate::wire::{Handshake, Message};
use crate::{InfoHash, PeerKey};

/// A handshaken connection as a handler first sees it.
pub(crate) struct PeerConn {
    pub addr: SocketAddr,
    pub remote: Handshake,
    pub incoming: bool,
    /// RC4 (MSE) on this connection.
    pub encrypted: bool,
    pub tx: mpsc::UnboundedSender<WriterCmd>,
    /// Set to true to make the connection's tasks exit.
    pub kill: Arc<watch::Sender<bool>>,
    pub io: Arc<PeerIo>,
}

/// What to do with one peer's traffic. All methods run on the peer's reader task and must not
/// block on I/O; `on_messages` is the hot path (one call per socket read).
pub(crate) trait PeerHandler: Send + Sync + 'static {
    fn env(&self) -> &Arc<Env>;
    /// The rate limits this connection's transfers answer to (taken once per connection;
    /// the buckets are shared, so later limit changes apply).
    fn limits(&self) -> PeerLimits;
    fn info_hash(&self) -> InfoHash;
    /// Our handshake for this info-hash.
    fn handshake(&self) -> Handshake;
    /// Largest frame accepted from peers (a bitfield may exceed the default).
    fn max_frame_len(&self) -> usize;
    /// Admits a connection and queues its first messages, or says why not.
    fn register(&self, key: PeerKey, conn: PeerConn) -> Result<(), DisconnectReason>;
    /// Applies a batch of messages (drained). Messages for this peer's writer go to `out`;
    /// `Some` ends the connection.
    fn on_messages(
        self: &Arc<Self>,
        key: PeerKey,
        msgs: &mut Vec<Message>,
        out: &mut Vec<Out>,
    ) -> Option<DisconnectReason>;
    /// The connection ended: release everything it held.
    fn unregister(&self, key: PeerKey, reason: &DisconnectReason);
    /// Where requested blocks are read from; `None` serves nothing.
    fn blocks(&self) -> Option<Arc<Storage>>;
    /// Reading a requested block from disk failed.
    fn on_read_error(&self, error: String);
}
