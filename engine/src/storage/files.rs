//! Positioned reads and writes of pieces into the torrent's files.
//!
//! Files are opened lazily and cached per file behind their own `RwLock`, so worker threads
//! doing `pwrite`/`pread` on different (or the same) files never queue behind one mutex: the
//! lock is only held to fetch or install the handle, never during I/O.
//!
//! Every open, size query and delete stays inside the root ([`super::beneath`]): a symlink in
//! the save folder never leads a write, read or delete elsewhere.
//!
//! Writes send their page-aligned middle through a second, `O_DIRECT` handle when the filesystem
//! allows it ([`super::direct`] says why); everything else goes through the page cache.

use std::collections::BTreeSet;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use super::beneath::{self, Access};
use super::{direct, Layout, StorageError};

/// A torrent's files under one root directory.
pub struct Storage {
    root: PathBuf,
    layout: Layout,
    files: Vec<FileSlot>,
    /// Where bytes of skipped files live (`super::parts`).
    pub(super) parts: super::parts::Parts,
}

pub(super) struct FileSlot {
    /// Path relative to the root, as the torrent names it.
    rel: PathBuf,
    /// `root.join(rel)`.
    path: PathBuf,
    handle: RwLock<Handle>,
    direct: RwLock<Direct>,
    /// The user skipped this file: it is not created (zero-length files included).
    pub(super) skipped: AtomicBool,
    /// Its bytes go to the parts file instead (skipped while it did not exist).
    pub(super) parted: AtomicBool,
}

/// The file's `O_DIRECT` write handle, opened on first use.
#[derive(Clone, Default)]
enum Direct {
    #[default]
    Untried,
    Open(Arc<File>),
    /// The filesystem refused: write this file buffered from now on.
    Off,
}

#[derive(Clone, Default)]
enum Handle {
    #[default]
    Closed,
    ReadOnly(Arc<File>),
    ReadWrite(Arc<File>),
}

pub(super) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StorageError + '_ {
    move |source| StorageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// True when `p` is non-empty and made only of plain names: no `..`, `.`, root, empty
/// component or NUL. Checks the raw text because `Path::components` silently drops `.` and
/// doubled separators.
fn is_plain_relative(p: &Path) -> bool {
    let text = p.as_os_str().as_encoded_bytes();
    !text.is_empty()
        && text
            .split(|&b| b == b'/')
            .all(|c| !matches!(c, b"" | b"." | b"..") && !c.contains(&0))
        && p.components().all(|c| matches!(c, Component::Normal(_)))
}

impl Storage {
    /// Maps `files` (paths relative to `root`, lengths in torrent order) onto disk.
    ///
    /// Re-validates every path even though metainfo already did: a path that could escape
    /// `root` is refused here whatever its origin. Nothing is opened or created yet.
    pub fn new(
        root: &Path,
        files: &[(PathBuf, u64)],
        piece_length: u32,
    ) -> Result<Storage, StorageError> {
        let lengths: Vec<u64> = files.iter().map(|(_, len)| *len).collect();
        let layout = Layout::new(piece_length, &lengths)?;
        let files = files
            .iter()
            .map(|(rel, _)| {
                if !is_plain_relative(rel) {
                    return Err(StorageError::BadPath(rel.clone()));
                }
                Ok(FileSlot {
                    rel: rel.clone(),
                    path: root.join(rel),
                    handle: RwLock::new(Handle::Closed),
                    direct: RwLock::new(Direct::Untried),
                    skipped: AtomicBool::new(false),
                    parted: AtomicBool::new(false),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Storage {
            root: root.to_path_buf(),
            layout,
            files,
            parts: Default::default(),
        })
    }

    /// File `i`'s slot (for the parts routing).
    pub(super) fn slot(&self, i: usize) -> &FileSlot {
        &self.files[i]
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// File `i`'s path relative to the root.
    pub(crate) fn rel(&self, i: usize) -> &Path {
        &self.files[i].rel
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Absolute paths of the files, in torrent order.
    pub fn file_paths(&self) -> impl ExactSizeIterator<Item = &Path> + '_ {
        self.files.iter().map(|f| f.path.as_path())
    }

    /// Writes a whole piece; `data` must be exactly the piece's length.
    pub fn write_piece(&self, piece: u32, data: &[u8]) -> Result<(), StorageError> {
        if data.len() != self.layout.piece_len(piece) as usize {
            return Err(StorageError::OutOfRange {
                piece,
                offset: 0,
                len: data.len(),
            });
        }
        self.write_block(piece, 0, data)
    }

    /// Writes `data` at `offset` inside `piece`, creating files and directories as needed.
    pub fn write_block(&self, piece: u32, offset: u32, data: &[u8]) -> Result<(), StorageError> {
        self.check_range(piece, offset, data.len())?;
        let mut done = 0usize;
        for seg in self.layout.segments(piece, offset, data.len() as u32) {
            let chunk = &data[done..done + seg.len as usize];
            if self.files[seg.file_index].parted.load(Ordering::Acquire) {
                self.write_parts(seg, chunk)?;
            } else {
                self.write_chunk(seg.file_index, chunk, seg.file_offset)?;
            }
            done += seg.len as usize;
        }
        Ok(())
    }

    /// Writes `chunk` at `offset` of file `i`: the aligned middle direct if possible, the rest
    /// (or all of it, when direct I/O is refused) through the page cache.
    fn write_chunk(&self, i: usize, chunk: &[u8], offset: u64) -> Result<(), StorageError> {
        let file = self.writable(i)?;
        let path = &self.files[i].path;
        let (head, mid) = direct::split(chunk, offset);
        if mid > 0 {
            if let Some(d) = self.direct_handle(i) {
                match d.write_all_at(&chunk[head..head + mid], offset + head as u64) {
                    Ok(()) => {
                        file.write_all_at(&chunk[..head], offset)
                            .map_err(io_err(path))?;
                        let tail = head + mid;
                        return file
                            .write_all_at(&chunk[tail..], offset + tail as u64)
                            .map_err(io_err(path));
                    }
                    Err(e) if direct::unsupported(&e) => {
                        tracing::debug!(?path, "O_DIRECT write refused, writing buffered: {e}");
                        *self.files[i]
                            .direct
                            .write()
                            .unwrap_or_else(|p| p.into_inner()) = Direct::Off;
                    }
                    Err(e) => return Err(io_err(path)(e)),
                }
            }
        }
        file.write_all_at(chunk, offset).map_err(io_err(path))
    }

    /// The direct-write handle of file `i` (which `writable` has created), if the filesystem
    /// supports one.
    fn direct_handle(&self, i: usize) -> Option<Arc<File>> {
        let slot = &self.files[i];
        match &*slot.direct.read().unwrap_or_else(|p| p.into_inner()) {
            Direct::Open(f) => return Some(f.clone()),
            Direct::Off => return None,
            Direct::Untried => {}
        }
        let mut guard = slot.direct.write().unwrap_or_else(|p| p.into_inner());
        if let Direct::Untried = *guard {
            *guard = match direct::open(&self.root, &slot.rel) {
                Some(f) => Direct::Open(Arc::new(f)),
                None => Direct::Off,
            };
        }
        match &*guard {
            Direct::Open(f) => Some(f.clone()),
            _ => None,
        }
    }

    /// Reads `buf.len()` bytes at `offset` inside `piece` (serving a peer's request).
    ///
    /// A missing file is [`StorageError::Missing`]; a file too short is an I/O error.
    pub fn read_block(&self, piece: u32, offset: u32, buf: &mut [u8]) -> Result<(), StorageError> {
        self.check_range(piece, offset, buf.len())?;
        let mut done = 0usize;
        for seg in self.layout.segments(piece, offset, buf.len() as u32) {
            let chunk = &mut buf[done..done + seg.len as usize];
            if self.files[seg.file_index].parted.load(Ordering::Acquire) {
                self.read_parts(seg, chunk)?;
                done += seg.len as usize;
                continue;
            }
            let file = self.readable(seg.file_index)?;
            file.read_exact_at(chunk, seg.file_offset)
                .map_err(io_err(&self.files[seg.file_index].path))?;
            done += seg.len as usize;
        }
        Ok(())
    }

    /// Reads a whole piece into `buf` (resized to the piece's length, capacity reused).
    pub fn read_piece(&self, piece: u32, buf: &mut Vec<u8>) -> Result<(), StorageError> {
        if piece >= self.layout.num_pieces() {
            return Err(StorageError::OutOfRange {
                piece,
                offset: 0,
                len: 0,
            });
        }
        buf.resize(self.layout.piece_len(piece) as usize, 0);
        self.read_block(piece, 0, buf)
    }

    /// Creates the torrent's zero-length files, which no piece ever writes.
    pub fn create_empty_files(&self) -> Result<(), StorageError> {
        for i in 0..self.files.len() {
            if self.layout.file_length(i) == 0 && !self.files[i].skipped.load(Ordering::Acquire) {
                self.writable(i)?;
            }
        }
        Ok(())
    }

    /// Flushes written data to disk.
    pub fn sync_all(&self) -> Result<(), StorageError> {
        for slot in &self.files {
            let handle = slot.handle.read().map(|h| h.clone()).unwrap_or_default();
            if let Handle::ReadWrite(f) = handle {
                f.sync_all().map_err(io_err(&slot.path))?;
            }
        }
        self.sync_parts()
    }

    /// Current on-disk length of each file; 0 for a file that does not exist. A file whose
    /// bytes go to the parts file counts as whole: reads find its bytes there.
    pub fn file_sizes_on_disk(&self) -> Result<Vec<u64>, StorageError> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, slot)| match beneath::file_len(&self.root, &slot.rel) {
                _ if slot.parted.load(Ordering::Acquire) => Ok(self.layout.file_length(i)),
                Ok(len) => Ok(len.unwrap_or(0)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
                Err(e) => Err(io_err(&slot.path)(e)),
            })
            .collect()
    }

    /// Deletes the torrent's files, then the directories between them and the root that are
    /// left empty. Never removes the root, a non-empty directory or anything not named by the
    /// torrent. Keeps going after a failure and reports the first one.
    pub fn delete_files(&self) -> Result<(), StorageError> {
        let mut first_err = self.delete_parts().err();
        let mut dirs = BTreeSet::new();
        for slot in &self.files {
            if let Ok(mut h) = slot.handle.write() {
                *h = Handle::Closed;
            }
            if let Ok(mut d) = slot.direct.write() {
                *d = Direct::Untried;
            }
            match beneath::remove(&self.root, &slot.rel, false) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    first_err.get_or_insert(io_err(&slot.path)(e));
                }
            }
            dirs.extend(
                slot.rel
                    .ancestors()
                    .skip(1)
                    .filter(|a| !a.as_os_str().is_empty()),
            );
        }
        // Deepest first so a parent is only tried once its children are gone.
        let mut dirs: Vec<&Path> = dirs.into_iter().collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for dir in dirs {
            // Fails harmlessly when the directory holds anything else or is already gone.
            let _ = beneath::remove(&self.root, dir, true);
        }
        first_err.map_or(Ok(()), Err)
    }

    fn check_range(&self, piece: u32, offset: u32, len: usize) -> Result<(), StorageError> {
        if self.layout.contains(piece, offset, len) {
            Ok(())
        } else {
            Err(StorageError::OutOfRange { piece, offset, len })
        }
    }

    fn cached(&self, i: usize) -> Handle {
        // A poisoned lock only means another thread panicked mid-open; the handle is still valid.
        match self.files[i].handle.read() {
            Ok(h) => h.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub(super) fn writable(&self, i: usize) -> Result<Arc<File>, StorageError> {
        if let Handle::ReadWrite(f) = self.cached(i) {
            return Ok(f);
        }
        let slot = &self.files[i];
        let mut guard = slot.handle.write().unwrap_or_else(|p| p.into_inner());
        if let Handle::ReadWrite(f) = &*guard {
            return Ok(f.clone());
        }
        let file =
            beneath::open(&self.root, &slot.rel, Access::Write).map_err(io_err(&slot.path))?;
        let file = Arc::new(file);
        *guard = Handle::ReadWrite(file.clone());
        Ok(file)
    }

    fn readable(&self, i: usize) -> Result<Arc<File>, StorageError> {
        match self.cached(i) {
            Handle::ReadOnly(f) | Handle::ReadWrite(f) => return Ok(f),
            Handle::Closed => {}
        }
        let slot = &self.files[i];
        let mut guard = slot.handle.write().unwrap_or_else(|p| p.into_inner());
        if let Handle::ReadOnly(f) | Handle::ReadWrite(f) = &*guard {
            return Ok(f.clone());
        }
        let file = match beneath::open(&self.root, &slot.rel, Access::Read) {
            Ok(f) => Arc::new(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StorageError::Missing {
                    path: slot.path.clone(),
                })
            }
            Err(e) => return Err(io_err(&slot.path)(e)),
        };
        *guard = Handle::ReadOnly(file.clone());
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    fn files(list: &[(&str, u64)]) -> Vec<(PathBuf, u64)> {
        list.iter().map(|(p, l)| (PathBuf::from(p), *l)).collect()
    }

    /// Issue 11 item 13: `t` is a symlink to a folder outside the save folder; writing,
    /// reading, sizing and deleting the torrent's files never reach through it.
    #[test]
    fn symlinked_folders_are_not_followed() {
        let top = tempfile::tempdir().unwrap();
        let (root, outside) = (top.path().join("root"), top.path().join("outside"));
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("a"), b"precious").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("t")).unwrap();
        let st = Storage::new(&root, &files(&[("t/a", 8)]), 8).unwrap();
        assert!(st.write_piece(0, b"12345678").is_err());
        let mut buf = Vec::new();
        assert!(st.read_piece(0, &mut buf).is_err());
        assert!(
            !matches!(st.file_sizes_on_disk(), Ok(v) if v == [8]),
            "the outside file's size is not taken for the torrent's"
        );
        let _ = st.delete_files();
        assert_eq!(fs::read(outside.join("a")).unwrap(), b"precious");
    }

    #[test]
    fn round_trip_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let fl = files(&[("t/a", 5), ("t/empty", 0), ("t/sub/b", 3), ("t/c", 20)]);
        let st = Storage::new(dir.path(), &fl, 8).unwrap();
        let data = pattern(28, 7);
        for p in 0..4u32 {
            let s = p as usize * 8;
            st.write_piece(p, &data[s..(s + 8).min(28)]).unwrap();
        }
        assert_eq!(fs::read(dir.path().join("t/a")).unwrap(), &data[..5]);
        assert_eq!(fs::read(dir.path().join("t/sub/b")).unwrap(), &data[5..8]);
        assert_eq!(fs::read(dir.path().join("t/c")).unwrap(), &data[8..]);
        assert!(
            !dir.path().join("t/empty").exists(),
            "no piece touches an empty file"
        );
        st.create_empty_files().unwrap();
        assert_eq!(fs::metadata(dir.path().join("t/empty")).unwrap().len(), 0);

        let mut buf = Vec::new();
        st.read_piece(0, &mut buf).unwrap();
        assert_eq!(buf, &data[..8]);
        st.read_piece(3, &mut buf).unwrap();
        assert_eq!(buf, &data[24..]);
        let mut block = [0u8; 4];
        st.read_block(0, 3, &mut block).unwrap();
        assert_eq!(block, data[3..7]);

        // a fresh Storage reads through read-only handles, then upgrades to write
        let st2 = Storage::new(dir.path(), &fl, 8).unwrap();
        st2.read_block(1, 0, &mut block).unwrap();
        assert_eq!(block, data[8..12]);
        st2.write_block(1, 0, &[9, 9, 9, 9]).unwrap();
        st2.read_block(1, 0, &mut block).unwrap();
        assert_eq!(block, [9; 4]);
        st2.sync_all().unwrap();
    }

    #[test]
    fn concurrent_writers_and_readers() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Storage>();
        let dir = tempfile::tempdir().unwrap();
        // 64 pieces of 1 KiB over 5 files of uneven size
        let fl = files(&[
            ("m/a", 10_000),
            ("m/b", 1),
            ("m/c", 30_000),
            ("m/d", 0),
            ("m/e", 25_535),
        ]);
        let st = Storage::new(dir.path(), &fl, 1024).unwrap();
        let data = pattern(65_536, 3);
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let (st, data) = (&st, &data);
                s.spawn(move || {
                    for p in (t..64).step_by(4) {
                        let off = p as usize * 1024;
                        st.write_piece(p, &data[off..off + 1024]).unwrap();
                        let mut back = Vec::new();
                        st.read_piece(p, &mut back).unwrap();
                        assert_eq!(back, &data[off..off + 1024]);
                    }
                });
            }
        });
        let whole: Vec<u8> = ["m/a", "m/b", "m/c", "m/d", "m/e"]
            .iter()
            .flat_map(|f| fs::read(dir.path().join(f)).unwrap_or_default())
            .collect();
        assert_eq!(whole, data);
    }

    #[test]
    fn aligned_pieces_round_trip_through_direct_and_buffered_paths() {
        // Big aligned pieces take the O_DIRECT path where the filesystem has one; the file
        // boundaries at odd offsets and the short last piece force buffered heads and tails.
        let dir = tempfile::tempdir().unwrap();
        let piece = 256 * 1024u32;
        let fl = files(&[("d/a", 300_001), ("d/b", 5), ("d/c", 700_000)]);
        let total = 1_000_006usize;
        let st = Storage::new(dir.path(), &fl, piece).unwrap();
        let data = pattern(total, 11);
        let mut buf = super::super::AlignedBuf::default();
        // Out of order, as a swarm delivers them.
        for p in [2u32, 0, 3, 1] {
            let s = p as usize * piece as usize;
            let e = (s + piece as usize).min(total);
            buf.resize(e - s);
            buf.copy_from_slice(&data[s..e]);
            st.write_piece(p, &buf).unwrap();
        }
        let whole: Vec<u8> = ["d/a", "d/b", "d/c"]
            .iter()
            .flat_map(|f| fs::read(dir.path().join(f)).unwrap())
            .collect();
        assert!(whole == data, "files differ from what was written");
        // Overwriting through a fresh Storage (new handles) keeps the data right too.
        let st2 = Storage::new(dir.path(), &fl, piece).unwrap();
        buf.resize(piece as usize);
        buf.fill(0xab);
        st2.write_piece(0, &buf).unwrap();
        let mut back = Vec::new();
        st2.read_piece(0, &mut back).unwrap();
        assert!(back.iter().all(|&b| b == 0xab));
    }

    #[test]
    fn bounds_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let st = Storage::new(dir.path(), &files(&[("x", 10)]), 8).unwrap();
        assert!(matches!(
            st.write_piece(0, &[0; 7]),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(matches!(
            st.write_piece(2, &[]),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(matches!(
            st.read_block(1, 1, &mut [0; 2]),
            Err(StorageError::OutOfRange { .. })
        ));
        assert!(matches!(
            st.read_block(0, 0, &mut [0; 2]),
            Err(StorageError::Missing { .. })
        ));
        assert_eq!(st.file_sizes_on_disk().unwrap(), vec![0]);
        st.write_block(1, 0, &[1, 2]).unwrap();
        assert_eq!(
            st.file_sizes_on_disk().unwrap(),
            vec![10],
            "written sparse up to the end"
        );
    }

    #[test]
    fn path_escapes_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "",
            ".",
            "a/./b",
            "a/",
            "a/.",
            "a//b",
            "a\0b",
        ] {
            let r = Storage::new(dir.path(), &files(&[("ok", 1), (bad, 1)]), 16);
            assert!(
                matches!(r, Err(StorageError::BadPath(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn delete_removes_only_its_own_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("t/keep")).unwrap();
        fs::write(dir.path().join("t/keep/mine.txt"), b"user data").unwrap();
        fs::write(dir.path().join("other.txt"), b"unrelated").unwrap();
        let fl = files(&[("t/keep/a", 4), ("t/deep/er/b", 4), ("c", 0)]);
        let st = Storage::new(dir.path(), &fl, 4).unwrap();
        st.write_piece(0, &[1; 4]).unwrap();
        st.write_piece(1, &[2; 4]).unwrap();
        st.create_empty_files().unwrap();
        st.delete_files().unwrap();
        assert!(!dir.path().join("t/keep/a").exists());
        assert!(
            !dir.path().join("t/deep").exists(),
            "emptied dirs are removed"
        );
        assert!(!dir.path().join("c").exists());
        assert!(dir.path().join("t/keep/mine.txt").exists());
        assert!(dir.path().join("other.txt").exists());
        assert!(dir.path().exists(), "root stays");
        // deleting again is fine: nothing left to remove
        st.delete_files().unwrap();
    }
}
