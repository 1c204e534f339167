//! BEP 14's `BT-SEARCH` datagram: an HTTP-like request naming the torrents a peer has and
//! the port it listens on.

use crate::InfoHash;

/// Datagrams longer than this are not ours to read (a full one names ~40 torrents).
pub const MAX_DATAGRAM: usize = 1400;
/// Info-hashes we put in one datagram (libtorrent reads several; older peers read one).
pub const MAX_HASHES: usize = 20;

/// One announce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announce {
    pub port: u16,
    pub info_hashes: Vec<InfoHash>,
    /// Set by the sender to recognise its own datagrams looped back by multicast.
    pub cookie: Option<String>,
}

/// Why a datagram was not a usable announce.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LsdError {
    #[error("datagram of {0} bytes is too long")]
    TooLong(usize),
    #[error("not a BT-SEARCH request")]
    NotSearch,
    #[error("no valid port")]
    NoPort,
    #[error("no valid info-hash")]
    NoInfoHash,
}

impl Announce {
    /// The datagram, sent to `host` (the multicast group as `addr:port`).
    pub fn encode(&self, host: &str) -> Vec<u8> {
        let mut s = format!(
            "BT-SEARCH * HTTP/1.1\r\nHost: {host}\r\nPort: {}\r\n",
            self.port
        );
        for ih in self.info_hashes.iter().take(MAX_HASHES) {
            s.push_str("Infohash: ");
            s.push_str(&ih.to_hex());
            s.push_str("\r\n");
        }
        if let Some(c) = &self.cookie {
            s.push_str("cookie: ");
            s.push_str(c);
            s.push_str("\r\n");
        }
        s.push_str("\r\n\r\n");
        s.into_bytes()
    }

    /// Reads a datagram; header names are case-insensitive, unknown ones ignored, and bad
    /// info-hashes skipped as long as one is good.
    pub fn parse(b: &[u8]) -> Result<Announce, LsdError> {
        if b.len() > MAX_DATAGRAM {
            return Err(LsdError::TooLong(b.len()));
        }
        let text = std::str::from_utf8(b).map_err(|_| LsdError::NotSearch)?;
        let mut lines = text.split("\r\n");
        if !lines
            .next()
            .is_some_and(|l| l.trim_end().starts_with("BT-SEARCH * HTTP/1."))
        {
            return Err(LsdError::NotSearch);
        }
        let (mut port, mut info_hashes, mut cookie) = (None, Vec::new(), None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "port" => port = value.parse::<u16>().ok().filter(|p| *p != 0),
                "infohash" if info_hashes.len() < MAX_HASHES * 2 => {
                    if let Ok(ih) = InfoHash::from_hex(value) {
                        if !info_hashes.contains(&ih) {
                            info_hashes.push(ih);
                        }
                    }
                }
                "cookie" => cookie = Some(value.chars().take(64).collect()),
                _ => {}
            }
        }
        let port = port.ok_or(LsdError::NoPort)?;
        if info_hashes.is_empty() {
            return Err(LsdError::NoInfoHash);
        }
        Ok(Announce {
            port,
            info_hashes,
            cookie,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let a = Announce {
            port: 6881,
            info_hashes: vec![InfoHash([1; 20]), InfoHash([0xab; 20])],
            cookie: Some("te-1234".into()),
        };
        let b = a.encode("239.192.152.143:6771");
        assert!(b.starts_with(b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n"));
        assert_eq!(Announce::parse(&b), Ok(a));
    }

    /// What libtorrent 2.0 sends (lsd.cpp): lower-case cookie, upper-case hex.
    #[test]
    fn reads_libtorrent_datagrams() {
        let b = b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 51413\r\nInfohash: ABABABABABABABABABABABABABABABABABABABAB\r\ncookie: 5f2c\r\n\r\n\r\n";
        let a = Announce::parse(b).unwrap();
        assert_eq!(a.port, 51413);
        assert_eq!(a.info_hashes, vec![InfoHash([0xab; 20])]);
        assert_eq!(a.cookie.as_deref(), Some("5f2c"));
    }

    #[test]
    fn refuses_what_is_not_an_announce() {
        assert_eq!(
            Announce::parse(b"M-SEARCH * HTTP/1.1\r\n\r\n"),
            Err(LsdError::NotSearch)
        );
        let no_port =
            b"BT-SEARCH * HTTP/1.1\r\nInfohash: abababababababababababababababababababab\r\n\r\n";
        assert_eq!(Announce::parse(no_port), Err(LsdError::NoPort));
        let bad_hash = b"BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: xyz\r\n\r\n";
        assert_eq!(Announce::parse(bad_hash), Err(LsdError::NoInfoHash));
        let port0 = b"BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: abababababababababababababababababababab\r\n\r\n";
        assert_eq!(Announce::parse(port0), Err(LsdError::NoPort));
        assert!(matches!(
            Announce::parse(&[b'a'; 2000]),
            Err(LsdError::TooLong(2000))
        ));
        assert_eq!(Announce::parse(&[0xff, 0xfe]), Err(LsdError::NotSearch));
    }
}
