//! BEP 11 `ut_pex`: peers added and dropped since the last message, compact form.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::ExtError;
use crate::bencode::{self, Value};

/// Most addresses taken from (or put into) one message per list (BEP 11 suggests 50).
pub const MAX_PEERS: usize = 50;

/// BEP 11 `added.f` flag: the peer prefers encryption.
pub const FLAG_ENCRYPTION: u8 = 0x01;
/// The peer is a seed (upload only).
pub const FLAG_SEED: u8 = 0x02;
/// The peer supports uTP.
pub const FLAG_UTP: u8 = 0x04;
/// The peer is reachable (we connected to it, not it to us).
pub const FLAG_REACHABLE: u8 = 0x10;

/// One PEX message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PexMsg {
    /// Added peers with their flags.
    pub added: Vec<(SocketAddr, u8)>,
    pub dropped: Vec<SocketAddr>,
}

impl PexMsg {
    pub fn encode(&self) -> Vec<u8> {
        let mut d = BTreeMap::new();
        let (a4, f4): (Vec<_>, Vec<_>) = self
            .added
            .iter()
            .filter(|(a, _)| a.is_ipv4())
            .copied()
            .unzip();
        let (a6, f6): (Vec<_>, Vec<_>) = self
            .added
            .iter()
            .filter(|(a, _)| a.is_ipv6())
            .copied()
            .unzip();
        let d4: Vec<_> = self
            .dropped
            .iter()
            .filter(|a| a.is_ipv4())
            .copied()
            .collect();
        let d6: Vec<_> = self
            .dropped
            .iter()
            .filter(|a| a.is_ipv6())
            .copied()
            .collect();
        d.insert(b"added".to_vec(), Value::Bytes(compact(&a4)));
        d.insert(b"added.f".to_vec(), Value::Bytes(f4));
        d.insert(b"dropped".to_vec(), Value::Bytes(compact(&d4)));
        if !a6.is_empty() || !d6.is_empty() {
            d.insert(b"added6".to_vec(), Value::Bytes(compact(&a6)));
            d.insert(b"added6.f".to_vec(), Value::Bytes(f6));
            d.insert(b"dropped6".to_vec(), Value::Bytes(compact(&d6)));
        }
        bencode::encode(&Value::Dict(d))
    }

    /// Parses a message, keeping at most [`MAX_PEERS`] per list; malformed compact lists
    /// (length not a multiple of the entry size) are refused.
    pub fn decode(payload: &[u8]) -> Result<Self, ExtError> {
        let v = bencode::decode(payload)?;
        let d = v.as_dict().ok_or(ExtError::NotADict)?;
        let list = |k: &'static str, size: usize| -> Result<Vec<SocketAddr>, ExtError> {
            match d.get(k.as_bytes()) {
                None => Ok(Vec::new()),
                Some(v) => {
                    let b = v.as_bytes().ok_or(ExtError::Field(k))?;
                    if b.len() % size != 0 {
                        return Err(ExtError::Field(k));
                    }
                    Ok(b.chunks_exact(size)
                        .take(MAX_PEERS)
                        .filter_map(parse_compact)
                        .collect())
                }
            }
        };
        let flags = |k: &str| d.get(k.as_bytes()).and_then(Value::as_bytes).unwrap_or(&[]);
        let mut msg = PexMsg::default();
        for (addrs, f) in [
            (list("added", 6)?, flags("added.f")),
            (list("added6", 18)?, flags("added6.f")),
        ] {
            msg.added.extend(
                addrs
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| (a, f.get(i).copied().unwrap_or(0))),
            );
        }
        msg.dropped = list("dropped", 6)?;
        msg.dropped.extend(list("dropped6", 18)?);
        Ok(msg)
    }
}

fn compact(addrs: &[SocketAddr]) -> Vec<u8> {
    let mut out = Vec::with_capacity(addrs.len() * 18);
    for a in addrs {
        match a.ip() {
            IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
            IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
        }
        out.extend_from_slice(&a.port().to_be_bytes());
    }
    out
}

/// One compact address (6 bytes IPv4, 18 bytes IPv6); port 0 is refused.
fn parse_compact(b: &[u8]) -> Option<SocketAddr> {
    let (ip, port): (IpAddr, _) = match b.len() {
        6 => (<[u8; 4]>::try_from(&b[..4]).ok()?.into(), &b[4..]),
        18 => (<[u8; 16]>::try_from(&b[..16]).ok()?.into(), &b[16..]),
        _ => return None,
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    (port != 0).then_some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_both_families() {
        let m = PexMsg {
            added: vec![
                ("127.0.0.2:6881".parse().unwrap(), FLAG_SEED),
                ("[::1]:7000".parse().unwrap(), FLAG_REACHABLE),
            ],
            dropped: vec!["127.0.0.3:1".parse().unwrap()],
        };
        let back = PexMsg::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn bounds_and_junk() {
        let many: Vec<_> = (0..200u16)
            .map(|i| (SocketAddr::from(([127, 0, 0, 1], 1000 + i)), 0))
            .collect();
        let m = PexMsg {
            added: many,
            dropped: vec![],
        };
        assert_eq!(PexMsg::decode(&m.encode()).unwrap().added.len(), MAX_PEERS);
        assert!(PexMsg::decode(b"d5:added5:abcdee").is_err());
        assert!(PexMsg::decode(b"le").is_err());
        // Port 0 entries are skipped, missing flags default to 0.
        let back = PexMsg::decode(b"d5:added12:\x7f\x00\x00\x01\x00\x00\x7f\x00\x00\x01\x00\x01e")
            .unwrap();
        assert_eq!(back.added, vec![("127.0.0.1:1".parse().unwrap(), 0)]);
    }
}
