//! Applying a changed file selection to a running torrent: storage routing, picker priorities,
//! and the Downloading ⇄ Seeding switch (un-skipping a file of a finished torrent resumes it;
//! skipping the last missing files finishes it).

use std::sync::Arc;

use super::incoming::set_interest;
use super::{lock, Torrent};
use crate::events::Event;
use crate::peer::WriterCmd;
use crate::selection::FilePriority;
use crate::status::TorrentState;
use crate::storage::StorageError;

impl Torrent {
    /// Applies the slot's current selection. Blocking (un-skipping moves bytes out of the parts
    /// file): run it on a blocking thread.
    pub(crate) fn apply_selection(self: &Arc<Self>) -> Result<(), StorageError> {
        let sel = self.selection.get();
        {
            // Serialized with piece writes, so no piece lands in the parts file after its
            // file's bytes were moved out.
            let _serial = lock(&self.write_lock);
            for i in 0..self.meta.files.len() {
                self.storage
                    .set_skipped(i, sel.priority(i) == FilePriority::Skip)?;
            }
        }
        let levels = sel.piece_levels(self.storage.layout());
        let mut guard = self.lock();
        let sh = &mut *guard;
        sh.picker.set_priorities(&levels);
        sh.picker.set_sequential(sel.sequential);
        let complete = sh.picker.is_complete();
        match sh.state {
            TorrentState::Seeding if !complete => {
                self.set_state(sh, TorrentState::Downloading);
                self.refresh_interest(sh);
                drop(guard);
                // Seeds were dropped at completion: find them again.
                self.dial_wake.notify_one();
            }
            TorrentState::Downloading if complete => {
                self.on_complete(sh);
                drop(guard);
                self.save_resume();
                self.env.emit(Event::Completed {
                    info_hash: self.info_hash,
                });
            }
            TorrentState::Downloading => self.refresh_interest(sh),
            _ => {}
        }
        Ok(())
    }

    /// Tells every peer whether we want something it has now, and tops up pipelines.
    pub(super) fn refresh_interest(&self, sh: &mut super::shared::Shared) {
        for p in sh.peers.values_mut() {
            let mut out = Vec::new();
            let interested = sh.picker.is_interesting(&p.bitfield);
            set_interest(p, interested, &mut out);
            if !out.is_empty() {
                p.send(WriterCmd::Batch(out));
            }
        }
        self.top_up_all(sh);
    }
}
