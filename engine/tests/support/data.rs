//! Deterministic test data, torrent layouts and byte-for-byte tree comparison.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// SplitMix64: a tiny, stable generator so the same seed gives the same bytes
/// on every machine and every version of every crate.
pub struct DetRng(u64);

impl DetRng {
    pub fn new(seed: u64) -> Self {
        DetRng(seed ^ 0x5DEE_CE66_D1CE_B00C)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        let n = rest.len();
        rest.copy_from_slice(&last[..n]);
    }
}

/// `len` deterministic pseudo-random bytes for `seed`.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut v = vec![0u8; len];
    DetRng::new(seed).fill(&mut v);
    v
}

/// Writes `len` deterministic bytes to `path` (parents created).
pub fn write_random_file(path: &Path, len: u64, seed: u64) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).expect("create parent dirs");
    }
    let mut rng = DetRng::new(seed);
    let mut f = fs::File::create(path).expect("create data file");
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n]).expect("write data file");
        left -= n as u64;
    }
    f.sync_all().ok();
}

/// What a torrent contains: one file, or a directory of files.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The torrent's name: the file name (single) or the top directory (multi).
    pub name: String,
    /// Relative paths inside `name` (multi) and lengths. A single-file layout
    /// has exactly one entry with an empty path.
    pub files: Vec<(PathBuf, u64)>,
    pub multi: bool,
    pub piece_size: u32,
}

pub const KIB: u64 = 1024;
pub const MIB: u64 = 1024 * 1024;

impl Layout {
    /// One file of `len` bytes.
    pub fn single(name: &str, len: u64, piece_size: u32) -> Self {
        Layout {
            name: name.into(),
            files: vec![(PathBuf::new(), len)],
            multi: false,
            piece_size,
        }
    }

    /// A directory `name` holding `files` (relative paths, lengths).
    pub fn multi(name: &str, files: &[(&str, u64)], piece_size: u32) -> Self {
        Layout {
            name: name.into(),
            files: files.iter().map(|(p, l)| (PathBuf::from(p), *l)).collect(),
            multi: true,
            piece_size,
        }
    }

    /// A single file whose last piece is short (not a multiple of the piece
    /// size): 6 MiB + 12 345 bytes in 256 KiB pieces.
    pub fn single_odd() -> Self {
        Layout::single("single.bin", 6 * MIB + 12_345, 256 * 1024)
    }

    /// The multi-file layout every test uses: files smaller than a piece, a
    /// file spanning several pieces, files meeting inside a piece, nested
    /// directories, an empty-ish tiny file and an odd last piece.
    pub fn multi_mixed() -> Self {
        Layout::multi(
            "multi",
            &[
                ("a.txt", 1_000),                  // far smaller than a piece
                ("big/spanning.bin", 3 * MIB + 7), // spans many pieces
                ("big/small-1.bin", 100_000),      // two small files inside one piece
                ("big/small-2.bin", 60_000),
                ("deep/er/x.dat", 777_777), // nested dirs, unaligned
                ("z-last.bin", 123_457),    // odd last piece
            ],
            256 * 1024,
        )
    }

    pub fn total_len(&self) -> u64 {
        self.files.iter().map(|(_, l)| l).sum()
    }

    pub fn num_pieces(&self) -> u32 {
        self.total_len().div_ceil(self.piece_size as u64) as u32
    }

    /// Path of the torrent's content under `dir`: the file (single) or the
    /// top directory (multi).
    pub fn root_in(&self, dir: &Path) -> PathBuf {
        dir.join(&self.name)
    }

    /// Writes the layout's files under `dir` with data derived from `seed`.
    pub fn write(&self, dir: &Path, seed: u64) {
        for (i, (rel, len)) in self.files.iter().enumerate() {
            let path = if self.multi {
                dir.join(&self.name).join(rel)
            } else {
                dir.join(&self.name)
            };
            write_random_file(
                &path,
                *len,
                seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
            );
        }
    }
}

/// Compares two files byte for byte; `Err` says where they first differ.
pub fn compare_files(a: &Path, b: &Path) -> Result<(), String> {
    let open = |p: &Path| fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let (mut fa, mut fb) = (open(a)?, open(b)?);
    let (la, lb) = (
        fa.metadata().map_err(|e| e.to_string())?.len(),
        fb.metadata().map_err(|e| e.to_string())?.len(),
    );
    if la != lb {
        return Err(format!(
            "{} is {la} bytes but {} is {lb} bytes",
            a.display(),
            b.display()
        ));
    }
    let mut ba = vec![0u8; 1 << 20];
    let mut bb = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        let n = read_full(&mut fa, &mut ba).map_err(|e| format!("{}: {e}", a.display()))?;
        let m = read_full(&mut fb, &mut bb).map_err(|e| format!("{}: {e}", b.display()))?;
        if n != m {
            return Err(format!(
                "{} and {} changed size while reading",
                a.display(),
                b.display()
            ));
        }
        if n == 0 {
            return Ok(());
        }
        if ba[..n] != bb[..n] {
            let i = ba[..n]
                .iter()
                .zip(&bb[..n])
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            return Err(format!(
                "{} and {} differ at byte {} ({:#04x} vs {:#04x})",
                a.display(),
                b.display(),
                off + i as u64,
                ba[i],
                bb[i]
            ));
        }
        off += n as u64;
    }
}

fn read_full(f: &mut fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Every regular file under `root`, as sorted relative paths.
pub fn list_tree(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                walk(root, &p, out);
            } else if ft.is_file() {
                out.push(p.strip_prefix(root).unwrap_or(&p).to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    if root.is_file() {
        return vec![PathBuf::new()];
    }
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Compares two files or two directory trees byte for byte: same file set,
/// same contents. `Err` explains the first difference.
pub fn compare_trees(expected: &Path, actual: &Path) -> Result<(), String> {
    if expected.is_file() {
        return compare_files(expected, actual);
    }
    if !actual.is_dir() {
        return Err(format!("{} is not a directory", actual.display()));
    }
    let (le, la) = (list_tree(expected), list_tree(actual));
    if le != la {
        return Err(format!(
            "file sets differ:\n  expected ({}): {le:?}\n  actual   ({}): {la:?}",
            expected.display(),
            actual.display()
        ));
    }
    for rel in &le {
        compare_files(&expected.join(rel), &actual.join(rel))?;
    }
    Ok(())
}

/// Panics with the first difference unless the two trees are identical.
#[track_caller]
pub fn assert_same_tree(expected: &Path, actual: &Path) {
    if let Err(e) = compare_trees(expected, actual) {
        panic!("downloaded data differs from the original: {e}");
    }
}

/// SHA-1 of a file, lower-case hex.
pub fn sha1_file(path: &Path) -> String {
    use sha1::{Digest, Sha1};
    let mut f = fs::File::open(path).expect("open file to hash");
    let mut h = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).expect("read file to hash");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    engine::types::hex_encode(&h.finalize())
}

/// Flips one byte of `path` at `offset` (to damage data on purpose).
pub fn flip_byte(path: &Path, offset: u64) {
    use std::io::{Seek, SeekFrom};
    let mut f = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open to flip");
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.read_exact(&mut b).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(&[b[0] ^ 0xff]).unwrap();
}

// ---------------------------------------------------------------------------
// Minimal bencode (test side): read a .torrent's info-hash and rewrite trackers
// without relying on the engine's own parser.

#[derive(Clone, Debug, PartialEq)]
pub enum Bval {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Bval>),
    Dict(Vec<(Vec<u8>, Bval)>),
}

impl Bval {
    pub fn decode(buf: &[u8]) -> Option<(Bval, usize)> {
        match *buf.first()? {
            b'i' => {
                let end = buf.iter().position(|&c| c == b'e')?;
                let n = std::str::from_utf8(&buf[1..end]).ok()?.parse().ok()?;
                Some((Bval::Int(n), end + 1))
            }
            b'l' => {
                let mut pos = 1;
                let mut v = Vec::new();
                while *buf.get(pos)? != b'e' {
                    let (x, n) = Bval::decode(&buf[pos..])?;
                    v.push(x);
                    pos += n;
                }
                Some((Bval::List(v), pos + 1))
            }
            b'd' => {
                let mut pos = 1;
                let mut v = Vec::new();
                while *buf.get(pos)? != b'e' {
                    let (k, n) = Bval::decode(&buf[pos..])?;
                    let Bval::Bytes(k) = k else { return None };
                    pos += n;
                    let (x, n) = Bval::decode(&buf[pos..])?;
                    pos += n;
                    v.push((k, x));
                }
                Some((Bval::Dict(v), pos + 1))
            }
            b'0'..=b'9' => {
                let colon = buf.iter().position(|&c| c == b':')?;
                let len: usize = std::str::from_utf8(&buf[..colon]).ok()?.parse().ok()?;
                let start = colon + 1;
                let bytes = buf.get(start..start.checked_add(len)?)?.to_vec();
                Some((Bval::Bytes(bytes), start + len))
            }
            _ => None,
        }
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Bval::Int(n) => out.extend_from_slice(format!("i{n}e").as_bytes()),
            Bval::Bytes(b) => {
                out.extend_from_slice(format!("{}:", b.len()).as_bytes());
                out.extend_from_slice(b);
            }
            Bval::List(v) => {
                out.push(b'l');
                v.iter().for_each(|x| x.encode(out));
                out.push(b'e');
            }
            Bval::Dict(v) => {
                out.push(b'd');
                let mut sorted: Vec<_> = v.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, x) in sorted {
                    Bval::Bytes(k.clone()).encode(out);
                    x.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    pub fn get(&self, key: &str) -> Option<&Bval> {
        match self {
            Bval::Dict(v) => v.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, x)| x),
            _ => None,
        }
    }
}

/// The v1 info-hash (hex) of a .torrent file, computed from its raw `info`
/// bytes, independently of the engine.
pub fn torrent_info_hash_hex(torrent: &Path) -> String {
    use sha1::{Digest, Sha1};
    let buf = fs::read(torrent).expect("read torrent");
    let span = info_span(&buf).expect("torrent has an info dictionary");
    engine::types::hex_encode(&Sha1::digest(&buf[span.0..span.1]))
}

fn info_span(buf: &[u8]) -> Option<(usize, usize)> {
    if *buf.first()? != b'd' {
        return None;
    }
    let mut pos = 1;
    while *buf.get(pos)? != b'e' {
        let (k, n) = Bval::decode(&buf[pos..])?;
        pos += n;
        let (_, m) = Bval::decode(&buf[pos..])?;
        if k == Bval::Bytes(b"info".to_vec()) {
            return Some((pos, pos + m));
        }
        pos += m;
    }
    None
}

/// Rewrites a .torrent's trackers: `tiers[0][0]` becomes `announce` and the
/// whole list `announce-list` (both are removed when `tiers` is empty). Every
/// other key, `info` included, is copied byte for byte, so the info-hash stays.
pub fn set_trackers(torrent: &Path, tiers: &[Vec<String>]) {
    let buf = fs::read(torrent).expect("read torrent");
    assert_eq!(buf.first(), Some(&b'd'), "torrent is not a dictionary");
    // (key, raw encoded key+value)
    let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut pos = 1;
    while buf[pos] != b'e' {
        let (k, n) = Bval::decode(&buf[pos..]).expect("decode torrent key");
        let (_, m) = Bval::decode(&buf[pos + n..]).expect("decode torrent value");
        let Bval::Bytes(k) = k else {
            panic!("torrent key is not a string")
        };
        if k != b"announce" && k != b"announce-list" {
            entries.push((k, buf[pos..pos + n + m].to_vec()));
        }
        pos += n + m;
    }
    if let Some(first) = tiers.first().and_then(|t| t.first()) {
        let mut raw = Vec::new();
        Bval::Bytes(b"announce".to_vec()).encode(&mut raw);
        Bval::Bytes(first.as_bytes().to_vec()).encode(&mut raw);
        entries.push((b"announce".to_vec(), raw));
        let list = Bval::List(
            tiers
                .iter()
                .map(|t| {
                    Bval::List(
                        t.iter()
                            .map(|u| Bval::Bytes(u.as_bytes().to_vec()))
                            .collect(),
                    )
                })
                .collect(),
        );
        let mut raw = Vec::new();
        Bval::Bytes(b"announce-list".to_vec()).encode(&mut raw);
        list.encode(&mut raw);
        entries.push((b"announce-list".to_vec(), raw));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![b'd'];
    for (_, raw) in entries {
        out.extend_from_slice(&raw);
    }
    out.push(b'e');
    let before = torrent_info_hash_hex(torrent);
    fs::write(torrent, out).expect("write torrent");
    assert_eq!(
        torrent_info_hash_hex(torrent),
        before,
        "rewriting trackers changed the info-hash"
    );
}
