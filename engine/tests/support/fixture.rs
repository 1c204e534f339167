//! Test data on disk plus its .torrent, made by a real client or by the engine.

use std::path::PathBuf;
use std::time::Duration;

use super::{lt_make_torrent, mktorrent, te_make_torrent, temp_dir, Layout};

/// How long a test download may take.
pub const DL_TIMEOUT: Duration = Duration::from_secs(60);

/// Which tool writes a fixture's .torrent.
#[derive(Clone, Copy, Debug)]
pub enum Maker {
    Libtorrent,
    Mktorrent,
    Engine,
}

/// Source data, its torrent and the torrent's info-hash.
pub struct Fixture {
    pub _dir: tempfile::TempDir,
    /// Folder holding the torrent's file or top folder.
    pub src: PathBuf,
    pub layout: Layout,
    pub torrent: PathBuf,
    pub ih_hex: String,
}

/// Writes `layout`'s deterministic data (from `seed`) and makes its torrent with `maker`.
pub fn fixture(layout: Layout, seed: u64, maker: Maker, trackers: &[String]) -> Fixture {
    let dir = temp_dir("src");
    let src = dir.path().join("data");
    layout.write(&src, seed);
    let torrent = dir.path().join(format!("{}.torrent", layout.name));
    let root = layout.root_in(&src);
    let ih_hex = match maker {
        Maker::Libtorrent => lt_make_torrent(&root, &torrent, layout.piece_size, trackers),
        Maker::Mktorrent => mktorrent(&root, &torrent, layout.piece_size, trackers),
        Maker::Engine => te_make_torrent(&root, &torrent, layout.piece_size, trackers),
    };
    Fixture {
        _dir: dir,
        src,
        layout,
        torrent,
        ih_hex,
    }
}
