//! Creating `.torrent` files from a file or a directory.
//!
//! Pieces are hashed in parallel: workers take piece indices from a shared counter and read
//! each piece with positioned reads into their own buffer, so memory stays at one piece per
//! thread whatever the content size.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::metainfo::valid_component;
use crate::storage::{sha1_piece, Storage, StorageError};

/// What to put in the torrent besides the content.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    /// Announce tiers (BEP 12); the first URL also becomes `announce`. Empty = trackerless.
    pub trackers: Vec<Vec<String>>,
    /// Power of two in 16 KiB..=64 MiB; `None` picks one giving about 1000-2000 pieces.
    pub piece_length: Option<u32>,
    pub private: bool,
    pub comment: Option<String>,
    /// Defaults to `TorrentEdge <version>`.
    pub created_by: Option<String>,
    /// Defaults to the file or directory name.
    pub name: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("{path:?}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("nothing to share: no files or only empty ones")]
    Empty,
    #[error("{0:?}: names must be valid UTF-8 without '/', '\\' or NUL, and not '.' or '..'")]
    BadName(PathBuf),
    #[error("piece length {0} is not a power of two between 16 KiB and 64 MiB")]
    BadPieceLength(u32),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

const MIN_AUTO_PIECE: u64 = 16 << 10;
const MAX_AUTO_PIECE: u64 = 16 << 20;
const MAX_PIECE: u32 = 64 << 20;

/// Piece length for `total` bytes: a power of two giving 1000-2000 pieces, within 16 KiB..16 MiB.
pub fn auto_piece_length(total: u64) -> u32 {
    (total / 2000)
        .next_power_of_two()
        .clamp(MIN_AUTO_PIECE, MAX_AUTO_PIECE) as u32
}

/// Builds a `.torrent` for `path` (a file, or a directory taken recursively: files sorted by
/// path, hidden files included, symlinks skipped). `progress` gets the bytes hashed so far.
pub fn create_torrent(
    path: &Path,
    opts: &CreateOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<u8>, CreateError> {
    let meta = std::fs::symlink_metadata(path).map_err(io_err(path))?;
    let default_name = path.file_name().map(PathBuf::from).unwrap_or_default();
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => utf8_name(&default_name)?,
    };
    if !valid_component(&name) {
        return Err(CreateError::BadName(name.into()));
    }
    // (root for reading, path relative to root, path inside the torrent, length)
    let (root, files): (PathBuf, Vec<(PathBuf, Vec<String>, u64)>) = if meta.is_dir() {
        (path.to_path_buf(), walk(path)?)
    } else if meta.is_file() {
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (root, vec![(default_name, Vec::new(), meta.len())])
    } else {
        return Err(CreateError::Empty);
    };
    let total: u64 = files.iter().map(|f| f.2).sum();
    if total == 0 {
        return Err(CreateError::Empty);
    }
    let piece_length = match opts.piece_length {
        None => auto_piece_length(total),
        Some(pl) if pl.is_power_of_two() && (16 << 10..=MAX_PIECE).contains(&pl) => pl,
        Some(pl) => return Err(CreateError::BadPieceLength(pl)),
    };

    let list: Vec<(PathBuf, u64)> = files
        .iter()
        .map(|(rel, _, len)| (rel.clone(), *len))
        .collect();
    let storage = Storage::new(&root, &list, piece_length)?;
    let hashes = hash_all(&storage, progress)?;

    let mut info = Vec::with_capacity(hashes.len() * 20 + files.len() * 64 + 256);
    info.push(b'd');
    if meta.is_dir() {
        put_str(&mut info, "files");
        info.push(b'l');
        for (_, components, len) in &files {
            info.push(b'd');
            put_str(&mut info, "length");
            put_int(&mut info, *len as i64);
            put_str(&mut info, "path");
            info.push(b'l');
            for c in components {
                put_str(&mut info, c);
            }
            info.extend_from_slice(b"ee");
        }
        info.push(b'e');
    } else {
        put_str(&mut info, "length");
        put_int(&mut info, total as i64);
    }
    put_str(&mut info, "name");
    put_str(&mut info, &name);
    put_str(&mut info, "piece length");
    put_int(&mut info, i64::from(piece_length));
    put_str(&mut info, "pieces");
    put_bytes(&mut info, hashes.as_flattened());
    if opts.private {
        put_str(&mut info, "private");
        put_int(&mut info, 1);
    }
    info.push(b'e');

    let created_by = opts
        .created_by
        .clone()
        .unwrap_or_else(|| format!("TorrentEdge {}", env!("CARGO_PKG_VERSION")));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Ok(torrent_file(
        &opts.trackers,
        opts.comment.as_deref(),
        Some(&created_by),
        Some(now),
        &info,
    ))
}

/// Assembles a torrent file around raw `info` bytes (keys in bencode order).
pub(crate) fn torrent_file(
    trackers: &[Vec<String>],
    comment: Option<&str>,
    created_by: Option<&str>,
    creation_date: Option<i64>,
    info: &[u8],
) -> Vec<u8> {
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
    out.push(b'e');
    out
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_bytes(out, s.as_bytes());
}

fn put_int(out: &mut Vec<u8>, i: i64) {
    out.push(b'i');
    out.extend_from_slice(i.to_string().as_bytes());
    out.push(b'e');
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CreateError + '_ {
    move |source| CreateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn utf8_name(p: &Path) -> Result<String, CreateError> {
    match p.to_str() {
        Some(s) if valid_component(s) => Ok(s.to_owned()),
        _ => Err(CreateError::BadName(p.to_path_buf())),
    }
}

/// Regular files under `dir`, sorted by relative path; symlinks and special files skipped.
fn walk(dir: &Path) -> Result<Vec<(PathBuf, Vec<String>, u64)>, CreateError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        for entry in std::fs::read_dir(&abs).map_err(io_err(&abs))? {
            let entry = entry.map_err(io_err(&abs))?;
            let child = rel.join(entry.file_name());
            // `DirEntry::file_type` does not follow symlinks.
            let ft = entry.file_type().map_err(io_err(&child))?;
            if ft.is_dir() {
                stack.push(child);
            } else if ft.is_file() {
                let len = entry.metadata().map_err(io_err(&child))?.len();
                let components = child
                    .iter()
                    .map(|c| utf8_name(Path::new(c)))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push((child, components, len));
            } else {
                tracing::debug!(path = ?child, "skipping symlink or special file");
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// SHA-1 of every piece, on `available_parallelism` threads.
fn hash_all(
    storage: &Storage,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<[u8; 20]>, CreateError> {
    let n = storage.layout().num_pieces();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n as usize)
        .max(1);
    let next = AtomicU32::new(0);
    let hashed = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let first_err = Mutex::new(None);
    let parts: Vec<Vec<(u32, [u8; 20])>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    let mut buf = Vec::with_capacity(storage.layout().piece_length() as usize);
                    while !stop.load(Ordering::Relaxed) {
                        let piece = next.fetch_add(1, Ordering::Relaxed);
                        if piece >= n {
                            break;
                        }
                        if let Err(e) = storage.read_piece(piece, &mut buf) {
                            stop.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_err.lock() {
                                slot.get_or_insert(e);
                            }
                            break;
                        }
                        done.push((piece, sha1_piece(&buf)));
                        progress(
                            hashed.fetch_add(buf.len() as u64, Ordering::Relaxed)
                                + buf.len() as u64,
                        );
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    if let Some(e) = first_err.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let mut hashes = vec![[0u8; 20]; n as usize];
    let mut count = 0;
    for (piece, h) in parts.into_iter().flatten() {
        hashes[piece as usize] = h;
        count += 1;
    }
    if count != n {
        // Only possible if a worker panicked (inside `progress`).
        return Err(CreateError::Io {
            path: storage.root().to_path_buf(),
            source: io::Error::other("hashing worker failed"),
        });
    }
    Ok(hashes)
}
