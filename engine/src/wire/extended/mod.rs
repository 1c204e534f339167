//! BEP 10 extended messages: the extension handshake and one module per extension.
//!
//! Message id 0 is the handshake; every other id is one *we* assigned in our handshake's
//! `m` dictionary (the receiver's ids are used on the wire), so incoming dispatch is by our
//! fixed ids and outgoing messages use the ids the peer announced ([`handshake::PeerExtensions`]).

pub mod handshake;
pub mod ut_metadata;
pub mod ut_pex;

pub use handshake::{ExtHandshake, PeerExtensions};

/// The extended-message id of the extension handshake.
pub const HANDSHAKE_ID: u8 = 0;
/// Our id for `ut_pex` (what peers must send us).
pub const UT_PEX_ID: u8 = 1;
/// Our id for `ut_metadata`.
pub const UT_METADATA_ID: u8 = 2;

/// Why an extended message was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtError {
    #[error("not bencoded: {0}")]
    Bencode(#[from] crate::bencode::BencodeError),
    #[error("expected a dictionary")]
    NotADict,
    #[error("missing or invalid '{0}'")]
    Field(&'static str),
    #[error("'{0}' is out of range")]
    OutOfRange(&'static str),
}
