//! Per-user accounting of open `/api/events` streams, and the signal that makes a user's
//! streams check their session again (logout, password change).
//!
//! A stream is authenticated once, when it opens, but may stay open for days: without a
//! re-check, a token revoked by logout or a password change (or a deleted user) would keep
//! receiving events. And without a cap, one account could hold thousands of streams.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

/// Streams one user may hold open at once (a dashboard tab holds one).
pub const MAX_STREAMS_PER_USER: usize = 16;

/// Open streams per user, and the revocation signal.
pub struct Streams {
    open: Arc<Mutex<HashMap<i64, usize>>>,
    revoked: broadcast::Sender<i64>,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            open: Arc::default(),
            revoked: broadcast::channel(64).0,
        }
    }
}

/// One open stream of a user; the slot is given back when this is dropped.
pub struct Slot {
    open: Arc<Mutex<HashMap<i64, usize>>>,
    user_id: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

impl Streams {
    /// Open streams of all users.
    pub fn total(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.values().sum()
    }

    /// A slot for a new stream of `user_id`, or `None` when the user has the most allowed.
    pub fn open(&self, user_id: i64) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(user_id).or_insert(0);
        if *n >= MAX_STREAMS_PER_USER {
            return None;
        }
        *n += 1;
        Some(Slot {
            open: self.open.clone(),
            user_id,
        })
    }

    /// Tells `user_id`'s streams that their session may have ended.
    pub fn revoke(&self, user_id: i64) {
        let _ = self.revoked.send(user_id);
    }

    pub fn revocations(&self) -> broadcast::Receiver<i64> {
        self.revoked.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_per_user_and_slots_come_back() {
        let s = Streams::default();
        let mut held: Vec<Slot> = (0..MAX_STREAMS_PER_USER)
            .map(|_| s.open(1).unwrap())
            .collect();
        assert!(s.open(1).is_none(), "over the cap");
        assert!(s.open(2).is_some(), "other users are not affected");
        held.pop();
        assert!(s.open(1).is_some(), "a closed stream frees its slot");
    }
}
