//! BEP 9 `ut_metadata`: the info dictionary in 16 KiB pieces (`request`, `data`, `reject`).

use std::collections::BTreeMap;

use bytes::Bytes;

use super::handshake::MAX_METADATA_SIZE;
use super::ExtError;
use crate::bencode::{self, Value};

/// Size of every metadata piece but the last.
pub const PIECE_SIZE: usize = 16 << 10;

/// One `ut_metadata` message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataMsg {
    Request {
        piece: u32,
    },
    /// `data` follows the dictionary on the wire.
    Data {
        piece: u32,
        total_size: u64,
        data: Bytes,
    },
    Reject {
        piece: u32,
    },
}

/// Number of pieces of an info dictionary of `size` bytes.
pub fn piece_count(size: u64) -> u32 {
    size.div_ceil(PIECE_SIZE as u64) as u32
}

impl MetadataMsg {
    pub fn encode(&self) -> Vec<u8> {
        let (kind, piece) = match self {
            MetadataMsg::Request { piece } => (0, piece),
            MetadataMsg::Data { piece, .. } => (1, piece),
            MetadataMsg::Reject { piece } => (2, piece),
        };
        let mut d = BTreeMap::new();
        d.insert(b"msg_type".to_vec(), Value::Int(kind));
        d.insert(b"piece".to_vec(), Value::Int(i64::from(*piece)));
        if let MetadataMsg::Data { total_size, .. } = self {
            d.insert(b"total_size".to_vec(), Value::Int(*total_size as i64));
        }
        let mut out = bencode::encode(&Value::Dict(d));
        if let MetadataMsg::Data { data, .. } = self {
            out.extend_from_slice(data);
        }
        out
    }

    /// Parses a message; a `data` message's payload is a zero-copy slice of `payload`.
    pub fn decode(payload: &Bytes) -> Result<Self, ExtError> {
        let (v, used) = bencode::decode_prefix(payload)?;
        let d = v.as_dict().ok_or(ExtError::NotADict)?;
        let int = |k: &'static str| {
            d.get(k.as_bytes())
                .and_then(Value::as_int)
                .ok_or(ExtError::Field(k))
        };
        let piece = u32::try_from(int("piece")?).map_err(|_| ExtError::OutOfRange("piece"))?;
        let rest = payload.slice(used..);
        match int("msg_type")? {
            0 => Ok(MetadataMsg::Request { piece }),
            1 => {
                let total = int("total_size")?;
                if total <= 0 || total as u64 > MAX_METADATA_SIZE {
                    return Err(ExtError::OutOfRange("total_size"));
                }
                if rest.len() > PIECE_SIZE {
                    return Err(ExtError::OutOfRange("data"));
                }
                Ok(MetadataMsg::Data {
                    piece,
                    total_size: total as u64,
                    data: rest,
                })
            }
            2 => Ok(MetadataMsg::Reject { piece }),
            _ => Err(ExtError::Field("msg_type")),
        }
    }
}

/// The bytes of piece `piece` of `info`, or `None` if out of range.
pub fn piece_of(info: &Bytes, piece: u32) -> Option<Bytes> {
    let start = piece as usize * PIECE_SIZE;
    (start < info.len()).then(|| info.slice(start..(start + PIECE_SIZE).min(info.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let msgs = [
            MetadataMsg::Request { piece: 3 },
            MetadataMsg::Reject { piece: 0 },
            MetadataMsg::Data {
                piece: 1,
                total_size: 20000,
                data: Bytes::from(vec![7u8; 20000 - PIECE_SIZE]),
            },
        ];
        for m in msgs {
            assert_eq!(MetadataMsg::decode(&Bytes::from(m.encode())).unwrap(), m);
        }
    }

    #[test]
    fn pieces_of_info() {
        let info = Bytes::from(vec![1u8; PIECE_SIZE + 5]);
        assert_eq!(piece_count(info.len() as u64), 2);
        assert_eq!(piece_of(&info, 0).unwrap().len(), PIECE_SIZE);
        assert_eq!(piece_of(&info, 1).unwrap().len(), 5);
        assert!(piece_of(&info, 2).is_none());
        assert_eq!(piece_count(PIECE_SIZE as u64), 1);
    }

    #[test]
    fn bad_messages() {
        let bad: [&[u8]; 7] = [
            b"",
            b"d8:msg_typei0ee",
            b"d8:msg_typei9e5:piecei0ee",
            b"d8:msg_typei0e5:piecei-1ee",
            b"d8:msg_typei1e5:piecei0e10:total_sizei0ee",
            b"d8:msg_typei1e5:piecei0e10:total_sizei999999999999ee",
            b"i3e",
        ];
        for b in bad {
            assert!(
                MetadataMsg::decode(&Bytes::from_static(b)).is_err(),
                "{b:?}"
            );
        }
        let mut big = b"d8:msg_typei1e5:piecei0e10:total_sizei99999ee".to_vec();
        big.extend(vec![0u8; PIECE_SIZE + 1]);
        assert!(MetadataMsg::decode(&Bytes::from(big)).is_err());
    }
}
