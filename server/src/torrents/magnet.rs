//! Magnet links (BEP 9 form): `magnet:?xt=urn:btih:<40 hex | 32 base32>&dn=...&tr=...`.

use engine::InfoHash;

/// A parsed magnet link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Magnet {
    pub info_hash: InfoHash,
    pub name: Option<String>,
    pub trackers: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MagnetError {
    #[error("not a magnet link (expected 'magnet:?')")]
    Scheme,
    #[error("magnet link has no 'xt=urn:btih:' info-hash")]
    NoInfoHash,
    #[error("magnet info-hash must be 40 hex or 32 base32 characters")]
    BadInfoHash,
    #[error("magnet link is too long")]
    TooLong,
}

const MAX_LEN: usize = 64 << 10;

pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
    if uri.len() > MAX_LEN {
        return Err(MagnetError::TooLong);
    }
    let query = uri
        .trim()
        .strip_prefix("magnet:?")
        .ok_or(MagnetError::Scheme)?;
    let mut info_hash = None;
    let mut name = None;
    let mut trackers = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "xt" => {
                if let Some(h) = value.strip_prefix("urn:btih:") {
                    info_hash = Some(parse_hash(h)?);
                }
            }
            "dn" => name = Some(value.into_owned()),
            "tr" => trackers.push(value.into_owned()),
            _ => {}
        }
    }
    Ok(Magnet {
        info_hash: info_hash.ok_or(MagnetError::NoInfoHash)?,
        name: name.filter(|n| !n.is_empty()),
        trackers,
    })
}

fn parse_hash(h: &str) -> Result<InfoHash, MagnetError> {
    match h.len() {
        40 => InfoHash::from_hex(h).map_err(|_| MagnetError::BadInfoHash),
        32 => base32(h).map(InfoHash).ok_or(MagnetError::BadInfoHash),
        _ => Err(MagnetError::BadInfoHash),
    }
}

/// RFC 4648 base32 (no padding) of exactly 20 bytes.
fn base32(s: &str) -> Option<[u8; 20]> {
    let mut out = [0u8; 20];
    let (mut acc, mut bits, mut n) = (0u64, 0u32, 0usize);
    for c in s.bytes() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        acc = (acc << 5) | u64::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    (n == 20).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base32_hashes() {
        let hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
        let m = parse(&format!(
            "magnet:?xt=urn:btih:{hex}&dn=Some+File&tr=udp%3A%2F%2Ft%3A1"
        ))
        .unwrap();
        assert_eq!(m.info_hash.to_hex(), hex);
        assert_eq!(m.name.as_deref(), Some("Some File"));
        assert_eq!(m.trackers, vec!["udp://t:1"]);
        let b32 = parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").unwrap();
        assert_eq!(b32.info_hash.to_hex(), hex);
    }

    #[test]
    fn bad_links_say_why() {
        assert_eq!(parse("http://x"), Err(MagnetError::Scheme));
        assert_eq!(parse("magnet:?dn=x"), Err(MagnetError::NoInfoHash));
        assert_eq!(
            parse("magnet:?xt=urn:btih:1234"),
            Err(MagnetError::BadInfoHash)
        );
        assert_eq!(
            parse(&format!("magnet:?xt=urn:btih:{}", "z".repeat(40))),
            Err(MagnetError::BadInfoHash)
        );
        assert_eq!(
            parse(&format!("magnet:?xt=urn:btih:{}", "1".repeat(32))),
            Err(MagnetError::BadInfoHash)
        );
    }
}
