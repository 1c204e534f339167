//! BEP 3 peer wire protocol: the handshake and length-prefixed messages.
//!
//! Everything here is pure framing; deciding whether a message makes sense for the torrent
//! (piece index in range, request matches an outstanding one) is the peer task's job.

mod codec;
mod handshake;
mod message;

pub mod extended;

pub use codec::{Codec, DEFAULT_MAX_MESSAGE_LEN};
pub use handshake::{read_handshake, write_handshake, Handshake, HANDSHAKE_LEN, PROTOCOL};
pub use message::{BlockRequest, Message};

/// The block size every client requests (16 KiB); larger requests are commonly refused.
pub const BLOCK_SIZE: u32 = 16384;

/// A peer sent something that is not valid BEP 3 framing; the connection should be dropped.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("invalid handshake: {0}")]
    InvalidHandshake(&'static str),
    #[error("message of {len} bytes exceeds the {max}-byte limit")]
    TooLong { len: usize, max: usize },
    #[error("message id {id} has an invalid {len}-byte payload")]
    BadLength { id: u8, len: usize },
}
