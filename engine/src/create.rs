//! Creating `.torrent` files from a file or a directory.
//!
//! Pieces are hashed in parallel: workers take piece indices from a shared counter and read
//! each piece in small chunks into their own buffer, so memory stays at one chunk per thread
//! whatever the piece or content size.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::metainfo::{put_bytes, put_int, put_str, torrent_file, valid_component, TopLevel};
use crate::storage::verify::{hash_stored_piece, par_pieces, HASH_CHUNK};
use crate::storage::{Storage, StorageError};

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
    /// BEP 19 web seeds (`url-list`).
    pub web_seeds: Vec<String>,
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
    // The path the user named is followed if it is a symlink; links inside a directory are not.
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    // `.` or `dir/..` have no file name of their own: use the resolved directory's.
    let default_name = match path.file_name() {
        Some(n) => PathBuf::from(n),
        None => std::fs::canonicalize(path)
            .map_err(io_err(path))?
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_default(),
    };
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
        &TopLevel {
            trackers: &opts.trackers,
            web_seeds: &opts.web_seeds,
            comment: opts.comment.as_deref(),
            created_by: Some(&created_by),
            creation_date: Some(now),
        },
        &info,
    ))
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
    let hashed = AtomicU64::new(0);
    let parts = par_pieces(n, threads, HASH_CHUNK, |piece, buf| {
        let hash = hash_stored_piece(storage, piece, buf)?;
        let len = u64::from(storage.layout().piece_len(piece));
        progress(hashed.fetch_add(len, Ordering::Relaxed) + len);
        Ok::<_, StorageError>(Some(hash))
    })?;
    let mut hashes = vec![[0u8; 20]; n as usize];
    let mut count = 0;
    for (piece, h) in parts {
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

#[cfg(test)]
mod tests {
    use std::fs;
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::metainfo::Metainfo;
    use crate::storage::sha1_piece;

    fn content(n: usize, seed: u32) -> Vec<u8> {
        (0..n as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13 ^ seed) as u8)
            .collect()
    }

    fn expected_hashes(data: &[u8], pl: usize) -> Vec<[u8; 20]> {
        data.chunks(pl).map(sha1_piece).collect()
    }

    #[test]
    fn single_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let data = content(100_000, 1);
        let path = dir.path().join("movie.mkv");
        fs::write(&path, &data).unwrap();
        let opts = CreateOptions {
            trackers: vec![vec!["http://t/a".into()], vec!["udp://u:1".into()]],
            piece_length: Some(16 << 10),
            comment: Some("c".into()),
            web_seeds: vec!["http://ws.example/files/".into()],
            ..Default::default()
        };
        let seen = AtomicU64::new(0);
        let bytes = create_torrent(&path, &opts, &|n| {
            seen.fetch_max(n, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), 100_000);
        let m = Metainfo::from_bytes(&bytes).unwrap();
        assert_eq!(m.name, "movie.mkv");
        assert!(!m.is_multi_file());
        assert_eq!(m.total_length, 100_000);
        assert_eq!(m.piece_hashes, expected_hashes(&data, 16 << 10));
        assert_eq!(m.trackers, opts.trackers);
        assert_eq!(m.comment.as_deref(), Some("c"));
        assert_eq!(m.web_seeds, opts.web_seeds);
        assert_eq!(
            Metainfo::from_bytes(&m.to_torrent_bytes())
                .unwrap()
                .web_seeds,
            opts.web_seeds
        );
        assert!(m.created_by.as_deref().unwrap().starts_with("TorrentEdge "));
        assert!(m.creation_date.is_some());
    }

    #[test]
    fn directory_round_trip_with_empty_and_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("album");
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        let a = content(20_000, 2);
        let b = content(33_333, 3);
        let h = content(5, 4);
        fs::write(root.join("sub/deeper/b.flac"), &b).unwrap();
        fs::write(root.join("a.flac"), &a).unwrap();
        fs::write(root.join("empty.txt"), b"").unwrap();
        fs::write(root.join(".hidden"), &h).unwrap();
        std::os::unix::fs::symlink(root.join("a.flac"), root.join("link")).unwrap();
        std::os::unix::fs::symlink(dir.path(), root.join("loop")).unwrap();

        let opts = CreateOptions {
            private: true,
            piece_length: Some(16 << 10),
            ..Default::default()
        };
        let m = Metainfo::from_bytes(&create_torrent(&root, &opts, &|_| {}).unwrap()).unwrap();
        let files: Vec<_> = m
            .files
            .iter()
            .map(|f| (f.path.to_str().unwrap(), f.length))
            .collect();
        assert_eq!(
            files,
            vec![
                ("album/.hidden", 5),
                ("album/a.flac", 20_000),
                ("album/empty.txt", 0),
                ("album/sub/deeper/b.flac", 33_333),
            ]
        );
        assert!(m.private && m.is_multi_file() && m.trackers.is_empty());
        let all: Vec<u8> = [h, a, b].concat();
        assert_eq!(m.piece_hashes, expected_hashes(&all, 16 << 10));

        // "album/sub/.." names the album directory itself
        let via_dotdot = root.join("sub").join("..");
        let again = create_torrent(&via_dotdot, &opts, &|_| {}).unwrap();
        assert_eq!(Metainfo::from_bytes(&again).unwrap().name, "album");
        // a symlink given as the top-level path is followed
        let link = dir.path().join("album-link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        let linked = Metainfo::from_bytes(&create_torrent(&link, &opts, &|_| {}).unwrap()).unwrap();
        assert_eq!(
            (linked.name.as_str(), linked.piece_hashes.len()),
            ("album-link", m.piece_hashes.len())
        );
    }

    #[test]
    fn options_and_errors() {
        assert_eq!(auto_piece_length(1), 16 << 10);
        assert_eq!(auto_piece_length(4 << 30), 4 << 20);
        assert_eq!(auto_piece_length(1 << 50), 16 << 20);
        let n = (700u64 << 20).div_ceil(u64::from(auto_piece_length(700 << 20)));
        assert!((1000..=2000).contains(&n), "{n} pieces");

        let dir = tempfile::tempdir().unwrap();
        let empty_dir = dir.path().join("nothing");
        fs::create_dir(&empty_dir).unwrap();
        fs::write(empty_dir.join("zero"), b"").unwrap();
        let none = |_| {};
        assert!(matches!(
            create_torrent(&empty_dir, &CreateOptions::default(), &none),
            Err(CreateError::Empty)
        ));
        let f = dir.path().join("f");
        fs::write(&f, b"data").unwrap();
        for pl in [0, 1000, 8192, 128 << 20] {
            let opts = CreateOptions {
                piece_length: Some(pl),
                ..Default::default()
            };
            assert!(matches!(
                create_torrent(&f, &opts, &none),
                Err(CreateError::BadPieceLength(_))
            ));
        }
        let opts = CreateOptions {
            name: Some("../x".into()),
            ..Default::default()
        };
        assert!(matches!(
            create_torrent(&f, &opts, &none),
            Err(CreateError::BadName(_))
        ));
        assert!(matches!(
            create_torrent(
                &dir.path().join("missing"),
                &CreateOptions::default(),
                &none
            ),
            Err(CreateError::Io { .. })
        ));
    }
}
