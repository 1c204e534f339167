//! `.torrent` parsing and validation (BEP 3, BEP 12 tiers).
//!
//! Parsed with our bounded [`crate::bencode`] decoder rather than `lava_torrent`: lava's
//! decoder recurses without a depth limit (a crafted file overflows the stack), rejects the
//! unsorted dictionaries real torrents contain, and joins path components into a `PathBuf`
//! before we can check them, which hides a component like `"a/b"` or `"/etc"`. The info-hash
//! is the SHA-1 of the exact `info` bytes found with [`bencode::dict_value_span`]. lava_torrent
//! remains the reference in a differential test (`tests/metainfo_vs_lava.rs`).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::bencode::{self, Value};
use crate::types::url_encode_bytes;
use crate::InfoHash;

/// One file of the torrent, in torrent order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Relative path; for multi-file torrents it starts with the torrent's name directory.
    pub path: PathBuf,
    pub length: u64,
    /// Offset of the file's first byte in the torrent's byte stream.
    pub offset: u64,
}

/// A validated torrent: every path is safe to join onto a download directory.
#[derive(Clone, PartialEq, Eq)]
pub struct Metainfo {
    pub info_hash: InfoHash,
    /// The exact raw `info` dictionary (what the info-hash covers; served for BEP 9).
    pub info_bytes: Bytes,
    pub name: String,
    pub piece_length: u32,
    pub piece_hashes: Vec<[u8; 20]>,
    pub files: Vec<FileInfo>,
    pub total_length: u64,
    /// Announce tiers: `announce-list` if present, else `[[announce]]`, else empty.
    pub trackers: Vec<Vec<String>>,
    pub private: bool,
    pub comment: Option<String>,
    pub created_by: Option<String>,
    pub creation_date: Option<i64>,
    /// BEP 19 web seeds (`url-list`): HTTP(S) URLs serving the torrent's files.
    pub web_seeds: Vec<String>,
}

/// Web seeds kept from a `url-list`, and the longest URL kept.
const MAX_WEB_SEEDS: usize = 32;
const MAX_URL_LEN: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum MetainfoError {
    #[error("torrent is larger than {} bytes", Metainfo::MAX_TORRENT_SIZE)]
    TooLarge,
    #[error("malformed bencode: {0}")]
    Parse(String),
    #[error("unsafe file path {0:?}")]
    BadPath(String),
    #[error("invalid torrent: {0}")]
    Invalid(String),
}

impl From<bencode::BencodeError> for MetainfoError {
    fn from(e: bencode::BencodeError) -> Self {
        MetainfoError::Parse(e.to_string())
    }
}

fn invalid(msg: impl Into<String>) -> MetainfoError {
    MetainfoError::Invalid(msg.into())
}

/// Largest piece we accept (larger pieces make one piece buffer unreasonably big).
pub const MAX_PIECE_LENGTH: u32 = 64 << 20;
/// Bencode values allowed in one torrent: caps the memory a crafted file can make the decoder
/// allocate (a value costs ~32 bytes even when it is 2 bytes of input) while leaving room for
/// hundreds of thousands of files.
const MAX_VALUES: usize = 2 << 20;

impl Metainfo {
    pub const MAX_TORRENT_SIZE: usize = 32 << 20;

    /// Parses and validates a `.torrent` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MetainfoError> {
        check_size(bytes)?;
        let span = bencode::dict_value_span(bytes, b"info")?
            .ok_or_else(|| invalid("no info dictionary"))?;
        let top = bencode::decode(bytes)?;
        let trackers = parse_trackers(&top);
        let info = top
            .get(b"info")
            .ok_or_else(|| invalid("no info dictionary"))?;
        let mut meta = parse_info(info, &bytes[span], trackers)?;
        meta.comment = text(&top, b"comment");
        meta.created_by = text(&top, b"created by");
        meta.creation_date = top.get(b"creation date").and_then(Value::as_int);
        meta.web_seeds = parse_web_seeds(&top);
        Ok(meta)
    }

    /// Builds a torrent from a bare info dictionary (BEP 9 metadata from a magnet).
    pub fn from_info_bytes(info: &[u8], trackers: Vec<Vec<String>>) -> Result<Self, MetainfoError> {
        check_size(info)?;
        let v = bencode::decode(info)?;
        parse_info(&v, info, trackers)
    }

    pub fn num_pieces(&self) -> u32 {
        self.piece_hashes.len() as u32
    }

    /// Length of piece `i` (the last one may be short); 0 when out of range.
    pub fn piece_len(&self, i: u32) -> u32 {
        if i >= self.num_pieces() {
            return 0;
        }
        let start = u64::from(i) * u64::from(self.piece_length);
        (self.total_length - start).min(u64::from(self.piece_length)) as u32
    }

    /// Whether files live under a `name` directory (BEP 3 `files` form).
    pub fn is_multi_file(&self) -> bool {
        self.files.len() != 1 || self.files[0].path != Path::new(&self.name)
    }

    /// A `.torrent` file with our trackers around the original info bytes (same info-hash).
    pub fn to_torrent_bytes(&self) -> Vec<u8> {
        torrent_file(
            &TopLevel {
                trackers: &self.trackers,
                web_seeds: &self.web_seeds,
                comment: self.comment.as_deref(),
                created_by: self.created_by.as_deref(),
                creation_date: self.creation_date,
            },
            &self.info_bytes,
        )
    }

    /// For a hybrid v1+v2 torrent (BEP 52: `meta version` 2 in the info dictionary), the v2
    /// info-hash truncated to 20 bytes. v2-aware peers such as libtorrent may answer our v1
    /// handshake with it; any other foreign hash means the peer does not serve this torrent.
    pub fn hybrid_v2_hash(&self) -> Option<InfoHash> {
        use sha2::Digest;
        let info = bencode::decode(&self.info_bytes).ok()?;
        if info.get(b"meta version")?.as_int()? != 2 {
            return None;
        }
        let digest = sha2::Sha256::digest(&self.info_bytes);
        let mut truncated = [0u8; 20];
        truncated.copy_from_slice(&digest[..20]);
        Some(InfoHash(truncated))
    }

    /// `magnet:?xt=urn:btih:<hex>&dn=<name>&tr=<tracker>...` with every tracker of every tier.
    pub fn magnet_link(&self) -> String {
        let mut s = format!("magnet:?xt=urn:btih:{}", self.info_hash.to_hex());
        s.push_str("&dn=");
        s.push_str(&url_encode_bytes(self.name.as_bytes()));
        for url in self.trackers.iter().flatten() {
            s.push_str("&tr=");
            s.push_str(&url_encode_bytes(url.as_bytes()));
        }
        for url in &self.web_seeds {
            s.push_str("&ws=");
            s.push_str(&url_encode_bytes(url.as_bytes()));
        }
        s
    }
}

impl fmt::Debug for Metainfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metainfo")
            .field("info_hash", &self.info_hash)
            .field("name", &self.name)
            .field("piece_length", &self.piece_length)
            .field("pieces", &self.piece_hashes.len())
            .field("files", &self.files.len())
            .field("total_length", &self.total_length)
            .field("trackers", &self.trackers)
            .field("private", &self.private)
            .finish_non_exhaustive()
    }
}

/// A single path component or torrent name we are willing to create on disk.
pub(crate) fn valid_component(c: &str) -> bool {
    !c.is_empty() && c != "." && c != ".." && !c.contains(['/', '\\', '\0'])
}

fn check_size(bytes: &[u8]) -> Result<(), MetainfoError> {
    if bytes.len() > Metainfo::MAX_TORRENT_SIZE {
        return Err(MetainfoError::TooLarge);
    }
    if count_values_exceeds(bytes, MAX_VALUES) {
        return Err(invalid(format!("more than {MAX_VALUES} bencode values")));
    }
    Ok(())
}

/// Cheap pre-scan counting bencode values without allocating; structure errors are left to
/// the real decoder.
fn count_values_exceeds(input: &[u8], limit: usize) -> bool {
    let (mut i, mut count) = (0usize, 0usize);
    while i < input.len() {
        match input[i] {
            b'e' => i += 1,
            b'l' | b'd' => {
                count += 1;
                i += 1;
            }
            b'i' => {
                count += 1;
                let Some(end) = input[i..].iter().position(|&b| b == b'e') else {
                    return false;
                };
                i += end + 1;
            }
            b'0'..=b'9' => {
                count += 1;
                let Some(colon) = input[i..].iter().position(|&b| b == b':') else {
                    return false;
                };
                // A length like `1 :` has a non-digit: leave it to the decoder's error.
                let len = input[i..i + colon].iter().try_fold(0usize, |n, &d| {
                    let d = char::from(d).to_digit(10)?;
                    n.checked_mul(10)?.checked_add(d as usize)
                });
                let Some(len) = len else { return false };
                i = (i + colon + 1).saturating_add(len);
            }
            _ => return false,
        }
        if count > limit {
            return true;
        }
    }
    false
}

/// UTF-8 text of `key` (lossy: these fields are informational only).
fn text(v: &Value, key: &[u8]) -> Option<String> {
    v.get(key)
        .and_then(Value::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// `key.utf-8` when present and valid, else `key` (lossy for legacy encodings).
fn name_field(v: &Value, key: &str) -> Option<String> {
    let utf8_key = format!("{key}.utf-8");
    if let Some(s) = v.get(utf8_key.as_bytes()).and_then(Value::as_str) {
        return Some(s.to_owned());
    }
    v.get(key.as_bytes())
        .and_then(Value::as_bytes)
        .map(|b| String::from_utf8_lossy(b).into_owned())
}

/// BEP 19 `url-list`: one URL or a list; only http(s) URLs, bounded in number and length.
fn parse_web_seeds(top: &Value) -> Vec<String> {
    let urls: Vec<&str> = match top.get(b"url-list") {
        Some(v) => match (v.as_str(), v.as_list()) {
            (Some(one), _) => vec![one],
            (None, Some(list)) => list.iter().filter_map(Value::as_str).collect(),
            (None, None) => Vec::new(),
        },
        None => Vec::new(),
    };
    let mut out: Vec<String> = Vec::new();
    for u in urls {
        let lower = u.to_ascii_lowercase();
        let http = lower.starts_with("http://") || lower.starts_with("https://");
        if http && u.len() <= MAX_URL_LEN && !out.iter().any(|o| o == u) {
            out.push(u.to_owned());
        }
        if out.len() == MAX_WEB_SEEDS {
            break;
        }
    }
    out
}

/// BEP 12 tiers, else `announce`; malformed entries are skipped, not fatal.
fn parse_trackers(top: &Value) -> Vec<Vec<String>> {
    let tiers: Vec<Vec<String>> = top
        .get(b"announce-list")
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_list)
        .map(|tier| {
            tier.iter()
                .filter_map(Value::as_str)
                .filter(|u| !u.is_empty())
                .map(String::from)
                .collect()
        })
        .filter(|t: &Vec<String>| !t.is_empty())
        .collect();
    if !tiers.is_empty() {
        return tiers;
    }
    match top.get(b"announce").and_then(Value::as_str) {
        Some(url) if !url.is_empty() => vec![vec![url.to_owned()]],
        _ => Vec::new(),
    }
}

fn parse_info(
    info: &Value,
    raw: &[u8],
    trackers: Vec<Vec<String>>,
) -> Result<Metainfo, MetainfoError> {
    if info.as_dict().is_none() {
        return Err(invalid("info is not a dictionary"));
    }
    let name = name_field(info, "name").ok_or_else(|| invalid("missing name"))?;
    if !valid_component(&name) {
        return Err(MetainfoError::BadPath(name));
    }
    let piece_length = info
        .get(b"piece length")
        .and_then(Value::as_int)
        .ok_or_else(|| invalid("missing piece length"))?;
    let piece_length = match u32::try_from(piece_length) {
        Ok(pl) if pl > 0 && pl <= MAX_PIECE_LENGTH => pl,
        _ => {
            return Err(invalid(format!(
                "piece length {piece_length} is not in 1..=64 MiB"
            )))
        }
    };
    let pieces = info
        .get(b"pieces")
        .and_then(Value::as_bytes)
        .ok_or_else(|| invalid("missing pieces"))?;
    if pieces.is_empty() || pieces.len() % 20 != 0 {
        return Err(invalid(format!(
            "pieces is {} bytes, not a multiple of 20",
            pieces.len()
        )));
    }

    let files = match (info.get(b"length"), info.get(b"files")) {
        (Some(len), None) => {
            let length = non_negative(len.as_int(), &name)?;
            vec![FileInfo {
                path: PathBuf::from(&name),
                length,
                offset: 0,
            }]
        }
        (None, Some(list)) => parse_files(list, &name)?,
        (Some(_), Some(_)) => return Err(invalid("both length and files present")),
        (None, None) => return Err(invalid("neither length nor files present")),
    };
    let total_length = match files.last() {
        Some(f) => f
            .offset
            .checked_add(f.length)
            .ok_or_else(|| invalid("total length overflows"))?,
        None => 0,
    };
    if total_length == 0 {
        return Err(invalid("total length is 0"));
    }
    let expected = total_length.div_ceil(u64::from(piece_length));
    if expected != (pieces.len() / 20) as u64 {
        return Err(invalid(format!(
            "{} piece hashes for {total_length} bytes in pieces of {piece_length} (need {expected})",
            pieces.len() / 20
        )));
    }
    let piece_hashes = pieces
        .chunks_exact(20)
        .map(|c| {
            let mut h = [0u8; 20];
            h.copy_from_slice(c);
            h
        })
        .collect();

    Ok(Metainfo {
        info_hash: InfoHash(crate::storage::sha1_piece(raw)),
        info_bytes: Bytes::copy_from_slice(raw),
        name,
        piece_length,
        piece_hashes,
        files,
        total_length,
        trackers,
        private: info.get(b"private").and_then(Value::as_int) == Some(1),
        comment: None,
        created_by: None,
        creation_date: None,
        web_seeds: Vec::new(),
    })
}

fn non_negative(v: Option<i64>, what: &str) -> Result<u64, MetainfoError> {
    match v {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(invalid(format!("{what}: length missing or negative"))),
    }
}

/// The `files` list: every component checked on its own, paths unique, no file that is
/// also another file's directory.
fn parse_files(list: &Value, name: &str) -> Result<Vec<FileInfo>, MetainfoError> {
    let list = list
        .as_list()
        .ok_or_else(|| invalid("files is not a list"))?;
    if list.is_empty() {
        return Err(invalid("files is empty"));
    }
    let mut files = Vec::with_capacity(list.len());
    let mut offset = 0u64;
    let mut seen_files = HashSet::new();
    let mut seen_dirs = HashSet::new();
    for entry in list {
        let components = entry
            .get(b"path.utf-8")
            .and_then(Value::as_list)
            .filter(|l| l.iter().all(|c| c.as_str().is_some()))
            .or_else(|| entry.get(b"path").and_then(Value::as_list))
            .ok_or_else(|| invalid("file without a path list"))?;
        let mut path = PathBuf::from(name);
        let mut shown = name.to_owned();
        for c in components {
            let c = c
                .as_bytes()
                .ok_or_else(|| invalid("path component is not a string"))?;
            let c = String::from_utf8_lossy(c);
            shown.push('/');
            shown.push_str(&c);
            if !valid_component(&c) {
                return Err(MetainfoError::BadPath(shown));
            }
            path.push(c.as_ref());
        }
        if components.is_empty() {
            return Err(MetainfoError::BadPath(shown));
        }
        let length = non_negative(entry.get(b"length").and_then(Value::as_int), &shown)?;
        for dir in path.ancestors().skip(1) {
            seen_dirs.insert(dir.to_path_buf());
        }
        if !seen_files.insert(path.clone()) {
            return Err(invalid(format!("duplicate file {shown:?}")));
        }
        files.push(FileInfo {
            path,
            length,
            offset,
        });
        offset = offset
            .checked_add(length)
            .ok_or_else(|| invalid("total length overflows"))?;
    }
    if let Some(f) = files.iter().find(|f| seen_dirs.contains(&f.path)) {
        return Err(invalid(format!(
            "{:?} is both a file and a directory",
            f.path
        )));
    }
    Ok(files)
}

/// What a `.torrent` holds besides the info dictionary.
pub(crate) struct TopLevel<'a> {
    pub trackers: &'a [Vec<String>],
    pub web_seeds: &'a [String],
    pub comment: Option<&'a str>,
    pub created_by: Option<&'a str>,
    pub creation_date: Option<i64>,
}

/// Writes a torrent file around raw `info` bytes (keys in bencode order).
pub(crate) fn torrent_file(top: &TopLevel<'_>, info: &[u8]) -> Vec<u8> {
    let TopLevel {
        trackers,
        web_seeds,
        comment,
        created_by,
        creation_date,
    } = *top;
    let mut out = Vec::with_capacity(info.len() + 512);
    out.push(b'd');
    let tiers: Vec<&Vec<String>> = trackers.iter().filter(|t| !t.is_empty()).collect();
    if let Some(first) = tiers.first().and_then(|t| t.first()) {
        put_str(&mut out, "announce");
        put_str(&mut out, first);
        if tiers.len() > 1 || tiers[0].len() > 1 {
            put_str(&mut out, "announce-list");
            out.push(b'l');
            for tier in &tiers {
                out.push(b'l');
                for url in tier.iter() {
                    put_str(&mut out, url);
                }
                out.push(b'e');
            }
            out.push(b'e');
        }
    }
    if let Some(c) = comment {
        put_str(&mut out, "comment");
        put_str(&mut out, c);
    }
    if let Some(c) = created_by {
        put_str(&mut out, "created by");
        put_str(&mut out, c);
    }
    if let Some(d) = creation_date {
        put_str(&mut out, "creation date");
        put_int(&mut out, d);
    }
    put_str(&mut out, "info");
    out.extend_from_slice(info);
    if !web_seeds.is_empty() {
        put_str(&mut out, "url-list");
        out.push(b'l');
        for url in web_seeds {
            put_str(&mut out, url);
        }
        out.push(b'e');
    }
    out.push(b'e');
    out
}

pub(crate) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

pub(crate) fn put_int(out: &mut Vec<u8>, i: i64) {
    out.push(b'i');
    out.extend_from_slice(i.to_string().as_bytes());
    out.push(b'e');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sha1_piece;

    fn s(x: &str) -> Value {
        Value::bytes(x)
    }

    fn int(i: i64) -> Value {
        Value::Int(i)
    }

    fn hashes(n: usize) -> Value {
        Value::Bytes((0..n * 20).map(|i| (i * 13) as u8).collect())
    }

    /// Regression (found by reading, issue 11): a non-digit inside a string length made the
    /// pre-scan compute `d - b'0'` and overflow in debug builds.
    #[test]
    fn non_digit_in_a_string_length_is_an_error_not_a_panic() {
        for input in [&b"1 :a"[..], b"d4:info1 :xe", b"9/:", b"l1\xff:ae"] {
            assert!(!count_values_exceeds(input, 10));
            assert!(Metainfo::from_bytes(input).is_err());
        }
    }

    fn single_info(len: i64, pl: i64, pieces: usize) -> Value {
        Value::dict([
            ("length", int(len)),
            ("name", s("file.bin")),
            ("piece length", int(pl)),
            ("pieces", hashes(pieces)),
        ])
    }

    fn multi_info(paths: &[(&[&str], i64)], pl: i64, pieces: usize) -> Value {
        let files = paths
            .iter()
            .map(|(p, len)| {
                Value::dict([
                    ("length", int(*len)),
                    ("path", Value::List(p.iter().map(|c| s(c)).collect())),
                ])
            })
            .collect();
        Value::dict([
            ("files", Value::List(files)),
            ("name", s("dir")),
            ("piece length", int(pl)),
            ("pieces", hashes(pieces)),
        ])
    }

    fn torrent(info: Value) -> Vec<u8> {
        bencode::encode(&Value::dict([
            ("announce", s("http://t.example/announce")),
            ("info", info),
        ]))
    }

    #[test]
    fn hybrid_v2_hash_only_for_meta_version_2() {
        use sha2::Digest;
        let v1 = Metainfo::from_bytes(&torrent(single_info(40_000, 16384, 3))).unwrap();
        assert_eq!(v1.hybrid_v2_hash(), None);
        let mut info = single_info(40_000, 16384, 3);
        if let Value::Dict(d) = &mut info {
            d.insert(b"meta version".to_vec(), int(2));
        }
        let hybrid = Metainfo::from_bytes(&torrent(info.clone())).unwrap();
        let full = sha2::Sha256::digest(bencode::encode(&info));
        assert_eq!(
            hybrid.hybrid_v2_hash().map(|h| h.0.to_vec()),
            Some(full[..20].to_vec())
        );
        assert_ne!(hybrid.hybrid_v2_hash(), Some(hybrid.info_hash));
    }

    #[test]
    fn web_seeds_from_url_list() {
        let with = |url_list: Value| {
            let t = bencode::encode(&Value::dict([
                ("info", single_info(40_000, 16384, 3)),
                ("url-list", url_list),
            ]));
            Metainfo::from_bytes(&t).unwrap().web_seeds
        };
        assert_eq!(with(s("http://a/f")), ["http://a/f"]);
        let list = Value::List(vec![
            s("https://b/"),
            s("ftp://no/"),
            int(7),
            s("https://b/"),
            s(&format!("http://{}", "x".repeat(MAX_URL_LEN))),
            s("HTTP://c/"),
        ]);
        assert_eq!(with(list), ["https://b/", "HTTP://c/"]);
        let many = Value::List((0..100).map(|i| s(&format!("http://h/{i}"))).collect());
        assert_eq!(with(many).len(), MAX_WEB_SEEDS);
    }

    #[test]
    fn single_file() {
        let info = single_info(40_000, 16384, 3);
        let m = Metainfo::from_bytes(&torrent(info.clone())).unwrap();
        assert_eq!(m.info_hash, InfoHash(sha1_piece(&bencode::encode(&info))));
        assert_eq!(&m.info_bytes[..], &bencode::encode(&info)[..]);
        assert_eq!(
            (m.name.as_str(), m.piece_length, m.total_length),
            ("file.bin", 16384, 40_000)
        );
        assert_eq!(
            m.files,
            vec![FileInfo {
                path: "file.bin".into(),
                length: 40_000,
                offset: 0
            }]
        );
        assert_eq!(
            (
                m.num_pieces(),
                m.piece_len(0),
                m.piece_len(2),
                m.piece_len(3)
            ),
            (3, 16384, 7232, 0)
        );
        assert_eq!(
            m.trackers,
            vec![vec!["http://t.example/announce".to_string()]]
        );
        assert!(!m.is_multi_file() && !m.private);
        assert_eq!(m.piece_hashes[1][..], hashes(3).as_bytes().unwrap()[20..40]);
    }

    #[test]
    fn multi_file_with_tiers_and_extras() {
        let info = match multi_info(&[(&["a", "x.txt"], 10), (&["b"], 0), (&["c"], 20)], 16, 2) {
            Value::Dict(mut d) => {
                d.insert(b"private".to_vec(), int(1));
                Value::Dict(d)
            }
            _ => unreachable!(),
        };
        let bytes = bencode::encode(&Value::dict([
            ("announce", s("http://ignored/")),
            (
                "announce-list",
                Value::List(vec![
                    Value::List(vec![s("http://a/"), s("udp://b:1")]),
                    Value::List(vec![]),
                    Value::List(vec![s("http://c/")]),
                ]),
            ),
            ("comment", s("hello")),
            ("created by", s("test")),
            ("creation date", int(1_700_000_000)),
            ("info", info),
        ]));
        let m = Metainfo::from_bytes(&bytes).unwrap();
        let paths: Vec<_> = m
            .files
            .iter()
            .map(|f| (f.path.to_str().unwrap(), f.length, f.offset))
            .collect();
        assert_eq!(
            paths,
            vec![("dir/a/x.txt", 10, 0), ("dir/b", 0, 10), ("dir/c", 20, 10)]
        );
        assert_eq!(m.total_length, 30);
        assert!(m.is_multi_file() && m.private);
        assert_eq!(
            m.trackers,
            vec![vec!["http://a/", "udp://b:1"], vec!["http://c/"]]
        );
        assert_eq!(m.comment.as_deref(), Some("hello"));
        assert_eq!(m.created_by.as_deref(), Some("test"));
        assert_eq!(m.creation_date, Some(1_700_000_000));

        let again = Metainfo::from_bytes(&m.to_torrent_bytes()).unwrap();
        assert_eq!(again, m);
        let bare = Metainfo::from_info_bytes(&m.info_bytes, m.trackers.clone()).unwrap();
        assert_eq!(bare.info_hash, m.info_hash);
        assert_eq!(bare.files, m.files);
        assert_eq!(
            m.magnet_link(),
            format!(
                "magnet:?xt=urn:btih:{}&dn=dir&tr=http%3A%2F%2Fa%2F&tr=udp%3A%2F%2Fb%3A1&tr=http%3A%2F%2Fc%2F",
                m.info_hash.to_hex()
            )
        );
    }

    #[test]
    fn hash_covers_raw_unsorted_info() {
        // keys out of order: a re-encode would sort them and change the hash
        let mut info = b"d4:name1:x6:lengthi5e12:piece lengthi16e6:pieces20:".to_vec();
        info.extend_from_slice(&[7u8; 20]);
        info.push(b'e');
        let mut t = b"d4:info".to_vec();
        t.extend_from_slice(&info);
        t.push(b'e');
        let m = Metainfo::from_bytes(&t).unwrap();
        assert_eq!(m.info_hash, InfoHash(sha1_piece(&info)));
        assert!(m.trackers.is_empty());
        assert_eq!(
            Metainfo::from_bytes(&m.to_torrent_bytes())
                .unwrap()
                .info_hash,
            m.info_hash
        );
    }

    fn invalid_msg(bytes: &[u8]) -> String {
        match Metainfo::from_bytes(bytes) {
            Err(e) => e.to_string(),
            Ok(m) => panic!("accepted {m:?}"),
        }
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(invalid_msg(&torrent(single_info(40_000, 0, 3))).contains("piece length"));
        assert!(invalid_msg(&torrent(single_info(40_000, -1, 3))).contains("piece length"));
        assert!(
            invalid_msg(&torrent(single_info(1 << 30, (64 << 20) + 1, 16)))
                .contains("piece length")
        );
        assert!(invalid_msg(&torrent(single_info(40_000, 16384, 2))).contains("need 3"));
        assert!(invalid_msg(&torrent(single_info(40_000, 16384, 4))).contains("need 3"));
        assert!(invalid_msg(&torrent(single_info(0, 16384, 1))).contains("total length is 0"));
        assert!(invalid_msg(&torrent(single_info(-5, 16384, 1))).contains("negative"));
        let mut odd = single_info(10, 16, 1);
        if let Value::Dict(d) = &mut odd {
            d.insert(b"pieces".to_vec(), Value::Bytes(vec![0; 19]));
        }
        assert!(invalid_msg(&torrent(odd)).contains("multiple of 20"));
        let mut both = single_info(10, 16, 1);
        if let Value::Dict(d) = &mut both {
            d.insert(b"files".to_vec(), Value::List(vec![]));
        }
        assert!(invalid_msg(&torrent(both)).contains("both"));
        assert!(invalid_msg(&torrent(multi_info(&[], 16, 1))).contains("files is empty"));
        assert!(
            invalid_msg(&torrent(multi_info(&[(&["a"], 0), (&["b"], 0)], 16, 1)))
                .contains("total length is 0")
        );
    }

    #[test]
    fn malformed_input_never_panics() {
        let good = torrent(multi_info(&[(&["a"], 10), (&["b", "c"], 30)], 16, 3));
        assert!(Metainfo::from_bytes(&good).is_ok());
        for cut in 0..good.len() {
            assert!(
                Metainfo::from_bytes(&good[..cut]).is_err(),
                "prefix {cut} accepted"
            );
        }
        let mut deep = vec![b'l'; 100_000];
        deep.extend(vec![b'e'; 100_000]);
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"le".to_vec(),
            b"i42e".to_vec(),
            b"de".to_vec(),
            b"d4:infoi1ee".to_vec(),
            b"d4:infold4:name1:aeee".to_vec(),
            b"d4:info999999999:abce".to_vec(),
            b"d4:infod4:name1:aee".to_vec(),
            b"d4:infod6:lengthi1e4:name1:a12:piece lengthi1e6:pieces20:".to_vec(),
            deep,
        ];
        for c in cases {
            assert!(
                Metainfo::from_bytes(&c).is_err(),
                "{:?} accepted",
                String::from_utf8_lossy(&c)
            );
        }
        let mut too_many = b"d4:infol".to_vec();
        too_many.extend(b"le".repeat(MAX_VALUES + 1));
        too_many.extend(b"ee");
        assert!(invalid_msg(&too_many).contains("bencode values"));
        let huge = vec![b'x'; Metainfo::MAX_TORRENT_SIZE + 1];
        assert!(matches!(
            Metainfo::from_bytes(&huge),
            Err(MetainfoError::TooLarge)
        ));
        assert!(Metainfo::from_info_bytes(b"le", vec![]).is_err());
    }

    #[test]
    fn rejects_path_attacks() {
        let cases: &[(&[&str], &str)] = &[
            (&["..", "etc", "passwd"], "dir/.."),
            (&["a", ".", "b"], "dir/a/."),
            (&["a", ""], "dir/a/"),
            (&["a/b"], "dir/a/b"),
            (&["/etc"], "dir//etc"),
            (&["a\\..\\b"], "dir/a\\..\\b"),
            (&["a\0b"], "dir/a\0b"),
            (&[], "dir"),
        ];
        for (path, shown) in cases {
            let t = torrent(multi_info(&[(&["ok"], 10), (path, 10)], 16, 2));
            match Metainfo::from_bytes(&t) {
                Err(MetainfoError::BadPath(p)) => assert_eq!(&p, shown),
                other => panic!("{path:?}: {other:?}"),
            }
        }
        for name in ["..", ".", "", "a/b", "/abs", "x\\y"] {
            let mut info = single_info(10, 16, 1);
            if let Value::Dict(d) = &mut info {
                d.insert(b"name".to_vec(), s(name));
            }
            assert!(
                matches!(
                    Metainfo::from_bytes(&torrent(info)),
                    Err(MetainfoError::BadPath(_))
                ),
                "name {name:?} accepted"
            );
        }
        let dup = torrent(multi_info(&[(&["a"], 10), (&["a"], 10)], 16, 2));
        assert!(invalid_msg(&dup).contains("duplicate"));
        let clash = torrent(multi_info(&[(&["a"], 10), (&["a", "b"], 10)], 16, 2));
        assert!(invalid_msg(&clash).contains("both a file and a directory"));
    }
}
