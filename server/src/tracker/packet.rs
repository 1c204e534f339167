//! BEP 15 request packets (connect, announce, scrape) and the replies' encodings, with BEP 41
//! URL data (a passkey) after an announce. Pure functions over byte slices: nothing here
//! allocates more than the reply it writes, and any input is either a request or an error.
//!
//! Self-contained (std only): `fuzz/` includes this file as it is.

/// BEP 15's magic in a connect request.
pub const PROTOCOL_ID: u64 = 0x0417_2710_1980;
/// Largest datagram read; an announce with URL data is well under it.
pub const MAX_PACKET: usize = 1500;
/// Hashes in one scrape (74 × 12 bytes of reply fit one datagram).
pub const MAX_SCRAPE: usize = 74;
/// Longest BEP 41 URL data kept (`/announce?passkey=…`).
pub const MAX_URL_DATA: usize = 255;

pub const ACTION_CONNECT: u32 = 0;
pub const ACTION_ANNOUNCE: u32 = 1;
pub const ACTION_SCRAPE: u32 = 2;
pub const ACTION_ERROR: u32 = 3;

/// A parsed request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Connect {
        transaction: u32,
    },
    Announce {
        connection: u64,
        transaction: u32,
        announce: UdpAnnounce<'a>,
    },
    Scrape {
        connection: u64,
        transaction: u32,
        hashes: &'a [u8],
    },
}

/// The fields of a UDP announce (BEP 15 offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpAnnounce<'a> {
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
    pub downloaded: u64,
    pub left: u64,
    pub uploaded: u64,
    /// 0 none, 1 completed, 2 started, 3 stopped.
    pub event: u32,
    pub num_want: i32,
    pub port: u16,
    /// BEP 41 URL data, concatenated (path and query of the announce URL).
    pub url_data: &'a [u8],
}

/// Why a packet is refused. `transaction` is known when the header was readable: then the
/// sender gets an error packet; otherwise the packet is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketError {
    pub transaction: Option<u32>,
    pub message: &'static str,
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn arr20(b: &[u8], at: usize) -> Option<[u8; 20]> {
    b.get(at..at + 20)?.try_into().ok()
}

/// Parses one datagram.
pub fn parse(p: &[u8]) -> Result<Request<'_>, PacketError> {
    let drop = |message| PacketError {
        transaction: None,
        message,
    };
    let (Some(connection), Some(action), Some(transaction)) = (be64(p, 0), be32(p, 8), be32(p, 12))
    else {
        return Err(drop("packet too short"));
    };
    let fail = |message| PacketError {
        transaction: Some(transaction),
        message,
    };
    // The receive buffer is one byte larger, so a longer datagram shows here (truncated).
    if p.len() > MAX_PACKET {
        return Err(fail("packet too large"));
    }
    match action {
        ACTION_CONNECT if connection == PROTOCOL_ID => Ok(Request::Connect { transaction }),
        ACTION_CONNECT => Err(fail("bad protocol id")),
        ACTION_ANNOUNCE => {
            let bad = || fail("announce too short");
            let announce = UdpAnnounce {
                info_hash: arr20(p, 16).ok_or_else(bad)?,
                peer_id: arr20(p, 36).ok_or_else(bad)?,
                downloaded: be64(p, 56).ok_or_else(bad)?,
                left: be64(p, 64).ok_or_else(bad)?,
                uploaded: be64(p, 72).ok_or_else(bad)?,
                event: be32(p, 80).ok_or_else(bad)?,
                // 84: ip (ignored: the sender's address counts), 88: key.
                num_want: be32(p, 92).ok_or_else(bad)? as i32,
                port: u16::from_be_bytes([
                    *p.get(96).ok_or_else(bad)?,
                    *p.get(97).ok_or_else(bad)?,
                ]),
                url_data: url_data(&p[98..]).map_err(fail)?,
            };
            if announce.event > 3 {
                return Err(fail("invalid event"));
            }
            if announce.port == 0 {
                return Err(fail("invalid port"));
            }
            Ok(Request::Announce {
                connection,
                transaction,
                announce,
            })
        }
        ACTION_SCRAPE => {
            let hashes = &p[16..];
            if hashes.is_empty() || !hashes.len().is_multiple_of(20) {
                return Err(fail("scrape needs whole info-hashes"));
            }
            if hashes.len() / 20 > MAX_SCRAPE {
                return Err(fail("more than 74 info-hashes"));
            }
            Ok(Request::Scrape {
                connection,
                transaction,
                hashes,
            })
        }
        _ => Err(fail("unknown action")),
    }
}

/// BEP 41 options after an announce: the one URL data option libtorrent sends, as a slice of
/// the packet when it is a single option (the usual case), else refused when over the cap.
fn url_data(mut opts: &[u8]) -> Result<&[u8], &'static str> {
    let mut found: &[u8] = &[];
    while let Some((&kind, rest)) = opts.split_first() {
        match kind {
            0 => break,
            1 => opts = rest,
            2 => {
                let (&len, rest) = rest.split_first().ok_or("truncated option")?;
                let data = rest.get(..usize::from(len)).ok_or("truncated option")?;
                if !found.is_empty() {
                    // Several URL data options: join only adjacent ones (they are, from
                    // libtorrent); anything else is refused rather than copied.
                    return Err("split URL data");
                }
                found = data;
                opts = &rest[usize::from(len)..];
            }
            _ => return Err("unknown option"),
        }
    }
    if found.len() > MAX_URL_DATA {
        return Err("URL data too long");
    }
    Ok(found)
}

/// The `passkey` of BEP 41 URL data (`/announce/KEY`, `/announce?passkey=KEY`), if any.
pub fn url_passkey(url: &[u8]) -> Option<&[u8]> {
    let (path, query) = match url.iter().position(|b| *b == b'?') {
        Some(i) => (&url[..i], &url[i + 1..]),
        None => (url, &url[url.len()..]),
    };
    if let Some(k) = query
        .split(|b| *b == b'&')
        .find_map(|kv| kv.strip_prefix(b"passkey="))
    {
        return Some(k);
    }
    path.strip_prefix(b"/announce/").filter(|k| !k.is_empty())
}

/// `connect` reply.
pub fn connect_reply(transaction: u32, connection: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(&ACTION_CONNECT.to_be_bytes());
    out.extend_from_slice(&transaction.to_be_bytes());
    out.extend_from_slice(&connection.to_be_bytes());
}

/// Header of an `announce` reply; the compact peers follow.
pub fn announce_reply_head(
    transaction: u32,
    interval: u32,
    leechers: u32,
    seeders: u32,
    out: &mut Vec<u8>,
) {
    for v in [ACTION_ANNOUNCE, transaction, interval, leechers, seeders] {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// `error` reply.
pub fn error_reply(transaction: u32, message: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&ACTION_ERROR.to_be_bytes());
    out.extend_from_slice(&transaction.to_be_bytes());
    out.extend_from_slice(message.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn announce(extra: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&7u64.to_be_bytes());
        p.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
        p.extend_from_slice(&9u32.to_be_bytes());
        p.extend_from_slice(&[0xab; 20]);
        p.extend_from_slice(b"-TE0100-abcdefghijkl");
        for v in [1u64, 2, 3] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        for v in [2u32, 0, 0x1234, u32::MAX] {
            p.extend_from_slice(&v.to_be_bytes());
        }
        p.extend_from_slice(&6881u16.to_be_bytes());
        p.extend_from_slice(extra);
        p
    }

    #[test]
    fn connect_announce_scrape() {
        let mut c = PROTOCOL_ID.to_be_bytes().to_vec();
        c.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 5]);
        assert_eq!(parse(&c), Ok(Request::Connect { transaction: 5 }));
        let p = announce(b"");
        let Ok(Request::Announce { announce: a, .. }) = parse(&p) else {
            panic!()
        };
        assert_eq!((a.downloaded, a.left, a.uploaded, a.event), (1, 2, 3, 2));
        assert_eq!((a.num_want, a.port), (-1, 6881));
        let mut s = 7u64.to_be_bytes().to_vec();
        s.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1]);
        s.extend_from_slice(&[1; 40]);
        assert!(matches!(parse(&s), Ok(Request::Scrape { hashes, .. }) if hashes.len() == 40));
    }

    #[test]
    fn url_data_carries_a_passkey() {
        let mut opt = vec![2, 22];
        opt.extend_from_slice(b"/announce?passkey=abcd");
        opt.push(0);
        let p = announce(&opt);
        let Ok(Request::Announce { announce: a, .. }) = parse(&p) else {
            panic!()
        };
        assert_eq!(url_passkey(a.url_data), Some(&b"abcd"[..]));
        assert_eq!(url_passkey(b"/announce/k1"), Some(&b"k1"[..]));
        assert_eq!(url_passkey(b"/announce"), None);
        assert!(parse(&announce(&[2, 50, b'x'])).is_err());
    }

    #[test]
    fn garbage_is_dropped_or_answered_with_its_transaction() {
        assert_eq!(parse(&[1, 2, 3]).unwrap_err().transaction, None);
        let mut bad = 1u64.to_be_bytes().to_vec();
        bad.extend_from_slice(&[0, 0, 0, 9, 0, 0, 0, 4]);
        assert_eq!(parse(&bad).unwrap_err().transaction, Some(4));
        let mut short = announce(b"");
        short.truncate(60);
        assert_eq!(parse(&short).unwrap_err().message, "announce too short");
        let mut s = 7u64.to_be_bytes().to_vec();
        s.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 1]);
        s.extend_from_slice(&[1; 20 * 75]);
        assert!(parse(&s).is_err());
        assert_eq!(
            parse(&vec![0; MAX_PACKET + 1]).unwrap_err().message,
            "packet too large"
        );
    }
}
