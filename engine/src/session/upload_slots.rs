//! The session-wide cap on upload slots (unchoked peers across all torrents).
//!
//! Each torrent asks once per choke round for the slots it wants and gets what is left
//! beside the other torrents' holdings; a removed torrent releases its share. Holdings are
//! set, never counted up and down per peer, so a missed release cannot leak a slot for
//! longer than one round of the torrent that held it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::torrent::lock;
use crate::InfoHash;

#[derive(Default)]
struct Held {
    by_torrent: HashMap<InfoHash, usize>,
    total: usize,
}

pub(crate) struct UploadSlots {
    /// Slots for the whole session; 0 = no cap.
    cap: AtomicUsize,
    /// Slots per torrent.
    per_torrent: AtomicUsize,
    held: Mutex<Held>,
}

impl UploadSlots {
    pub fn new(per_torrent: usize, cap: usize) -> Self {
        UploadSlots {
            cap: AtomicUsize::new(cap),
            per_torrent: AtomicUsize::new(per_torrent.max(1)),
            held: Mutex::default(),
        }
    }

    pub fn set(&self, per_torrent: usize, cap: usize) {
        self.per_torrent
            .store(per_torrent.max(1), Ordering::Relaxed);
        self.cap.store(cap, Ordering::Relaxed);
    }

    pub fn per_torrent(&self) -> usize {
        self.per_torrent.load(Ordering::Relaxed)
    }

    pub fn cap(&self) -> usize {
        self.cap.load(Ordering::Relaxed)
    }

    /// Sets `ih`'s holding to `want` or as much of it as the cap leaves; returns the grant.
    pub fn grant(&self, ih: InfoHash, want: usize) -> usize {
        let cap = self.cap();
        let mut h = lock(&self.held);
        let mine = h.by_torrent.get(&ih).copied().unwrap_or(0);
        let others = h.total - mine;
        let granted = if cap == 0 {
            want
        } else {
            want.min(cap.saturating_sub(others))
        };
        h.total = others + granted;
        if granted == 0 {
            h.by_torrent.remove(&ih);
        } else {
            h.by_torrent.insert(ih, granted);
        }
        granted
    }

    pub fn release(&self, ih: InfoHash) {
        self.grant(ih, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torrents_share_the_cap_and_release_it() {
        let s = UploadSlots::new(8, 10);
        let (a, b) = (InfoHash([1; 20]), InfoHash([2; 20]));
        assert_eq!(s.grant(a, 8), 8);
        assert_eq!(s.grant(b, 8), 2, "what a leaves");
        assert_eq!(s.grant(a, 3), 3, "a shrinks");
        assert_eq!(s.grant(b, 8), 7);
        s.release(a);
        assert_eq!(s.grant(b, 8), 8);
        s.set(8, 0);
        assert_eq!(s.grant(a, 50), 50, "0 = no cap");
    }
}
