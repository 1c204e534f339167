//! Why a peer connection ended (or was refused). Typed, because bans, strikes and the
//! dashboard's peer list read it; `Display` gives the text users see.

use serde::Serialize;

/// The end of one peer connection.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum DisconnectReason {
    /// Paused, stopped, removed, or replaced (metadata arrived): our decision.
    #[error("disconnected by us")]
    ByUs,
    #[error("connection closed by peer")]
    ClosedByPeer,
    #[error("I/O error: {0}")]
    Io(String),
    /// The byte stream broke the wire protocol (bad frame, oversized message).
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("have for piece {0} out of range")]
    HaveOutOfRange(u32),
    #[error("bad bitfield: {0}")]
    BadBitfield(String),
    #[error("malformed extension message: {0}")]
    BadExtension(String),
    #[error("too many invalid requests")]
    InvalidRequests,
    #[error("sent too many blocks we did not ask for")]
    UnrequestedData,
    #[error("sent data that failed verification")]
    BadData,
    #[error("both sides are seeds")]
    BothSeeds,
    #[error("silent for too long")]
    Silent,
    #[error("the peer has nothing for us")]
    Useless,
    #[error("torrent not running")]
    NotRunning,
    #[error("connected to ourselves")]
    Ourselves,
    #[error("torrent connection limit")]
    TorrentLimit,
    #[error("already connected")]
    Duplicate,
    #[error("banned: {0}")]
    Banned(crate::session::bans::BanReason),
    #[error("peer removed")]
    Removed,
    /// Our handler panicked on this peer's messages (a bug of ours, logged).
    #[error("internal error")]
    Internal,
    #[error("writer gone")]
    WriterGone,
    #[error("reading from disk failed")]
    DiskRead,
    /// An encrypted (MSE) handshake while our encryption policy is `disabled`.
    #[error("encrypted handshake refused: encryption is disabled")]
    EncryptionDisabled,
    /// A plaintext handshake while our encryption policy is `required`.
    #[error("plaintext handshake refused: encryption is required")]
    EncryptionRequired,
    /// The MSE handshake failed after the peer named the torrent (no common method, bad
    /// verification constant, oversized padding, …).
    #[error("encryption handshake failed: {0}")]
    Encryption(String),
}
