//! Opening a torrent's file to stream it (the HTTP side is `api::stream`). Streaming a skipped
//! file un-skips it, and says so in the stored selection: watching it means wanting it.

use app::types::{FilePriority, FilePriorityChange};
use engine::selection::FilePriority as EnginePriority;
use engine::torrent::{FileStream, StreamError};
use engine::InfoHash;

use super::{Library, LibraryError};
use crate::auth::AuthUser;

impl Library {
    /// A reader of file `index` that waits for (and fetches first) the pieces it reads.
    pub async fn open_file(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        index: usize,
    ) -> Result<FileStream, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let h = e.handle().ok_or(LibraryError::NotRunning)?;
        let files = h.metainfo().ok_or(LibraryError::NoMetadataYet)?.files.len();
        if index >= files {
            return Err(LibraryError::NoSuchFile(index));
        }
        if h.selection().priority(index) == EnginePriority::Skip {
            let wanted = FilePriorityChange {
                index,
                priority: FilePriority::Normal,
            };
            self.set_file_priorities(user, ih, &[wanted]).await?;
        }
        h.open_file(index).map_err(|e| match e {
            StreamError::NoMetadata => LibraryError::NoMetadataYet,
            StreamError::NoSuchFile(i) => LibraryError::NoSuchFile(i),
            other => LibraryError::Engine(other.to_string()),
        })
    }
}
