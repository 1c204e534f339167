//! Reading a file while it downloads (streaming a video from its first byte, seeking).
//!
//! Each open [`FileStream`] keeps a window of pieces ahead of its reader — the pieces it needs
//! next — at the picker's deadline level ([`crate::picker::DEADLINE`]), so they are started
//! before anything else, in order. A read waits until its piece is verified. Moving the reader
//! moves its window; dropping the stream gives the pieces back their own priority. The union
//! of every open stream's window is what the picker sees.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

use super::{Control, Torrent};
use crate::selection::FilePriority;

/// How far ahead of a reader pieces are fetched first (at least the piece after the one read).
pub const READ_AHEAD: u64 = 8 << 20;

/// Why a stream cannot be opened or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StreamError {
    #[error("the torrent's metadata is not known yet")]
    NoMetadata,
    #[error("the torrent has no file {0}")]
    NoSuchFile(usize),
    #[error("offset {offset} is past the end of the file ({len} bytes)")]
    PastEnd { offset: u64, len: u64 },
    #[error("the torrent was stopped or removed")]
    Stopped,
    #[error("reading the file: {0}")]
    Storage(String),
}

/// Every open stream's window of wanted pieces (behind the torrent lock).
#[derive(Default)]
pub(crate) struct Windows {
    next_id: u64,
    by_stream: HashMap<u64, Vec<u32>>,
}

impl Windows {
    fn open(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Sets one stream's window; true if it changed.
    fn set(&mut self, id: u64, pieces: Vec<u32>) -> bool {
        if self.by_stream.get(&id) == Some(&pieces) {
            return false;
        }
        self.by_stream.insert(id, pieces);
        true
    }

    fn close(&mut self, id: u64) -> bool {
        self.by_stream.remove(&id).is_some()
    }

    fn union(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.by_stream.values().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// A reader of one file of a torrent; see the module doc. Reads may run while the torrent
/// downloads, seeds or is paused (then they wait).
pub struct FileStream {
    torrent: Arc<Torrent>,
    id: u64,
    /// Relative path inside the torrent (for a content type).
    path: PathBuf,
    /// The file's first byte, as a torrent offset.
    start: u64,
    len: u64,
}

impl Torrent {
    /// Opens file `index` for streaming. A skipped file is un-skipped: reading it means
    /// wanting it.
    pub(crate) fn open_stream(self: &Arc<Self>, index: usize) -> Result<FileStream, StreamError> {
        let file = self
            .meta
            .files
            .get(index)
            .ok_or(StreamError::NoSuchFile(index))?;
        let layout = self.storage.layout();
        let id = self.lock().streams.open();
        Ok(FileStream {
            torrent: self.clone(),
            id,
            path: file.path.clone(),
            start: layout.file_start(index),
            len: layout.file_length(index),
        })
    }

    /// Whether a file is skipped (so opening a stream must un-skip it).
    pub(crate) fn file_skipped(&self, index: usize) -> bool {
        self.selection.get().priority(index) == FilePriority::Skip
    }

    fn set_window(&self, id: u64, pieces: Vec<u32>) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        if sh.streams.set(id, pieces) {
            let union = sh.streams.union();
            sh.picker.set_deadlines(&union);
            self.refresh_interest(sh);
        }
    }

    fn close_window(&self, id: u64) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        if sh.streams.close(id) {
            let union = sh.streams.union();
            sh.picker.set_deadlines(&union);
        }
    }
}

impl FileStream {
    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file's path inside the torrent.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Reads up to `max` bytes at `offset` in the file (never across a piece end), waiting
    /// for the piece if it is not verified yet and fetching it, and the pieces after it,
    /// first. Empty at the end of the file.
    pub async fn read(&mut self, offset: u64, max: usize) -> Result<Bytes, StreamError> {
        if offset >= self.len {
            return if offset == self.len {
                Ok(Bytes::new())
            } else {
                Err(StreamError::PastEnd {
                    offset,
                    len: self.len,
                })
            };
        }
        let t = &self.torrent;
        let layout = t.storage.layout();
        let plen = u64::from(layout.piece_length());
        let at = self.start + offset;
        let piece = (at / plen) as u32;
        let end = self.start + self.len;
        let ahead_end = (at + READ_AHEAD).min(end);
        let last = ((ahead_end - 1) / plen)
            .max(u64::from(piece) + 1)
            .min((end - 1) / plen) as u32;
        let missing: Vec<u32> = {
            let sh = t.lock();
            (piece..=last)
                .filter(|&p| !sh.picker.have().get(p as usize))
                .collect()
        };
        t.set_window(self.id, missing);
        self.wait_for(piece).await?;
        let in_piece = at - u64::from(piece) * plen;
        let piece_end = u64::from(piece) * plen + u64::from(layout.piece_len(piece));
        let n = (piece_end.min(end) - at).min(max as u64) as usize;
        let storage = t.storage.clone();
        tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; n];
            storage
                .read_block(piece, in_piece as u32, &mut buf)
                .map(|()| Bytes::from(buf))
                .map_err(|e| StreamError::Storage(e.to_string()))
        })
        .await
        .map_err(|e| StreamError::Storage(e.to_string()))?
    }

    async fn wait_for(&self, piece: u32) -> Result<(), StreamError> {
        let t = &self.torrent;
        let mut verified = t.verified.subscribe();
        let mut control = t.control.subscribe();
        loop {
            if *control.borrow_and_update() == Control::Stop {
                return Err(StreamError::Stopped);
            }
            if t.lock().picker.have().get(piece as usize) {
                return Ok(());
            }
            tokio::select! {
                r = verified.changed() => r.map_err(|_| StreamError::Stopped)?,
                r = control.changed() => r.map_err(|_| StreamError::Stopped)?,
            }
        }
    }
}

impl Drop for FileStream {
    fn drop(&mut self) {
        self.torrent.close_window(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_union_and_change_detection() {
        let mut w = Windows::default();
        let (a, b) = (w.open(), w.open());
        assert_ne!(a, b);
        assert!(w.set(a, vec![3, 4, 5]));
        assert!(!w.set(a, vec![3, 4, 5]), "same window: nothing to redo");
        assert!(w.set(b, vec![5, 6]));
        assert_eq!(w.union(), [3, 4, 5, 6]);
        assert!(w.close(a));
        assert!(!w.close(a));
        assert_eq!(w.union(), [5, 6]);
    }
}
