//! The saved routing table: our id and the nodes, as a bencoded dictionary
//! `{id, nodes, nodes6}` in the compact forms of KRPC. The caller stores the bytes.

use crate::bencode::{self, Value};

use super::krpc::{compact_peer, encode_nodes, CompactNode};
use super::node_id::NodeId;

/// Most nodes read back from a saved table.
pub const MAX_SAVED_NODES: usize = 8192;

/// Why saved table bytes cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SavedTableError {
    #[error("not bencode: {0}")]
    Bencode(#[from] bencode::BencodeError),
    #[error("field `{0}` is missing or malformed")]
    Field(&'static str),
}

pub fn encode(own: NodeId, nodes: impl Iterator<Item = CompactNode>) -> Vec<u8> {
    let (v4, v6): (Vec<CompactNode>, Vec<CompactNode>) = nodes.partition(|n| n.addr.is_ipv4());
    bencode::encode(&Value::dict([
        ("id", Value::bytes(own.0)),
        ("nodes", Value::bytes(encode_nodes(&v4))),
        ("nodes6", Value::bytes(encode_nodes(&v6))),
    ]))
}

pub fn decode(b: &[u8]) -> Result<(NodeId, Vec<CompactNode>), SavedTableError> {
    let v = bencode::decode(b)?;
    let id = v
        .get(b"id")
        .and_then(Value::as_bytes)
        .and_then(|b| <[u8; 20]>::try_from(b).ok())
        .map(NodeId)
        .ok_or(SavedTableError::Field("id"))?;
    let mut nodes = Vec::new();
    for (key, size) in [("nodes", 26), ("nodes6", 38)] {
        let Some(field) = v.get(key.as_bytes()) else {
            continue;
        };
        let raw = field.as_bytes().ok_or(SavedTableError::Field(key))?;
        if raw.len() % size != 0 {
            return Err(SavedTableError::Field(key));
        }
        for c in raw.chunks_exact(size) {
            if nodes.len() >= MAX_SAVED_NODES {
                break;
            }
            let (nid, addr) = c.split_at(20);
            if let (Ok(nid), Some(addr)) = (<[u8; 20]>::try_from(nid), compact_peer(addr)) {
                nodes.push(CompactNode {
                    id: NodeId(nid),
                    addr,
                });
            }
        }
    }
    Ok((id, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_families_and_rejects_garbage() {
        let nodes = vec![
            CompactNode {
                id: NodeId([1; 20]),
                addr: "127.0.0.1:1".parse().unwrap(),
            },
            CompactNode {
                id: NodeId([2; 20]),
                addr: "[::1]:2".parse().unwrap(),
            },
        ];
        let b = encode(NodeId([9; 20]), nodes.clone().into_iter());
        assert_eq!(decode(&b), Ok((NodeId([9; 20]), nodes)));
        assert!(matches!(
            decode(b"garbage"),
            Err(SavedTableError::Bencode(_))
        ));
        assert_eq!(decode(b"de"), Err(SavedTableError::Field("id")));
        assert_eq!(
            decode(b"d2:id20:aaaaaaaaaaaaaaaaaaaa5:nodes3:abce"),
            Err(SavedTableError::Field("nodes"))
        );
    }
}
