//! The download queue: at most `MAX_CONCURRENT_TORRENTS` torrents download at once (0 = no
//! cap). Every torrent in the engine that its owner has not paused, that is not complete
//! and has not failed wants a slot; the first N by priority (high, normal, low), then by
//! when they were added, get one. The others are held paused in the engine and shown as
//! `queued`. Seeding torrents never count. A torrent held by the queue while the engine
//! checks its data (just added or restored) might turn out complete, so it waits for the
//! end of the check before it can take a running download's slot.
//!
//! The registry's flags are the truth: `paused` (the owner's wish) and `queued` (the
//! queue's decision); [`Library::update_queue`] makes the engine follow them, so callers
//! change flags under the queue lock and then apply. It runs when a torrent is added,
//! removed, paused, resumed or reprioritised, when the engine reports a state change (a
//! check ended, a download completed, a torrent failed), and when the cap is set.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::MutexGuard;

use app::types::{names, Priority, StateUpdate};
use engine::status::{Brief, TorrentState as Engine};
use engine::InfoHash;

use super::registry::Entry;
use super::{view, Library};

/// Position in the queue: higher priority first, then earlier added.
fn rank(e: &Entry) -> (u8, i64, InfoHash) {
    let p = match e.priority {
        Priority::High => 0,
        Priority::Normal => 1,
        Priority::Low => 2,
    };
    (p, e.added_ms, e.info_hash)
}

/// What a torrent asks of the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    /// Paused by its owner, complete (seeding) or failed.
    Nothing,
    /// A download slot.
    Slot,
    /// Held while its data is checked, so not known to be complete: it keeps waiting, without
    /// taking a slot from a running download, until the check ends.
    Undecided,
}

fn want(e: &Entry, state: Engine, failed: bool, complete: bool) -> Want {
    if e.paused || state == Engine::Error || failed {
        return Want::Nothing;
    }
    if state == Engine::Checking {
        return match (e.completed_at, e.queued) {
            // Complete before (a restart): it will seed.
            (Some(_), _) => Want::Nothing,
            (None, true) => Want::Undecided,
            (None, false) => Want::Slot,
        };
    }
    if complete {
        Want::Nothing
    } else {
        Want::Slot
    }
}

fn want_of(e: &Entry, b: &Brief) -> Want {
    want(e, b.state, b.failed, b.wanted_complete)
}

/// The torrents that must wait, given what each wants.
fn waiting(wants: &[(&Entry, Want)], cap: usize) -> HashSet<InfoHash> {
    if cap == 0 {
        return HashSet::new();
    }
    let mut slot: Vec<&Entry> = wants
        .iter()
        .filter(|(_, w)| *w == Want::Slot)
        .map(|(e, _)| *e)
        .collect();
    slot.sort_by_key(|e| rank(e));
    let undecided = wants.iter().filter(|(_, w)| *w == Want::Undecided);
    slot.iter()
        .skip(cap)
        .map(|e| e.info_hash)
        .chain(undecided.map(|(e, _)| e.info_hash))
        .collect()
}

impl Library {
    /// `MAX_CONCURRENT_TORRENTS` (0 = no cap).
    pub fn max_active(&self) -> u32 {
        self.max_active.load(Ordering::Relaxed)
    }

    /// Sets the cap and applies it.
    pub fn set_max_active(&self, n: u32) {
        self.max_active.store(n, Ordering::Relaxed);
        self.update_queue();
    }

    pub(super) fn queue_lock(&self) -> MutexGuard<'_, ()> {
        self.queue_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Re-evaluates the queue (see the module documentation); publishes `queue:updated` for
    /// each torrent that entered or left it and returns those.
    pub fn update_queue(&self) -> HashSet<InfoHash> {
        let _guard = self.queue_lock();
        self.apply_queue()
    }

    /// `update_queue` for a caller that holds the queue lock.
    pub(super) fn apply_queue(&self) -> HashSet<InfoHash> {
        let cap = self.max_active() as usize;
        let entries = self.registry.filtered(|e| e.handle().is_some());
        let wait = if cap == 0 {
            HashSet::new()
        } else {
            let wants: Vec<(&Entry, Want)> = entries
                .iter()
                .filter(|e| !e.paused)
                .filter_map(|e| e.handle().map(|h| (e, want_of(e, &h.brief()))))
                .collect();
            waiting(&wants, cap)
        };
        let mut changed = HashSet::new();
        for e in &entries {
            let queued = wait.contains(&e.info_hash);
            if queued != e.queued {
                self.registry.update(&e.info_hash, |x| x.queued = queued);
                changed.insert(e.info_hash);
            }
            // Both are no-ops when the engine already does this.
            if let Some(h) = e.handle() {
                if e.paused || queued {
                    h.pause();
                } else {
                    h.resume();
                }
            }
        }
        for ih in &changed {
            if let Some(e) = self.registry.get(ih) {
                self.publish_state(&e);
            }
        }
        changed
    }

    /// `queue:updated` with the torrent's state as shown, its pause flag and priority.
    pub(super) fn publish_state(&self, e: &Entry) {
        let s = view::summary(e, e.handle().map(|h| h.status()).as_ref());
        self.hub.publish(
            Some(e.owner_id),
            names::QUEUE_UPDATED,
            &StateUpdate {
                info_hash: s.info_hash,
                state: s.state,
                paused: Some(e.paused),
                priority: Some(e.priority),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::torrents::registry::Runner;

    fn entry(n: u8, priority: Priority, added_ms: i64) -> Entry {
        Entry {
            info_hash: InfoHash([n; 20]),
            owner_id: 1,
            name: format!("t{n}"),
            save_path: PathBuf::new(),
            priority,
            paused: false,
            added_at: added_ms / 1000,
            added_ms,
            completed_at: None,
            base_uploaded: 0,
            base_downloaded: 0,
            saved_bytes_done: 0,
            saved_total_bytes: 0,
            runner: Runner::Adding,
            magnet: None,
            queued: false,
        }
    }

    #[test]
    fn priority_first_then_the_order_of_adding() {
        let a = entry(1, Priority::Normal, 1000);
        let b = entry(2, Priority::Normal, 1001);
        let c = entry(3, Priority::Low, 500);
        let d = entry(4, Priority::High, 2000);
        let e = entry(5, Priority::High, 100);
        let f = entry(6, Priority::High, 100);
        let all = [
            (&a, Want::Slot),
            (&b, Want::Slot),
            (&c, Want::Slot),
            (&d, Want::Slot),
            (&e, Want::Undecided),
            (&f, Want::Nothing),
        ];
        let set = |ns: &[u8]| {
            ns.iter()
                .map(|n| InfoHash([*n; 20]))
                .collect::<HashSet<_>>()
        };
        assert_eq!(waiting(&all, 0), set(&[]), "0 = no cap");
        assert_eq!(waiting(&all, 1), set(&[1, 2, 3, 5]));
        assert_eq!(waiting(&all, 2), set(&[2, 3, 5]));
        assert_eq!(waiting(&all, 3), set(&[3, 5]));
        assert_eq!(waiting(&all, 9), set(&[5]), "undecided until checked");
    }

    #[test]
    fn a_held_torrent_is_undecided_while_checked() {
        use Engine::*;
        let mut e = entry(1, Priority::High, 0);
        assert_eq!(want(&e, Checking, false, false), Want::Slot, "running");
        e.queued = true;
        assert_eq!(want(&e, Checking, false, false), Want::Undecided);
        assert_eq!(want(&e, Paused, false, false), Want::Slot);
        assert_eq!(want(&e, Paused, false, true), Want::Nothing, "seeds");
        assert_eq!(want(&e, Downloading, true, false), Want::Nothing);
        assert_eq!(want(&e, Error, false, false), Want::Nothing);
        e.completed_at = Some(1);
        assert_eq!(want(&e, Checking, false, false), Want::Nothing);
        e.completed_at = None;
        e.paused = true;
        assert_eq!(want(&e, Paused, false, false), Want::Nothing);
    }
}
