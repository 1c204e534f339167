//! Identifiers shared by every part of the engine.

use std::fmt;

/// A torrent's identity: the SHA-1 of its bencoded `info` dictionary.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoHash(pub [u8; 20]);

/// A 20-byte peer id (BEP 3 / BEP 20 style).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerId(pub [u8; 20]);

/// Error for a string that is not a 40-digit hex info-hash.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a 40-digit hexadecimal info-hash")]
pub struct ParseInfoHashError;

impl InfoHash {
    /// Lower-case hex, the form users and the API see.
    pub fn to_hex(&self) -> String {
        hex_encode(&self.0)
    }

    /// Parses 40 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, ParseInfoHashError> {
        let b = s.as_bytes();
        if b.len() != 40 {
            return Err(ParseInfoHashError);
        }
        let mut out = [0u8; 20];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(ParseInfoHashError)?;
            let lo = hex_val(pair[1]).ok_or(ParseInfoHashError)?;
            out[i] = (hi << 4) | lo;
        }
        Ok(InfoHash(out))
    }

    /// Percent-encodes every byte, as trackers expect in `info_hash=`.
    pub fn url_encode(&self) -> String {
        url_encode_bytes(&self.0)
    }
}

impl std::str::FromStr for InfoHash {
    type Err = ParseInfoHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl fmt::Display for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for InfoHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InfoHash({})", self.to_hex())
    }
}

impl PeerId {
    /// Azureus-style id `-TE0100-` followed by 12 random alphanumerics.
    pub fn generate() -> Self {
        use rand::Rng;
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut id = [0u8; 20];
        id[..8].copy_from_slice(b"-TE0100-");
        let mut rng = rand::rng();
        for b in &mut id[8..] {
            *b = ALPHABET[rng.random_range(0..ALPHABET.len())];
        }
        PeerId(id)
    }

    pub fn url_encode(&self) -> String {
        url_encode_bytes(&self.0)
    }

    /// Client name and version guessed from the id's conventional prefix.
    pub fn client_name(&self) -> String {
        let id = &self.0;
        if id[0] == b'-' && id[7] == b'-' && id[1..7].iter().all(|c| c.is_ascii_alphanumeric()) {
            let code = std::str::from_utf8(&id[1..3]).unwrap_or("??");
            let name = match code {
                "TE" => "TorrentEdge",
                "LT" | "lt" => "libtorrent",
                "qB" => "qBittorrent",
                "TR" => "Transmission",
                "AZ" => "Vuze",
                "UT" | "UM" => "µTorrent",
                "DE" => "Deluge",
                "rQ" | "RQ" => "rqbit",
                "BC" => "BitComet",
                _ => code,
            };
            let ver = std::str::from_utf8(&id[3..7]).unwrap_or("");
            return format!("{name} {ver}");
        }
        if id.starts_with(b"A2-") {
            return "aria2".into();
        }
        "unknown".into()
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({})", String::from_utf8_lossy(&self.0))
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex of arbitrary bytes.
pub fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Percent-encodes bytes, leaving only RFC 3986 unreserved characters as they are.
pub fn url_encode_bytes(bytes: &[u8]) -> String {
    percent_encoding::percent_encode(bytes, URL_ESCAPE).to_string()
}

const URL_ESCAPE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = InfoHash([0xab; 20]);
        assert_eq!(h.to_hex(), "ab".repeat(20));
        assert_eq!(InfoHash::from_hex(&h.to_hex().to_uppercase()), Ok(h));
        assert!(InfoHash::from_hex("xyz").is_err());
        assert!(InfoHash::from_hex(&"g".repeat(40)).is_err());
    }

    #[test]
    fn url_encoding_keeps_unreserved() {
        assert_eq!(url_encode_bytes(b"a-_.~ \x00\xff"), "a-_.~%20%00%FF");
    }

    #[test]
    fn peer_id_is_azureus_style() {
        let id = PeerId::generate();
        assert_eq!(&id.0[..8], b"-TE0100-");
        assert_eq!(id.client_name(), "TorrentEdge 0100");
        assert_eq!(
            PeerId(*b"-LT2080-abcdefghijkl").client_name(),
            "libtorrent 2080"
        );
    }
}

/// Identifies one peer connection inside a torrent (never reused within a session).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PeerKey(pub u64);

impl serde::Serialize for InfoHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for InfoHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        InfoHash::from_hex(&s).map_err(serde::de::Error::custom)
    }
}
