//! Length-prefixed message framing over a `BytesMut` receive buffer.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::message::{id, BlockRequest, Message};
use super::WireError;

/// Default cap on one message (length prefix excluded): 1 MiB covers a 16 KiB piece
/// message and the bitfield of a torrent with up to 8 million pieces.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 1 << 20;

/// Frames and parses messages. Stateless apart from the size cap.
///
/// Pass `max(DEFAULT_MAX_MESSAGE_LEN, bitfield_len + 1)` so a huge torrent's bitfield
/// still fits while a peer cannot make us buffer more than that.
#[derive(Clone, Copy, Debug)]
pub struct Codec {
    max_len: usize,
}

impl Default for Codec {
    fn default() -> Self {
        Codec::new(DEFAULT_MAX_MESSAGE_LEN)
    }
}

impl Codec {
    pub fn new(max_message_len: usize) -> Self {
        Codec {
            max_len: max_message_len,
        }
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Takes one whole message off the front of `buf`, or returns `None` (leaving `buf`
    /// untouched apart from reserving room for the rest of the frame) if it is incomplete.
    ///
    /// The length prefix is checked against the cap before anything is buffered, and
    /// payloads are split off `buf` without copying. On error `buf` is left as it was.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Message>, WireError> {
        let Some(prefix) = buf.get(..4) else {
            return Ok(None);
        };
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len > self.max_len {
            return Err(WireError::TooLong {
                len,
                max: self.max_len,
            });
        }
        if buf.len() < 4 + len {
            buf.reserve(4 + len - buf.len());
            return Ok(None);
        }
        if len == 0 {
            buf.advance(4);
            return Ok(Some(Message::KeepAlive));
        }
        let msg_id = buf[4];
        check_len(msg_id, len - 1)?;
        buf.advance(5);
        let mut p = buf.split_to(len - 1);
        Ok(Some(match msg_id {
            id::CHOKE => Message::Choke,
            id::UNCHOKE => Message::Unchoke,
            id::INTERESTED => Message::Interested,
            id::NOT_INTERESTED => Message::NotInterested,
            id::HAVE => Message::Have(p.get_u32()),
            id::BITFIELD => Message::Bitfield(p.freeze()),
            id::REQUEST => Message::Request(block(&mut p)),
            id::CANCEL => Message::Cancel(block(&mut p)),
            id::PIECE => {
                let piece = p.get_u32();
                let offset = p.get_u32();
                Message::Piece {
                    piece,
                    offset,
                    data: p.freeze(),
                }
            }
            id::PORT => Message::Port(p.get_u16()),
            id::SUGGEST_PIECE => Message::SuggestPiece(p.get_u32()),
            id::HAVE_ALL => Message::HaveAll,
            id::HAVE_NONE => Message::HaveNone,
            id::REJECT_REQUEST => Message::RejectRequest(block(&mut p)),
            id::ALLOWED_FAST => Message::AllowedFast(p.get_u32()),
            id::EXTENDED => {
                let ext = p.get_u8();
                Message::Extended {
                    id: ext,
                    payload: p.freeze(),
                }
            }
            other => Message::Unknown {
                id: other,
                payload: p.freeze(),
            },
        }))
    }

    /// Appends `msg`, length prefix included.
    pub fn encode(msg: &Message, dst: &mut BytesMut) {
        dst.reserve(msg.encoded_len());
        dst.put_u32((msg.encoded_len() - 4) as u32);
        let Some(msg_id) = msg.id() else {
            return;
        };
        dst.put_u8(msg_id);
        match msg {
            Message::KeepAlive
            | Message::Choke
            | Message::Unchoke
            | Message::Interested
            | Message::NotInterested
            | Message::HaveAll
            | Message::HaveNone => {}
            Message::Have(i) | Message::SuggestPiece(i) | Message::AllowedFast(i) => {
                dst.put_u32(*i)
            }
            Message::Bitfield(b) | Message::Unknown { payload: b, .. } => dst.put_slice(b),
            Message::Request(r) | Message::Cancel(r) | Message::RejectRequest(r) => {
                dst.put_u32(r.piece);
                dst.put_u32(r.offset);
                dst.put_u32(r.len);
            }
            Message::Piece {
                piece,
                offset,
                data,
            } => {
                dst.put_u32(*piece);
                dst.put_u32(*offset);
                dst.put_slice(data);
            }
            Message::Port(p) => dst.put_u16(*p),
            Message::Extended { id: ext, payload } => {
                dst.put_u8(*ext);
                dst.put_slice(payload);
            }
        }
    }

    /// Appends only the 13-byte header of a `piece` message carrying `len` bytes, so a
    /// seeder can write the block straight from its read buffer afterwards.
    pub fn encode_piece_header(piece: u32, offset: u32, len: u32, dst: &mut BytesMut) {
        dst.reserve(13);
        dst.put_u32(len.saturating_add(9));
        dst.put_u8(id::PIECE);
        dst.put_u32(piece);
        dst.put_u32(offset);
    }

    /// Convenience for tests and small control messages.
    pub fn encode_to_bytes(msg: &Message) -> Bytes {
        let mut b = BytesMut::with_capacity(msg.encoded_len());
        Self::encode(msg, &mut b);
        b.freeze()
    }
}

/// Rejects payload sizes that cannot belong to message `msg_id`.
fn check_len(msg_id: u8, len: usize) -> Result<(), WireError> {
    let ok = match msg_id {
        id::CHOKE | id::UNCHOKE | id::INTERESTED | id::NOT_INTERESTED => len == 0,
        id::HAVE_ALL | id::HAVE_NONE => len == 0,
        id::HAVE | id::SUGGEST_PIECE | id::ALLOWED_FAST => len == 4,
        id::REQUEST | id::CANCEL | id::REJECT_REQUEST => len == 12,
        id::PIECE => len >= 8,
        id::PORT => len == 2,
        id::EXTENDED => len >= 1,
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(WireError::BadLength { id: msg_id, len })
    }
}

fn block(p: &mut BytesMut) -> BlockRequest {
    BlockRequest {
        piece: p.get_u32(),
        offset: p.get_u32(),
        len: p.get_u32(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn all_messages() -> Vec<Message> {
        let req = BlockRequest {
            piece: 3,
            offset: 16384,
            len: 16384,
        };
        vec![
            Message::KeepAlive,
            Message::Choke,
            Message::Unchoke,
            Message::Interested,
            Message::NotInterested,
            Message::Have(0xdead_beef),
            Message::HaveAll,
            Message::HaveNone,
            Message::SuggestPiece(7),
            Message::AllowedFast(9),
            Message::RejectRequest(req),
            Message::Bitfield(Bytes::from_static(&[0xff, 0x80])),
            Message::Bitfield(Bytes::new()),
            Message::Request(req),
            Message::Piece {
                piece: 1,
                offset: 2,
                data: Bytes::from(vec![9u8; 100]),
            },
            Message::Piece {
                piece: 1,
                offset: 2,
                data: Bytes::new(),
            },
            Message::Cancel(req),
            Message::Port(6881),
            Message::Extended {
                id: 0,
                payload: Bytes::from_static(b"d1:md6:ut_pexi1eee"),
            },
            Message::Extended {
                id: 3,
                payload: Bytes::new(),
            },
            Message::Unknown {
                id: 21,
                payload: Bytes::from_static(&[0, 0, 0, 1]),
            },
        ]
    }

    #[test]
    fn round_trips_every_message() {
        let codec = Codec::default();
        for msg in all_messages() {
            let mut buf = BytesMut::from(&Codec::encode_to_bytes(&msg)[..]);
            assert_eq!(buf.len(), msg.encoded_len());
            assert_eq!(codec.decode(&mut buf).unwrap(), Some(msg.clone()));
            assert!(buf.is_empty(), "{msg:?} left bytes behind");
        }
    }

    #[test]
    fn known_encodings() {
        let enc = |m: &Message| Codec::encode_to_bytes(m).to_vec();
        assert_eq!(enc(&Message::KeepAlive), [0, 0, 0, 0]);
        assert_eq!(enc(&Message::Interested), [0, 0, 0, 1, 2]);
        assert_eq!(enc(&Message::Have(1)), [0, 0, 0, 5, 4, 0, 0, 0, 1]);
        assert_eq!(enc(&Message::Port(0x1ae1)), [0, 0, 0, 3, 9, 0x1a, 0xe1]);
    }

    #[test]
    fn byte_at_a_time_feeding() {
        let codec = Codec::default();
        let mut wire = BytesMut::new();
        for m in all_messages() {
            Codec::encode(&m, &mut wire);
        }
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for &b in wire.iter() {
            buf.put_u8(b);
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, all_messages());
        assert!(buf.is_empty());
    }

    #[test]
    fn piece_header_matches_full_encoding() {
        let data = vec![5u8; 16384];
        let mut a = BytesMut::new();
        Codec::encode_piece_header(7, 32768, data.len() as u32, &mut a);
        a.extend_from_slice(&data);
        let full = Codec::encode_to_bytes(&Message::Piece {
            piece: 7,
            offset: 32768,
            data: Bytes::from(data),
        });
        assert_eq!(&a[..], &full[..]);
    }

    #[test]
    fn piece_payload_is_zero_copy() {
        let codec = Codec::default();
        let mut buf = BytesMut::new();
        Codec::encode(
            &Message::Piece {
                piece: 0,
                offset: 0,
                data: Bytes::from(vec![1u8; 64]),
            },
            &mut buf,
        );
        let base = buf.as_ptr() as usize;
        let Some(Message::Piece { data, .. }) = codec.decode(&mut buf).unwrap() else {
            panic!("expected a piece");
        };
        assert_eq!(
            data.as_ptr() as usize,
            base + 13,
            "data must point into the receive buffer"
        );
    }

    #[test]
    fn rejects_oversize_before_buffering() {
        let codec = Codec::new(1000);
        let mut buf = BytesMut::from(&[0u8, 0, 3, 0xe9][..]); // 1001
        let cap_before = buf.capacity();
        assert!(matches!(
            codec.decode(&mut buf),
            Err(WireError::TooLong {
                len: 1001,
                max: 1000
            })
        ));
        assert_eq!(
            buf.capacity(),
            cap_before,
            "must not reserve for a rejected frame"
        );
        let mut huge = BytesMut::from(&[0xffu8, 0xff, 0xff, 0xff][..]);
        assert!(matches!(
            codec.decode(&mut huge),
            Err(WireError::TooLong { .. })
        ));
        // Exactly at the cap is fine (incomplete, so None).
        let mut at = BytesMut::from(&[0u8, 0, 3, 0xe8, 7][..]);
        assert!(codec.decode(&mut at).unwrap().is_none());
    }

    #[test]
    fn rejects_wrong_fixed_lengths() {
        let codec = Codec::default();
        let cases: &[&[u8]] = &[
            &[0, 0, 0, 2, 0, 0],                                // choke with payload
            &[0, 0, 0, 4, 4, 0, 0, 1],                          // have with 3 bytes
            &[0, 0, 0, 6, 4, 0, 0, 0, 1, 0],                    // have with 5 bytes
            &[0, 0, 0, 5, 6, 0, 0, 0, 1],                       // request with 4 bytes
            &[0, 0, 0, 5, 7, 0, 0, 0, 1],                       // piece shorter than its header
            &[0, 0, 0, 2, 9, 1],                                // port with 1 byte
            &[0, 0, 0, 1, 20],                                  // extended without an id
            &[0, 0, 0, 12, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // cancel with 11 bytes
        ];
        for case in cases {
            let mut buf = BytesMut::from(*case);
            assert!(
                matches!(codec.decode(&mut buf), Err(WireError::BadLength { .. })),
                "{case:?}"
            );
            assert_eq!(&buf[..], *case, "buffer untouched on error");
        }
    }

    #[test]
    fn unknown_ids_are_skipped_not_fatal() {
        let codec = Codec::default();
        // An unassigned id (21) followed by a choke.
        let mut buf = BytesMut::from(&[0u8, 0, 0, 1, 21, 0, 0, 0, 1, 0][..]);
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Message::Unknown {
                id: 21,
                payload: Bytes::new()
            })
        );
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(Message::Choke));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let codec = Codec::new(4096);
        for _ in 0..5_000 {
            let n = rng.random_range(0..64);
            let mut buf = BytesMut::new();
            // Bias towards small lengths and real ids so parsing paths are reached.
            while buf.len() < n {
                if rng.random_bool(0.5) {
                    let len: u32 = rng.random_range(0..20);
                    buf.put_u32(len);
                    buf.put_u8(rng.random_range(0..22));
                } else {
                    buf.put_u8(rng.random());
                }
            }
            loop {
                let before = buf.len();
                match codec.decode(&mut buf) {
                    Ok(Some(m)) => {
                        assert!(buf.len() < before);
                        let re = Codec::encode_to_bytes(&m);
                        assert_eq!(codec.decode(&mut BytesMut::from(&re[..])).unwrap(), Some(m));
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
    }
}
