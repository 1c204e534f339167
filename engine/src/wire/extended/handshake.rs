//! The BEP 10 extension handshake: `m` (extension ids), `v`, `reqq`, `p`, `yourip`,
//! `metadata_size` (BEP 9).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{ExtError, UT_METADATA_ID, UT_PEX_ID};
use crate::bencode::{self, Value};

/// Largest info dictionary we fetch or serve (BEP 9 gives no limit; 16 MiB covers torrents
/// with millions of pieces).
pub const MAX_METADATA_SIZE: u64 = 16 << 20;
/// Longest client name kept from `v`.
const MAX_CLIENT_LEN: usize = 64;

/// A decoded (or to-be-encoded) extension handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtHandshake {
    pub extensions: PeerExtensions,
    /// Client name and version (`v`).
    pub client: Option<String>,
    /// Outstanding requests the sender accepts (`reqq`).
    pub reqq: Option<u32>,
    /// The sender's listening TCP port (`p`), for incoming peers whose port we cannot see.
    pub listen_port: Option<u16>,
    /// Our address as the sender sees it (`yourip`).
    pub your_ip: Option<IpAddr>,
    /// Size of the info dictionary, when the sender has it.
    pub metadata_size: Option<u64>,
}

/// The ids a peer assigned to the extensions we speak (`None`: not supported, or disabled
/// by a later handshake with id 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerExtensions {
    pub ut_metadata: Option<u8>,
    pub ut_pex: Option<u8>,
}

impl ExtHandshake {
    /// Ours: our ids, client name, request queue, listen port, the peer's address, and
    /// `metadata_size` when we have the info dictionary. `pex` off for private torrents.
    pub fn ours(
        listen_port: u16,
        peer_ip: IpAddr,
        metadata_size: Option<u64>,
        reqq: u32,
        pex: bool,
    ) -> Self {
        ExtHandshake {
            extensions: PeerExtensions {
                ut_metadata: Some(UT_METADATA_ID),
                ut_pex: pex.then_some(UT_PEX_ID),
            },
            client: Some(concat!("TorrentEdge ", env!("CARGO_PKG_VERSION")).into()),
            reqq: Some(reqq),
            listen_port: Some(listen_port),
            your_ip: Some(peer_ip),
            metadata_size,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut m = BTreeMap::new();
        let ids = [
            (&b"ut_metadata"[..], self.extensions.ut_metadata),
            (b"ut_pex", self.extensions.ut_pex),
        ];
        for (name, id) in ids {
            m.insert(name.to_vec(), Value::Int(id.map_or(0, i64::from)));
        }
        let mut d = BTreeMap::new();
        d.insert(b"m".to_vec(), Value::Dict(m));
        if let Some(v) = &self.client {
            d.insert(b"v".to_vec(), Value::bytes(v.as_bytes()));
        }
        if let Some(q) = self.reqq {
            d.insert(b"reqq".to_vec(), Value::Int(q.into()));
        }
        if let Some(p) = self.listen_port {
            d.insert(b"p".to_vec(), Value::Int(p.into()));
        }
        if let Some(ip) = self.your_ip {
            let raw = match ip {
                IpAddr::V4(a) => a.octets().to_vec(),
                IpAddr::V6(a) => a.octets().to_vec(),
            };
            d.insert(b"yourip".to_vec(), Value::Bytes(raw));
        }
        if let Some(n) = self.metadata_size {
            d.insert(b"metadata_size".to_vec(), Value::Int(n as i64));
        }
        bencode::encode(&Value::Dict(d))
    }

    /// Parses a peer's handshake. Unknown keys and extensions are ignored; fields of the
    /// wrong type are treated as absent, except `metadata_size`, which must be sane.
    pub fn decode(payload: &[u8]) -> Result<Self, ExtError> {
        let v = bencode::decode(payload)?;
        let d = v.as_dict().ok_or(ExtError::NotADict)?;
        let mut hs = ExtHandshake::default();
        if let Some(m) = d.get(&b"m"[..]).and_then(Value::as_dict) {
            let id = |name: &[u8]| {
                m.get(name)
                    .and_then(Value::as_int)
                    .and_then(|i| u8::try_from(i).ok())
                    .filter(|&i| i != 0)
            };
            hs.extensions = PeerExtensions {
                ut_metadata: id(b"ut_metadata"),
                ut_pex: id(b"ut_pex"),
            };
        }
        hs.client = d.get(&b"v"[..]).and_then(Value::as_bytes).map(|b| {
            let b = &b[..b.len().min(MAX_CLIENT_LEN)];
            String::from_utf8_lossy(b).into_owned()
        });
        hs.reqq = d
            .get(&b"reqq"[..])
            .and_then(Value::as_int)
            .and_then(|i| u32::try_from(i).ok());
        hs.listen_port = d
            .get(&b"p"[..])
            .and_then(Value::as_int)
            .and_then(|i| u16::try_from(i).ok())
            .filter(|&p| p != 0);
        hs.your_ip = d
            .get(&b"yourip"[..])
            .and_then(Value::as_bytes)
            .and_then(ip_from_bytes);
        if let Some(n) = d.get(&b"metadata_size"[..]) {
            let n = n.as_int().ok_or(ExtError::Field("metadata_size"))?;
            if n <= 0 || n as u64 > MAX_METADATA_SIZE {
                return Err(ExtError::OutOfRange("metadata_size"));
            }
            hs.metadata_size = Some(n as u64);
        }
        Ok(hs)
    }
}

fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b)
            .ok()
            .map(|a| Ipv4Addr::from(a).into()),
        16 => <[u8; 16]>::try_from(b)
            .ok()
            .map(|a| Ipv6Addr::from(a).into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let ours = ExtHandshake::ours(6881, "127.0.0.2".parse().unwrap(), Some(1234), 500, true);
        let back = ExtHandshake::decode(&ours.encode()).unwrap();
        assert_eq!(back, ours);
        let private = ExtHandshake::ours(1, "::1".parse().unwrap(), None, 1, false);
        let back = ExtHandshake::decode(&private.encode()).unwrap();
        assert_eq!(back.extensions.ut_pex, None);
        assert_eq!(back.your_ip, Some("::1".parse().unwrap()));
        assert_eq!(back.metadata_size, None);
    }

    #[test]
    fn libtorrent_style_handshake() {
        let raw = b"d1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi500e11:upload_onlyi0e1:v18:libtorrent/2.0.8.06:yourip4:\x7f\x00\x00\x01e";
        let hs = ExtHandshake::decode(raw).unwrap();
        assert_eq!(hs.extensions.ut_metadata, Some(2));
        assert_eq!(hs.extensions.ut_pex, Some(1));
        assert_eq!(hs.metadata_size, Some(31235));
        assert_eq!(hs.listen_port, Some(6881));
        assert_eq!(hs.reqq, Some(500));
        assert_eq!(hs.client.as_deref(), Some("libtorrent/2.0.8.0"));
        assert_eq!(hs.your_ip, Some("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn bad_handshakes() {
        assert!(ExtHandshake::decode(b"").is_err());
        assert!(ExtHandshake::decode(b"li1ee").is_err());
        assert!(ExtHandshake::decode(b"d13:metadata_sizei-1ee").is_err());
        assert!(ExtHandshake::decode(b"d13:metadata_sizei99999999999ee").is_err());
        assert!(ExtHandshake::decode(b"d13:metadata_size3:abce").is_err());
        // Ids out of range or zero mean "not supported"; junk types are ignored.
        let hs =
            ExtHandshake::decode(b"d1:md11:ut_metadatai300e6:ut_pexi0ee1:pi70000e1:v1:xe").unwrap();
        assert_eq!(hs.extensions, PeerExtensions::default());
        assert_eq!(hs.listen_port, None);
    }
}
