//! Torrent data on disk: geometry ([`layout`]), positioned file I/O ([`files`]) and hashing
//! ([`verify`]). Everything here is blocking and meant for worker threads.

pub mod aligned;
mod beneath;
mod direct;
pub mod files;
pub mod layout;
mod parts;
pub mod stat;
pub mod verify;

use std::path::PathBuf;

pub use aligned::AlignedBuf;
pub use files::Storage;
pub use layout::{Layout, Segment};
pub use stat::FileStat;
pub use verify::{recheck, recheck_selected, sha1_piece};

/// Failures of the storage layer; I/O errors carry the path they happened on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsafe file path {0:?}: only plain relative components are allowed")]
    BadPath(PathBuf),
    #[error("invalid layout: {0}")]
    Layout(String),
    #[error("piece {piece}: range {offset}+{len} is outside the piece")]
    OutOfRange { piece: u32, offset: u32, len: usize },
    #[error("{path:?} does not exist")]
    Missing { path: PathBuf },
    #[error("{path:?}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("piece hash list has {got} entries, the layout has {expected} pieces")]
    HashCount { got: usize, expected: u32 },
}
