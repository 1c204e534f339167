//! Which file a web seed request names (BEP 19: the torrent's name, then the file's path
//! inside it), and whether it may be served: only files verified whole.

use engine::torrent::FileStream;
use engine::InfoHash;

use super::{Library, LibraryError};

impl Library {
    /// A reader of the complete file at `path` (`name` or `name/dir/file`, `/`-separated) of
    /// torrent `ih`, for anyone holding the torrent's web seed key (checked by the caller).
    pub fn open_seeded_file(&self, ih: &InfoHash, path: &str) -> Result<FileStream, LibraryError> {
        let entry = self.registry.get(ih).ok_or(LibraryError::NotFound)?;
        let h = entry.handle().ok_or(LibraryError::NotRunning)?;
        let meta = h.metainfo().ok_or(LibraryError::NoMetadataYet)?;
        let index = meta
            .files
            .iter()
            .position(|f| {
                let mut parts = f.path.iter().map(|c| c.to_string_lossy());
                let mut wanted = path.split('/');
                loop {
                    match (parts.next(), wanted.next()) {
                        (None, None) => return true,
                        (Some(a), Some(b)) if a == b => {}
                        _ => return false,
                    }
                }
            })
            .ok_or(LibraryError::NotFound)?;
        let done = h
            .status()
            .files
            .get(index)
            .map(|f| (f.bytes_done, f.length));
        if !matches!(done, Some((d, l)) if d == l) {
            return Err(LibraryError::NotComplete);
        }
        h.open_file(index)
            .map_err(|e| LibraryError::Engine(e.to_string()))
    }
}
