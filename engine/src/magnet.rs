//! Magnet URIs (BEP 9, BEP 53): `magnet:?xt=urn:btih:<40 hex | 32 base32>` with `dn`,
//! repeated `tr` (each its own tier, as libtorrent does), `x.pe` peer addresses, `ws` web
//! seeds and `so` file selection. Untrusted input: bounded, and every error names the field.

use std::net::SocketAddr;

use crate::InfoHash;

/// Longest magnet link accepted.
const MAX_LEN: usize = 64 << 10;
/// Most trackers, peers or web seeds kept from one link.
const MAX_LIST: usize = 200;
/// Largest file index `so` may name.
const MAX_FILE_INDEX: u32 = 1 << 20;

/// A parsed magnet link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Magnet {
    pub info_hash: InfoHash,
    /// `dn`: a display name until the metadata says otherwise.
    pub name: Option<String>,
    /// `tr`: one tier per tracker.
    pub trackers: Vec<String>,
    /// `x.pe`: peers to dial.
    pub peers: Vec<SocketAddr>,
    /// `ws`: web seeds (BEP 19).
    pub web_seeds: Vec<String>,
    /// `so`: download only these file indices (empty: all).
    pub select_only: Vec<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MagnetError {
    #[error("not a magnet link (expected 'magnet:?')")]
    Scheme,
    #[error("magnet link has no 'xt=urn:btih:' info-hash")]
    NoInfoHash,
    #[error("magnet info-hash must be 40 hex or 32 base32 characters")]
    BadInfoHash,
    #[error("magnet link has two different 'xt=urn:btih:' info-hashes")]
    TwoInfoHashes,
    #[error("magnet link is too long")]
    TooLong,
    #[error("magnet link holds a control character (line break, tab...): not a URI")]
    ControlCharacter,
    #[error("magnet 'x.pe' is not an IP:PORT address: {0:?}")]
    BadPeer(String),
    #[error("magnet 'so' is not a list of file indices like 0,2,4-6: {0:?}")]
    BadSelection(String),
}

impl Magnet {
    /// Parses a magnet URI.
    pub fn parse(uri: &str) -> Result<Magnet, MagnetError> {
        if uri.len() > MAX_LEN {
            return Err(MagnetError::TooLong);
        }
        let uri = uri.trim();
        // Raw control characters are never part of a URI; one inside (a line break from a
        // pasted or saved file) would travel on into logs, the database and the dashboard.
        if uri.chars().any(char::is_control) {
            return Err(MagnetError::ControlCharacter);
        }
        let query = uri.strip_prefix("magnet:?").ok_or(MagnetError::Scheme)?;
        let mut m = Magnet {
            info_hash: InfoHash([0; 20]),
            name: None,
            trackers: Vec::new(),
            peers: Vec::new(),
            web_seeds: Vec::new(),
            select_only: Vec::new(),
        };
        let mut info_hash = None;
        let mut select_only = None;
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            // `tr.1`, `xt.1`: numbered variants of the same keys (but `x.pe` is a name).
            let key = match key.strip_prefix("x.") {
                Some(_) => &*key,
                None => key.split('.').next().unwrap_or_default(),
            };
            match key {
                "xt" => {
                    // Other namespaces (urn:btmh: for v2) are skipped, not errors.
                    if let Some(h) = value.strip_prefix("urn:btih:") {
                        let h = parse_hash(h)?;
                        if info_hash.is_some_and(|old| old != h) {
                            return Err(MagnetError::TwoInfoHashes);
                        }
                        info_hash = Some(h);
                    }
                }
                "dn" if !value.is_empty() => m.name = Some(value.into_owned()),
                "tr" => push_unique(&mut m.trackers, value.into_owned()),
                "ws" => push_unique(&mut m.web_seeds, value.into_owned()),
                "x.pe" => {
                    let addr = value
                        .parse::<SocketAddr>()
                        .map_err(|_| MagnetError::BadPeer(value.clone().into_owned()))?;
                    if m.peers.len() < MAX_LIST && !m.peers.contains(&addr) {
                        m.peers.push(addr);
                    }
                }
                // The last one counts; only it is expanded (each can name 10,000 indices,
                // and a link may repeat it thousands of times).
                "so" => select_only = Some(value),
                _ => {}
            }
        }
        m.info_hash = info_hash.ok_or(MagnetError::NoInfoHash)?;
        if let Some(so) = select_only {
            m.select_only = parse_selection(&so)?;
        }
        // Decoded text re-encodes up to 3x longer: a link is accepted only if the one we give
        // back (dashboard, APIs) fits too, so every magnet we print can be pasted again.
        if m.to_uri().len() > MAX_LEN {
            return Err(MagnetError::TooLong);
        }
        Ok(m)
    }

    /// The link again, in a canonical form (hex info-hash, then dn, tr, ws, x.pe).
    pub fn to_uri(&self) -> String {
        let mut s = format!("magnet:?xt=urn:btih:{}", self.info_hash.to_hex());
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(n) = &self.name {
            q.append_pair("dn", n);
        }
        for t in &self.trackers {
            q.append_pair("tr", t);
        }
        for w in &self.web_seeds {
            q.append_pair("ws", w);
        }
        for p in &self.peers {
            q.append_pair("x.pe", &p.to_string());
        }
        let rest = q.finish();
        if !rest.is_empty() {
            s.push('&');
            s.push_str(&rest);
        }
        s
    }
}

fn push_unique(list: &mut Vec<String>, v: String) {
    if !v.is_empty() && list.len() < MAX_LIST && !list.contains(&v) {
        list.push(v);
    }
}

fn parse_hash(h: &str) -> Result<InfoHash, MagnetError> {
    match h.len() {
        40 => InfoHash::from_hex(h).map_err(|_| MagnetError::BadInfoHash),
        32 => base32(h).map(InfoHash).ok_or(MagnetError::BadInfoHash),
        _ => Err(MagnetError::BadInfoHash),
    }
}

/// `0,2,4-6` → `[0, 2, 4, 5, 6]` (sorted, deduplicated, bounded).
fn parse_selection(s: &str) -> Result<Vec<u32>, MagnetError> {
    let bad = || MagnetError::BadSelection(s.to_owned());
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let a: u32 = a.trim().parse().map_err(|_| bad())?;
        let b: u32 = b.trim().parse().map_err(|_| bad())?;
        if a > b || b > MAX_FILE_INDEX || out.len() + (b - a) as usize > MAX_LIST * 50 {
            return Err(bad());
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
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

    const HEX: &str = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    #[test]
    fn raw_control_characters_are_refused() {
        // Found by fuzzing (`watch_magnet_file`): a CR left inside a line of a .magnet file.
        for bad in [
            format!("magnet:?xt=urn:btih:{HEX}&tr127.0.0.1:6e\r{}", '\u{feff}'),
            format!("magnet:?xt=urn:btih:{HEX}&dn=a\nb"),
            format!("magnet:?xt=urn:btih:{HEX}\t&dn=a"),
        ] {
            assert_eq!(
                Magnet::parse(&bad),
                Err(MagnetError::ControlCharacter),
                "{bad:?}"
            );
        }
        // At the ends they are only whitespace around the link.
        assert!(Magnet::parse(&format!("\r\n magnet:?xt=urn:btih:{HEX}\r\n")).is_ok());
    }

    #[test]
    fn every_field() {
        let m = Magnet::parse(&format!(
            "magnet:?xt=urn:btih:{HEX}&dn=Some+File&tr=udp%3A%2F%2Ft%3A1&tr.1=http%3A%2F%2Fu%2Fannounce\
             &tr=udp%3A%2F%2Ft%3A1&x.pe=127.0.0.2:6881&x.pe=[::1]:7&ws=http%3A%2F%2Fw%2Ff&so=0,2,4-6,2\
             &xt=urn:btmh:1220abcd"
        ))
        .unwrap();
        assert_eq!(m.info_hash.to_hex(), HEX);
        assert_eq!(m.name.as_deref(), Some("Some File"));
        assert_eq!(m.trackers, vec!["udp://t:1", "http://u/announce"]);
        assert_eq!(
            m.peers,
            vec![
                "127.0.0.2:6881".parse().unwrap(),
                "[::1]:7".parse().unwrap()
            ]
        );
        assert_eq!(m.web_seeds, vec!["http://w/f"]);
        assert_eq!(m.select_only, vec![0, 2, 4, 5, 6]);
        assert_eq!(
            Magnet::parse(&m.to_uri()).unwrap().select_only,
            Vec::<u32>::new()
        );
        let again = Magnet::parse(&m.to_uri()).unwrap();
        assert_eq!((again.trackers, again.peers), (m.trackers, m.peers));
        let b32 = Magnet::parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").unwrap();
        assert_eq!(b32.info_hash.to_hex(), HEX);
    }

    #[test]
    fn bad_links_say_why() {
        use MagnetError::*;
        let p = Magnet::parse;
        assert_eq!(p("http://x"), Err(Scheme));
        assert_eq!(p("magnet:?dn=x"), Err(NoInfoHash));
        assert_eq!(p("magnet:?xt=urn:btih:1234"), Err(BadInfoHash));
        assert_eq!(
            p(&format!("magnet:?xt=urn:btih:{}", "z".repeat(40))),
            Err(BadInfoHash)
        );
        assert_eq!(
            p(&format!("magnet:?xt=urn:btih:{}", "1".repeat(32))),
            Err(BadInfoHash)
        );
        assert_eq!(
            p(&format!(
                "magnet:?xt=urn:btih:{HEX}&xt=urn:btih:{}",
                "a".repeat(40)
            )),
            Err(TwoInfoHashes)
        );
        assert!(matches!(
            p(&format!("magnet:?xt=urn:btih:{HEX}&x.pe=nohost")),
            Err(BadPeer(_))
        ));
        for so in ["a", "3-1", "1-99999999", "-"] {
            assert!(
                matches!(
                    p(&format!("magnet:?xt=urn:btih:{HEX}&so={so}")),
                    Err(BadSelection(_))
                ),
                "{so}"
            );
        }
        assert_eq!(
            p(&format!(
                "magnet:?xt=urn:btih:{HEX}&dn={}",
                "a".repeat(70000)
            )),
            Err(TooLong)
        );
    }

    #[test]
    fn a_link_whose_printed_form_would_be_too_long_is_refused() {
        // Found by fuzzing: raw non-ASCII text in `dn` passes the length check, but prints
        // percent-encoded (6 characters per 'é'), a link we would then refuse ourselves.
        let raw = format!("magnet:?xt=urn:btih:{HEX}&dn={}", "é".repeat(20_000));
        assert!(raw.len() < MAX_LEN);
        assert_eq!(Magnet::parse(&raw), Err(MagnetError::TooLong));
        let fits = format!("magnet:?xt=urn:btih:{HEX}&dn={}", "é".repeat(10_000));
        let m = Magnet::parse(&fits).unwrap();
        assert!(m.to_uri().len() <= MAX_LEN);
        assert_eq!(Magnet::parse(&m.to_uri()), Ok(m));
    }

    #[test]
    fn the_last_so_counts_and_only_it_is_expanded() {
        // Found by fuzzing: 128 `so` of 4,481 indices each were each expanded and sorted.
        let many = "&so=0-4480".repeat(500);
        let m = Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}{many}&so=1,3")).unwrap();
        assert_eq!(m.select_only, vec![1, 3]);
        let err = Magnet::parse(&format!("magnet:?xt=urn:btih:{HEX}&so=1&so=9-2")).unwrap_err();
        assert!(matches!(err, MagnetError::BadSelection(_)), "{err:?}");
    }
}
