//! What is on disk without reading it: each file's size and modification time (the
//! fast-resume check) and whether a byte range holds data at all (a piece never written is a
//! hole in a sparse file, so a restart need not hash it).

use std::io;
use std::time::UNIX_EPOCH;

use super::beneath::{self, Access};
use super::{Storage, StorageError};

/// A file's size and modification time (nanoseconds since the Unix epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStat {
    pub size: u64,
    pub mtime_ns: i64,
}

impl Storage {
    /// Size and mtime of every file; `None` for a missing file. A skipped file whose bytes
    /// live in the parts file (only we write there) is reported whole and unchanged, so fast
    /// resume trusts its boundary pieces like any other.
    pub fn file_stats(&self) -> Result<Vec<Option<FileStat>>, StorageError> {
        (0..self.layout().num_files())
            .map(
                |i| match beneath::open(self.root(), self.rel(i), Access::Read) {
                    _ if self.is_parted(i) => Ok(Some(FileStat {
                        size: self.layout().file_length(i),
                        mtime_ns: 0,
                    })),
                    Ok(f) => {
                        let m = f.metadata().map_err(|e| self.stat_err(i, e))?;
                        let mtime_ns = m
                            .modified()
                            .ok()
                            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
                        Ok(Some(FileStat {
                            size: m.len(),
                            mtime_ns,
                        }))
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(self.stat_err(i, e)),
                },
            )
            .collect()
    }

    /// Whether `len` bytes of file `file` from `offset` hold any data (`SEEK_DATA`). True when
    /// the filesystem cannot tell: the caller then hashes, which is always correct.
    pub fn range_has_data(&self, file: usize, offset: u64, len: u64) -> bool {
        let Ok(f) = beneath::open(self.root(), self.rel(file), Access::Read) else {
            return false;
        };
        file_has_data(&f, offset, len)
    }

    fn stat_err(&self, i: usize, source: io::Error) -> StorageError {
        StorageError::Io {
            path: self.root().join(self.rel(i)),
            source,
        }
    }
}

/// Whether `len` bytes of `f` from `offset` hold any data; true when the filesystem cannot say.
pub(super) fn file_has_data(f: &std::fs::File, offset: u64, len: u64) -> bool {
    next_data(f, offset).is_none_or(|next| next.is_some_and(|d| d < offset + len))
}

/// The next offset at or after `from` holding data: `Some(None)` when only holes follow,
/// `None` when the filesystem cannot say.
#[cfg(target_os = "linux")]
fn next_data(f: &std::fs::File, from: u64) -> Option<Option<u64>> {
    match rustix::fs::seek(f, rustix::fs::SeekFrom::Data(from)) {
        Ok(at) => Some(Some(at)),
        Err(rustix::io::Errno::NXIO) => Some(None),
        Err(_) => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn next_data(_: &std::fs::File, _: u64) -> Option<Option<u64>> {
    None
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn stats_and_holes() {
        let dir = tempfile::tempdir().unwrap();
        let fl: Vec<(PathBuf, u64)> = vec![("t/a".into(), 1 << 20), ("t/b".into(), 10)];
        let st = Storage::new(dir.path(), &fl, 1 << 16).unwrap();
        assert_eq!(st.file_stats().unwrap(), vec![None, None]);
        // A sparse file with one written piece in its middle.
        st.write_piece(8, &[7u8; 1 << 16]).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("t/a"))
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        let stats = st.file_stats().unwrap();
        assert_eq!(stats[0].unwrap().size, 1 << 20);
        assert!(stats[0].unwrap().mtime_ns > 0);
        assert_eq!(stats[1], None);
        assert!(st.range_has_data(0, 8 << 16, 1 << 16));
        assert!(st.range_has_data(0, 7 << 16, 2 << 16), "overlaps the data");
        assert!(!st.range_has_data(1, 0, 10), "missing file");
        // tmpfs and ext4 both report holes; a filesystem that cannot is "has data".
        let hole = st.range_has_data(0, 0, 1 << 16);
        let fs_knows = next_data(&File::open(dir.path().join("t/a")).unwrap(), 0).is_some();
        assert_eq!(hole, !fs_knows);
    }
}
