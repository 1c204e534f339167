//! File selection: which files of a torrent to download, and in what order.
//!
//! The user speaks in files (`skip`, `low`, `normal`, `high`) and a torrent-wide
//! `sequential` and `first_last` flags; the picker speaks in pieces. A piece's level is the highest level of the
//! files it overlaps, so a piece shared by a skipped and a wanted file is still downloaded
//! (its skipped part is stored aside, see `storage::parts`).

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::storage::Layout;

/// How much the user wants one file.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FilePriority {
    /// Not downloaded and not created on disk.
    Skip,
    Low,
    #[default]
    Normal,
    High,
}

/// A priority name that is not one of `skip`, `low`, `normal`, `high`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown file priority {0:?} (expected skip, low, normal or high)")]
pub struct BadPriority(pub String);

impl FilePriority {
    /// The picker's piece priority: 0 = not wanted, higher is picked first.
    pub fn piece_level(self) -> u8 {
        match self {
            FilePriority::Skip => 0,
            FilePriority::Low => 1,
            FilePriority::Normal => 2,
            FilePriority::High => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilePriority::Skip => "skip",
            FilePriority::Low => "low",
            FilePriority::Normal => "normal",
            FilePriority::High => "high",
        }
    }
}

impl std::str::FromStr for FilePriority {
    type Err = BadPriority;

    fn from_str(s: &str) -> Result<Self, BadPriority> {
        match s {
            "skip" => Ok(FilePriority::Skip),
            "low" => Ok(FilePriority::Low),
            "normal" => Ok(FilePriority::Normal),
            "high" => Ok(FilePriority::High),
            _ => Err(BadPriority(s.to_string())),
        }
    }
}

impl std::fmt::Display for FilePriority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user chose for one torrent. Lives in the torrent's slot, so choices made before a
/// magnet's metadata arrives carry over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectionState {
    /// Per file in torrent order; files past the end are `Normal` (empty = all normal).
    pub priorities: Vec<FilePriority>,
    /// Pieces in order (for previewing media while it downloads).
    pub sequential: bool,
    /// The first and last piece of every wanted file before the rest: enough for a player to
    /// read a media file's header and index (qBittorrent's "first and last piece first").
    pub first_last: bool,
}

/// The picker level of a wanted file's first and last piece under `first_last`: above every
/// file priority, below a streaming reader's deadline.
pub const FIRST_LAST_LEVEL: u8 = 4;

impl SelectionState {
    pub fn priority(&self, file: usize) -> FilePriority {
        self.priorities.get(file).copied().unwrap_or_default()
    }

    /// Each piece's picker level for `layout`: the highest level among the files it overlaps.
    pub fn piece_levels(&self, layout: &Layout) -> Vec<u8> {
        let mut levels = vec![0u8; layout.num_pieces() as usize];
        for f in 0..layout.num_files() {
            let level = self.priority(f).piece_level();
            let range = layout.file_piece_range(f);
            for p in range.clone() {
                let l = &mut levels[p as usize];
                *l = (*l).max(level);
            }
            if self.first_last && level > 0 && !range.is_empty() {
                levels[range.start as usize] = FIRST_LAST_LEVEL;
                levels[range.end as usize - 1] = FIRST_LAST_LEVEL;
            }
        }
        levels
    }
}

/// Shared, lockable [`SelectionState`].
#[derive(Clone, Default)]
pub(crate) struct Selection(Arc<Mutex<SelectionState>>);

impl Selection {
    pub fn new(state: SelectionState) -> Self {
        Selection(Arc::new(Mutex::new(state)))
    }

    pub fn get(&self) -> SelectionState {
        crate::torrent::lock(&self.0).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut SelectionState)) {
        f(&mut crate::torrent::lock(&self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_pieces_take_the_highest_level() {
        // pieces of 4: a=6 (pieces 0,1), b=4 (pieces 1,2), c=2 (piece 2)
        let layout = Layout::new(4, &[6, 4, 2]).unwrap();
        let sel = SelectionState {
            priorities: vec![FilePriority::Skip, FilePriority::High],
            ..Default::default()
        };
        // c is past the list: normal.
        assert_eq!(sel.piece_levels(&layout), vec![0, 3, 3]);
        let all_skip = SelectionState {
            priorities: vec![FilePriority::Skip; 3],
            first_last: true,
            ..Default::default()
        };
        assert_eq!(all_skip.piece_levels(&layout), vec![0, 0, 0]);
    }

    #[test]
    fn first_last_raises_the_ends_of_wanted_files_only() {
        // pieces of 4: a=10 (pieces 0..=2), b=12 (pieces 2..=5), c=8 (pieces 5..=7, skipped)
        let layout = Layout::new(4, &[10, 12, 8]).unwrap();
        let mut sel = SelectionState {
            priorities: vec![FilePriority::Low, FilePriority::Normal, FilePriority::Skip],
            ..Default::default()
        };
        assert_eq!(sel.piece_levels(&layout), vec![1, 1, 2, 2, 2, 2, 0, 0]);
        sel.first_last = true;
        let f = FIRST_LAST_LEVEL;
        assert_eq!(sel.piece_levels(&layout), vec![f, 1, f, 2, 2, f, 0, 0]);
    }

    #[test]
    fn names_round_trip() {
        for p in [
            FilePriority::Skip,
            FilePriority::Low,
            FilePriority::Normal,
            FilePriority::High,
        ] {
            assert_eq!(p.as_str().parse::<FilePriority>(), Ok(p));
        }
        assert!("urgent".parse::<FilePriority>().is_err());
    }
}
