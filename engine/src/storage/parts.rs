//! The parts file: bytes of skipped files that share a piece with a wanted file.
//!
//! A piece is hashed and written whole, but a skipped file must not appear on disk. Such a
//! file's segments go to one sparse side file per torrent (like qBittorrent's `.parts`), at
//! the segment's offset in the torrent's byte stream, so only the boundary pieces take disk
//! space. Reads (seeding, rechecks) follow the same routing. Un-skipping a file moves its
//! bytes from the parts file into the real file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use super::beneath::{self, Access};
use super::files::io_err;
use super::{Segment, Storage, StorageError};

/// The parts file's name (relative to the save folder) and its handle once opened.
#[derive(Default)]
pub(crate) struct Parts {
    rel: Option<PathBuf>,
    handle: RwLock<Option<Arc<File>>>,
}

impl Storage {
    /// Names the parts file (relative to the root, e.g. `.<infohash>.parts`). Without one,
    /// skipped files are written like any other.
    pub fn with_parts_file(mut self, rel: PathBuf) -> Self {
        self.parts.rel = Some(rel);
        self
    }

    /// Marks file `i` skipped or wanted. Skipping a file that does not exist routes its bytes
    /// to the parts file; a file already on disk keeps its data where it is. Un-skipping moves
    /// whatever the parts file holds for it into the file. The caller serializes this with
    /// piece writes (the torrent's write lock). Blocking.
    pub fn set_skipped(&self, i: usize, skip: bool) -> Result<(), StorageError> {
        let Some(rel) = self.parts.rel.clone() else {
            return Ok(());
        };
        let slot = self.slot(i);
        slot.skipped.store(skip, Ordering::Release);
        let parted = slot.parted.load(Ordering::Acquire);
        if skip && !parted {
            let exists = match beneath::file_len(self.root(), self.rel(i)) {
                Ok(len) => len.is_some(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                Err(e) => return Err(io_err(&self.root().join(self.rel(i)))(e)),
            };
            slot.parted.store(!exists, Ordering::Release);
        } else if !skip && parted {
            self.unpart(i, &rel)?;
            slot.parted.store(false, Ordering::Release);
        }
        Ok(())
    }

    /// Whether file `i`'s bytes go to the parts file.
    pub(super) fn is_parted(&self, i: usize) -> bool {
        self.slot(i).parted.load(Ordering::Acquire)
    }

    /// Whether file `i` is skipped.
    pub fn is_skipped(&self, i: usize) -> bool {
        self.slot(i).skipped.load(Ordering::Acquire)
    }

    /// Copies file `i`'s byte ranges that hold data in the parts file into the file.
    fn unpart(&self, i: usize, rel: &std::path::Path) -> Result<(), StorageError> {
        let Some(parts) = self.parts_handle(false)? else {
            return Ok(());
        };
        let start = self.layout().file_start(i);
        let len = self.layout().file_length(i);
        let pl = u64::from(self.layout().piece_length());
        let path = self.root().join(rel);
        let mut buf = Vec::new();
        // Piece-sized steps: data only ever lands there in whole segments of pieces.
        let mut off = 0u64;
        while off < len {
            let pos = start + off;
            let n = (pl - pos % pl).min(len - off);
            if super::stat::file_has_data(&parts, pos, n) {
                buf.resize(n as usize, 0);
                parts.read_exact_at(&mut buf, pos).map_err(io_err(&path))?;
                let file = self.writable(i)?;
                file.write_all_at(&buf, off)
                    .map_err(io_err(&self.root().join(self.rel(i))))?;
            }
            off += n;
        }
        Ok(())
    }

    pub(super) fn write_parts(&self, seg: Segment, chunk: &[u8]) -> Result<(), StorageError> {
        let pos = self.layout().file_start(seg.file_index) + seg.file_offset;
        let Some(f) = self.parts_handle(true)? else {
            return Err(StorageError::Layout("no parts file configured".into()));
        };
        f.write_all_at(chunk, pos)
            .map_err(io_err(&self.parts_path()))
    }

    pub(super) fn read_parts(&self, seg: Segment, buf: &mut [u8]) -> Result<(), StorageError> {
        let pos = self.layout().file_start(seg.file_index) + seg.file_offset;
        let Some(f) = self.parts_handle(false)? else {
            return Err(StorageError::Missing {
                path: self.parts_path(),
            });
        };
        f.read_exact_at(buf, pos)
            .map_err(io_err(&self.parts_path()))
    }

    pub(super) fn sync_parts(&self) -> Result<(), StorageError> {
        let handle = self
            .parts
            .handle
            .read()
            .map(|h| h.clone())
            .unwrap_or_default();
        match handle {
            Some(f) => f.sync_all().map_err(io_err(&self.parts_path())),
            None => Ok(()),
        }
    }

    pub(super) fn delete_parts(&self) -> Result<(), StorageError> {
        let Some(rel) = &self.parts.rel else {
            return Ok(());
        };
        *self.parts.handle.write().unwrap_or_else(|p| p.into_inner()) = None;
        match beneath::remove(self.root(), rel, false) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&self.parts_path())(e)),
            _ => Ok(()),
        }
    }

    fn parts_path(&self) -> PathBuf {
        self.root()
            .join(self.parts.rel.as_deref().unwrap_or("".as_ref()))
    }

    /// The parts file, opened read-write (created when `create`); `None` when it does not
    /// exist and `create` is false, or when no parts file is configured.
    fn parts_handle(&self, create: bool) -> Result<Option<Arc<File>>, StorageError> {
        let Some(rel) = &self.parts.rel else {
            return Ok(None);
        };
        if let Some(f) = &*self.parts.handle.read().unwrap_or_else(|p| p.into_inner()) {
            return Ok(Some(f.clone()));
        }
        let mut guard = self.parts.handle.write().unwrap_or_else(|p| p.into_inner());
        if let Some(f) = &*guard {
            return Ok(Some(f.clone()));
        }
        if !create {
            match beneath::file_len(self.root(), rel) {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(&self.parts_path())(e)),
            }
        }
        let f = Arc::new(
            beneath::open(self.root(), rel, Access::Write).map_err(io_err(&self.parts_path()))?,
        );
        *guard = Some(f.clone());
        Ok(Some(f))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Storage;
    use std::path::PathBuf;

    #[test]
    fn skipped_file_is_not_created_and_its_bytes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        // pieces of 8: a=10 (pieces 0,1), b=6 (piece 1), c=8 (pieces 2)
        let files = vec![
            (PathBuf::from("t/a"), 10),
            (PathBuf::from("t/b"), 6),
            (PathBuf::from("t/c"), 8),
        ];
        let st = Storage::new(dir.path(), &files, 8)
            .unwrap()
            .with_parts_file(PathBuf::from(".x.parts"));
        st.set_skipped(1, true).unwrap();
        let data: Vec<u8> = (0..24u8).collect();
        for p in 0..3u32 {
            st.write_piece(p, &data[p as usize * 8..p as usize * 8 + 8])
                .unwrap();
        }
        assert!(!dir.path().join("t/b").exists(), "skipped file created");
        assert_eq!(std::fs::read(dir.path().join("t/a")).unwrap(), &data[..10]);
        assert_eq!(std::fs::read(dir.path().join("t/c")).unwrap(), &data[16..]);
        let mut back = Vec::new();
        st.read_piece(1, &mut back).unwrap();
        assert_eq!(back, &data[8..16], "boundary piece reads back whole");
        st.sync_all().unwrap();

        st.set_skipped(1, false).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("t/b")).unwrap(),
            &data[10..16]
        );
        st.read_piece(1, &mut back).unwrap();
        assert_eq!(back, &data[8..16]);
        st.delete_files().unwrap();
        assert!(!dir.path().join(".x.parts").exists());
    }

    #[test]
    fn skipping_an_existing_file_keeps_it_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let files = vec![(PathBuf::from("a"), 4), (PathBuf::from("b"), 4)];
        let st = Storage::new(dir.path(), &files, 8)
            .unwrap()
            .with_parts_file(PathBuf::from(".y.parts"));
        st.write_piece(0, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        st.set_skipped(1, true).unwrap();
        st.write_piece(0, &[1, 2, 3, 4, 9, 9, 9, 9]).unwrap();
        assert_eq!(std::fs::read(dir.path().join("b")).unwrap(), [9; 4]);
        assert!(!dir.path().join(".y.parts").exists());
    }
}
