//! BEP 3 message types (plus BEP 5 `port`, BEP 6 fast extension and BEP 10 `extended`).

use bytes::Bytes;

/// One block: `len` bytes at `offset` within piece `piece`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRequest {
    pub piece: u32,
    pub offset: u32,
    pub len: u32,
}

/// A framed peer message. Payload bytes (`Bitfield`, `Piece`, `Extended`, `Unknown`) are
/// zero-copy slices of the receive buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    /// Raw bitfield bytes; check them with `Bitfield::from_wire` once the piece count is known.
    Bitfield(Bytes),
    Request(BlockRequest),
    Piece {
        piece: u32,
        offset: u32,
        data: Bytes,
    },
    Cancel(BlockRequest),
    /// BEP 5: the peer's DHT port.
    Port(u16),
    /// BEP 6: "you may want this piece".
    SuggestPiece(u32),
    /// BEP 6: instead of a bitfield, "I have every piece".
    HaveAll,
    /// BEP 6: instead of a bitfield, "I have nothing".
    HaveNone,
    /// BEP 6: the peer will not serve this request.
    RejectRequest(BlockRequest),
    /// BEP 6: this piece may be requested even while choked.
    AllowedFast(u32),
    /// BEP 10: `id` 0 is the extension handshake, others are ids we assigned.
    Extended {
        id: u8,
        payload: Bytes,
    },
    /// An id we do not implement. Decoding it is not an error so the caller can log and
    /// ignore it; the frame has been consumed either way.
    Unknown {
        id: u8,
        payload: Bytes,
    },
}

/// Message ids on the wire.
pub(super) mod id {
    pub const CHOKE: u8 = 0;
    pub const UNCHOKE: u8 = 1;
    pub const INTERESTED: u8 = 2;
    pub const NOT_INTERESTED: u8 = 3;
    pub const HAVE: u8 = 4;
    pub const BITFIELD: u8 = 5;
    pub const REQUEST: u8 = 6;
    pub const PIECE: u8 = 7;
    pub const CANCEL: u8 = 8;
    pub const PORT: u8 = 9;
    pub const SUGGEST_PIECE: u8 = 13;
    pub const HAVE_ALL: u8 = 14;
    pub const HAVE_NONE: u8 = 15;
    pub const REJECT_REQUEST: u8 = 16;
    pub const ALLOWED_FAST: u8 = 17;
    pub const EXTENDED: u8 = 20;
}

impl Message {
    /// The wire id, `None` for keep-alive (which has no id byte).
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Message::KeepAlive => return None,
            Message::Choke => id::CHOKE,
            Message::Unchoke => id::UNCHOKE,
            Message::Interested => id::INTERESTED,
            Message::NotInterested => id::NOT_INTERESTED,
            Message::Have(_) => id::HAVE,
            Message::Bitfield(_) => id::BITFIELD,
            Message::Request(_) => id::REQUEST,
            Message::Piece { .. } => id::PIECE,
            Message::Cancel(_) => id::CANCEL,
            Message::Port(_) => id::PORT,
            Message::SuggestPiece(_) => id::SUGGEST_PIECE,
            Message::HaveAll => id::HAVE_ALL,
            Message::HaveNone => id::HAVE_NONE,
            Message::RejectRequest(_) => id::REJECT_REQUEST,
            Message::AllowedFast(_) => id::ALLOWED_FAST,
            Message::Extended { .. } => id::EXTENDED,
            Message::Unknown { id, .. } => *id,
        })
    }

    /// Bytes the message occupies on the wire, length prefix included.
    pub fn encoded_len(&self) -> usize {
        4 + match self {
            Message::KeepAlive => 0,
            Message::Choke
            | Message::Unchoke
            | Message::Interested
            | Message::NotInterested
            | Message::HaveAll
            | Message::HaveNone => 1,
            Message::Have(_) | Message::SuggestPiece(_) | Message::AllowedFast(_) => 5,
            Message::Bitfield(b) => 1 + b.len(),
            Message::Request(_) | Message::Cancel(_) | Message::RejectRequest(_) => 13,
            Message::Piece { data, .. } => 9 + data.len(),
            Message::Port(_) => 3,
            Message::Extended { payload, .. } => 2 + payload.len(),
            Message::Unknown { payload, .. } => 1 + payload.len(),
        }
    }
}
