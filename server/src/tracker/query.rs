//! The raw query of `GET /announce` and `GET /scrape`, parsed by hand: `info_hash` and
//! `peer_id` are 20 raw bytes percent-encoded, which axum's `Query` (UTF-8 strings) cannot
//! carry. Bounded: the query's length, the number of parameters and of scraped hashes are
//! capped, and values decode into fixed arrays, so no input allocates more than the caps allow.
//!
//! Self-contained (std only): `fuzz/` includes this file as it is.

/// Longest query read; a real announce is about 300 bytes.
pub const MAX_QUERY: usize = 4096;
/// Parameters looked at; the rest of a longer query is refused.
pub const MAX_PARAMS: usize = 100;
/// Info-hashes in one scrape (the BEP 15 limit, used for HTTP too).
pub const MAX_SCRAPE: usize = 74;

/// What an announce asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnnounceQuery {
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    pub left: u64,
    pub event: Event,
    /// As asked (saturated at `u32::MAX`); the store caps it.
    pub numwant: Option<u32>,
    /// `compact=0` asks for dictionary peers; anything else (or nothing) is compact.
    pub compact: bool,
    pub no_peer_id: bool,
    /// `passkey=` in the query (the path form is the HTTP adapter's).
    pub passkey: Option<Passkey>,
}

/// `event` of an announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    None,
    Started,
    Stopped,
    Completed,
}

/// A passkey as given (at most 64 bytes of `[A-Za-z0-9_-]`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Passkey {
    len: u8,
    bytes: [u8; 64],
}

impl Passkey {
    /// A key of 1..=64 URL-safe characters; `None` otherwise.
    pub fn parse(s: &[u8]) -> Option<Passkey> {
        if s.is_empty() || s.len() > 64 {
            return None;
        }
        if !s
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return None;
        }
        let mut bytes = [0; 64];
        bytes[..s.len()].copy_from_slice(s);
        Some(Passkey {
            len: s.len() as u8,
            bytes,
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII was accepted.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Debug for Passkey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passkey(..)")
    }
}

/// Why a query is refused; the text goes back as the `failure reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryError {
    TooLong,
    TooManyParams,
    Missing(&'static str),
    Invalid(&'static str),
    TooManyHashes,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::TooLong => write!(f, "query longer than {MAX_QUERY} bytes"),
            QueryError::TooManyParams => write!(f, "more than {MAX_PARAMS} parameters"),
            QueryError::Missing(k) => write!(f, "missing {k}"),
            QueryError::Invalid(k) => write!(f, "invalid {k}"),
            QueryError::TooManyHashes => write!(f, "more than {MAX_SCRAPE} info_hash"),
        }
    }
}

impl std::error::Error for QueryError {}

/// The `key=value` pairs of `query`, values still encoded; at most [`MAX_PARAMS`].
fn pairs(query: &[u8]) -> Result<impl Iterator<Item = (&[u8], &[u8])>, QueryError> {
    if query.len() > MAX_QUERY {
        return Err(QueryError::TooLong);
    }
    if query.split(|b| *b == b'&').count() > MAX_PARAMS {
        return Err(QueryError::TooManyParams);
    }
    Ok(query
        .split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(i) => (&p[..i], &p[i + 1..]),
            None => (p, &p[p.len()..]),
        }))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `v` into exactly `N` bytes (`+` is a space, as browsers encode it).
fn decode_exact<const N: usize>(v: &[u8], name: &'static str) -> Result<[u8; N], QueryError> {
    let mut out = [0u8; N];
    let mut n = 0;
    let mut i = 0;
    while i < v.len() {
        let b = match v[i] {
            b'%' => {
                let hi = v.get(i + 1).copied().and_then(hex);
                let lo = v.get(i + 2).copied().and_then(hex);
                i += 3;
                match (hi, lo) {
                    (Some(h), Some(l)) => h << 4 | l,
                    _ => return Err(QueryError::Invalid(name)),
                }
            }
            b'+' => {
                i += 1;
                b' '
            }
            b => {
                i += 1;
                b
            }
        };
        *out.get_mut(n).ok_or(QueryError::Invalid(name))? = b;
        n += 1;
    }
    if n != N {
        return Err(QueryError::Invalid(name));
    }
    Ok(out)
}

/// Decimal digits only (no sign), saturating at `u64::MAX`.
fn number(v: &[u8], name: &'static str) -> Result<u64, QueryError> {
    if v.is_empty() || v.len() > 40 || !v.iter().all(u8::is_ascii_digit) {
        return Err(QueryError::Invalid(name));
    }
    Ok(v.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

/// Parses an announce query (what follows `?`).
pub fn parse_announce(query: &[u8]) -> Result<AnnounceQuery, QueryError> {
    let (mut info_hash, mut peer_id, mut port) = (None, None, None);
    let mut q = AnnounceQuery {
        info_hash: [0; 20],
        peer_id: [0; 20],
        port: 0,
        uploaded: 0,
        downloaded: 0,
        left: 0,
        event: Event::None,
        numwant: None,
        compact: true,
        no_peer_id: false,
        passkey: None,
    };
    for (k, v) in pairs(query)? {
        match k {
            b"info_hash" => info_hash = Some(decode_exact::<20>(v, "info_hash")?),
            b"peer_id" => peer_id = Some(decode_exact::<20>(v, "peer_id")?),
            b"port" => {
                let p = number(v, "port")?;
                port = Some(
                    u16::try_from(p)
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or(QueryError::Invalid("port"))?,
                );
            }
            b"uploaded" => q.uploaded = number(v, "uploaded")?,
            b"downloaded" => q.downloaded = number(v, "downloaded")?,
            b"left" => q.left = number(v, "left")?,
            b"numwant" | b"num_want" => {
                let n = number(v, "numwant")?;
                q.numwant = Some(u32::try_from(n).unwrap_or(u32::MAX));
            }
            b"compact" => q.compact = v != b"0",
            b"no_peer_id" => q.no_peer_id = v == b"1",
            b"event" => {
                q.event = match v {
                    b"started" => Event::Started,
                    b"stopped" => Event::Stopped,
                    b"completed" => Event::Completed,
                    // BEP 21's `paused` and an empty event are ordinary announces.
                    b"" | b"empty" | b"paused" => Event::None,
                    _ => return Err(QueryError::Invalid("event")),
                }
            }
            b"passkey" => {
                q.passkey = Some(Passkey::parse(v).ok_or(QueryError::Invalid("passkey"))?)
            }
            // `ip` is ignored: the address is the connection's (anything else lets one client
            // point a swarm at someone else).
            _ => {}
        }
    }
    q.info_hash = info_hash.ok_or(QueryError::Missing("info_hash"))?;
    q.peer_id = peer_id.ok_or(QueryError::Missing("peer_id"))?;
    q.port = port.ok_or(QueryError::Missing("port"))?;
    Ok(q)
}

/// The info-hashes of a scrape query (none: scrape everything is not offered) and its
/// passkey. At most [`MAX_SCRAPE`], duplicates kept once.
pub fn parse_scrape(query: &[u8]) -> Result<(Vec<[u8; 20]>, Option<Passkey>), QueryError> {
    let mut hashes: Vec<[u8; 20]> = Vec::new();
    let mut passkey = None;
    for (k, v) in pairs(query)? {
        match k {
            b"info_hash" => {
                let h = decode_exact::<20>(v, "info_hash")?;
                if !hashes.contains(&h) {
                    if hashes.len() == MAX_SCRAPE {
                        return Err(QueryError::TooManyHashes);
                    }
                    hashes.push(h);
                }
            }
            b"passkey" => passkey = Some(Passkey::parse(v).ok_or(QueryError::Invalid("passkey"))?),
            _ => {}
        }
    }
    if hashes.is_empty() {
        return Err(QueryError::Missing("info_hash"));
    }
    Ok((hashes, passkey))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IH: &str = "%12%34Vx%9a%bc%de%f0%12%34Vx%9a%bc%de%f0%12%34Vx";
    const PID: &str = "-TE0100-abcdefghijkl";

    #[test]
    fn a_real_announce_parses() {
        let q = format!(
            "info_hash={IH}&peer_id={PID}&port=6881&uploaded=1&downloaded=2&left=3\
             &compact=1&key=1a2b&numwant=80&event=started&passkey=Ab_9-"
        );
        let a = parse_announce(q.as_bytes()).unwrap();
        assert_eq!(a.info_hash[..4], [0x12, 0x34, b'V', b'x']);
        assert_eq!(&a.peer_id, PID.as_bytes());
        assert_eq!((a.port, a.uploaded, a.downloaded, a.left), (6881, 1, 2, 3));
        assert_eq!(a.event, Event::Started);
        assert_eq!(a.numwant, Some(80));
        assert!(a.compact);
        assert_eq!(a.passkey.unwrap().as_str(), "Ab_9-");
    }

    #[test]
    fn missing_and_malformed_fields_are_named() {
        let ok = format!("info_hash={IH}&peer_id={PID}&port=1");
        assert!(parse_announce(ok.as_bytes()).is_ok());
        let cases = [
            (
                format!("peer_id={PID}&port=1"),
                QueryError::Missing("info_hash"),
            ),
            (
                format!("info_hash={IH}&port=1"),
                QueryError::Missing("peer_id"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}"),
                QueryError::Missing("port"),
            ),
            (
                format!("info_hash=%12%34&peer_id={PID}&port=1"),
                QueryError::Invalid("info_hash"),
            ),
            (
                format!("info_hash={IH}%00&peer_id={PID}&port=1"),
                QueryError::Invalid("info_hash"),
            ),
            (
                format!("info_hash=%zz{IH}&peer_id={PID}&port=1"),
                QueryError::Invalid("info_hash"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}&port=0"),
                QueryError::Invalid("port"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}&port=65536"),
                QueryError::Invalid("port"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}&port=-1"),
                QueryError::Invalid("port"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}&port=1&left=x"),
                QueryError::Invalid("left"),
            ),
            (
                format!("info_hash={IH}&peer_id={PID}&port=1&event=x"),
                QueryError::Invalid("event"),
            ),
        ];
        for (q, want) in cases {
            assert_eq!(parse_announce(q.as_bytes()), Err(want), "{q}");
        }
    }

    #[test]
    fn huge_numbers_saturate_and_long_queries_are_refused() {
        let q = format!("info_hash={IH}&peer_id={PID}&port=1&numwant=99999999999999999999999");
        assert_eq!(
            parse_announce(q.as_bytes()).unwrap().numwant,
            Some(u32::MAX)
        );
        let long = "a".repeat(MAX_QUERY + 1);
        assert_eq!(parse_announce(long.as_bytes()), Err(QueryError::TooLong));
        let many = "a&".repeat(MAX_PARAMS + 1);
        assert_eq!(
            parse_announce(many.as_bytes()),
            Err(QueryError::TooManyParams)
        );
    }

    #[test]
    fn scrape_takes_several_hashes_up_to_the_cap() {
        let q = format!("info_hash={IH}&info_hash={}&info_hash={IH}", "a".repeat(20));
        let (h, _) = parse_scrape(q.as_bytes()).unwrap();
        assert_eq!(h.len(), 2);
        let many: Vec<String> = (0..=MAX_SCRAPE)
            .map(|i| format!("info_hash={:020}", i))
            .collect();
        assert_eq!(
            parse_scrape(many.join("&").as_bytes()),
            Err(QueryError::TooManyHashes)
        );
        assert_eq!(parse_scrape(b""), Err(QueryError::Missing("info_hash")));
    }
}
