//! A torrent's file selection: per-file priorities, sequential or first-and-last-piece order. Stored so a restart
//! brings them back (a skipped file is then not created either), applied to the engine at
//! once (un-skipping a file of a finished torrent resumes downloading).

use app::types::{AddOptions, FilePriority, FilePriorityChange, TorrentDetail};
use engine::selection::{FilePriority as EnginePriority, SelectionState};
use engine::InfoHash;

use super::{Library, LibraryError};
use crate::auth::AuthUser;
use crate::db::selection as store;
pub use crate::db::selection::Flag;

pub fn to_engine(p: FilePriority) -> EnginePriority {
    match p {
        FilePriority::Skip => EnginePriority::Skip,
        FilePriority::Low => EnginePriority::Low,
        FilePriority::Normal => EnginePriority::Normal,
        FilePriority::High => EnginePriority::High,
    }
}

pub fn from_engine(p: EnginePriority) -> FilePriority {
    match p {
        EnginePriority::Skip => FilePriority::Skip,
        EnginePriority::Low => FilePriority::Low,
        EnginePriority::Normal => FilePriority::Normal,
        EnginePriority::High => FilePriority::High,
    }
}

/// The engine's selection for an add: `onlyFiles` (the rest skipped), then `files` over
/// that. Indices are checked against `num_files` when it is known (a `.torrent`; a magnet's
/// come later).
pub fn initial(
    opts: &AddOptions,
    num_files: Option<usize>,
) -> Result<SelectionState, LibraryError> {
    let (changes, sequential) = (&opts.files, opts.sequential);
    let mut priorities = Vec::new();
    if let Some(only) = &opts.only_files {
        let Some(n) = num_files else {
            return Err(LibraryError::BadSelection(
                "onlyFiles needs the file list: add a .torrent, or use files".into(),
            ));
        };
        for &i in only {
            check_index(i, Some(n))?;
        }
        priorities = (0..n)
            .map(|i| match only.contains(&i) {
                true => EnginePriority::Normal,
                false => EnginePriority::Skip,
            })
            .collect();
    }
    for c in changes {
        check_index(c.index, num_files)?;
        if priorities.len() <= c.index {
            priorities.resize(c.index + 1, EnginePriority::Normal);
        }
        priorities[c.index] = to_engine(c.priority);
    }
    Ok(SelectionState {
        priorities,
        sequential,
        first_last: opts.first_last_piece,
    })
}

fn check_index(index: usize, num_files: Option<usize>) -> Result<(), LibraryError> {
    match num_files {
        Some(n) if index >= n => Err(LibraryError::BadSelection(format!(
            "file index {index} is out of range (the torrent has {n} files, 0-based)"
        ))),
        // An index far beyond any real torrent before the metadata is known.
        None if index > 1_000_000 => Err(LibraryError::BadSelection(format!(
            "file index {index} is out of range"
        ))),
        _ => Ok(()),
    }
}

impl Library {
    /// `PATCH /api/torrents/{infoHash}/files`: changes the priorities of the listed files.
    pub async fn set_file_priorities(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        changes: &[FilePriorityChange],
    ) -> Result<TorrentDetail, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let h = e.handle().ok_or(LibraryError::NotRunning)?;
        let num_files = h.metainfo().map(|m| m.files.len());
        for c in changes {
            check_index(c.index, num_files)?;
        }
        let mut all = h.selection().priorities;
        for c in changes {
            if all.len() <= c.index {
                all.resize(c.index + 1, EnginePriority::Normal);
            }
            all[c.index] = to_engine(c.priority);
        }
        let stored: Vec<FilePriority> = all.iter().copied().map(from_engine).collect();
        store::set_file_priorities(&self.db, &ih.to_hex(), &stored).await?;
        let list: Vec<(usize, EnginePriority)> = all.into_iter().enumerate().collect();
        h.set_selection(&list, None);
        // A finished torrent may now download again (or the reverse): the queue decides.
        self.update_queue();
        self.detail(user, ih)
    }

    /// Turns a per-torrent setting on or off: sequential order, first-and-last-piece order, or
    /// BEP 16 super-seeding (which needs the metadata). Stored, so a restart keeps it.
    pub async fn set_flag(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        flag: Flag,
        on: bool,
    ) -> Result<(), LibraryError> {
        let e = self.entry_for(user, ih)?;
        let h = e.handle().ok_or(LibraryError::NotRunning)?;
        match flag {
            Flag::Sequential => h.set_selection(&[], Some(on)),
            Flag::FirstLastPiece => h.set_first_last(on),
            Flag::SuperSeeding => {
                if !h.set_super_seeding(on) {
                    return Err(LibraryError::NoMetadataYet);
                }
            }
        }
        store::set_flag(&self.db, &ih.to_hex(), flag, on).await?;
        Ok(())
    }

    /// Stores the selection an add was given (the row exists by now).
    pub(super) async fn store_initial_selection(
        &self,
        ih: &InfoHash,
        sel: &SelectionState,
    ) -> Result<(), LibraryError> {
        if !sel.priorities.is_empty() {
            let stored: Vec<FilePriority> =
                sel.priorities.iter().copied().map(from_engine).collect();
            store::set_file_priorities(&self.db, &ih.to_hex(), &stored).await?;
        }
        for (flag, on) in [
            (Flag::Sequential, sel.sequential),
            (Flag::FirstLastPiece, sel.first_last),
        ] {
            if on {
                store::set_flag(&self.db, &ih.to_hex(), flag, true).await?;
            }
        }
        Ok(())
    }
}
