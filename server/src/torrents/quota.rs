//! Per-user quotas: how many torrents a user may hold and how many bytes their torrents may
//! add up to (`MAX_TORRENTS_PER_USER`, `MAX_DISK_PER_USER`; 0 = no limit). Admins are exempt.
//!
//! The size of a torrent is what it will occupy when complete; a magnet counts as a torrent
//! at once and with its size once its metadata is known.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Library, LibraryError};
use crate::auth::AuthUser;

/// The limits, changeable at run time.
#[derive(Default)]
pub struct Quotas {
    max_torrents: AtomicU64,
    max_bytes: AtomicU64,
}

impl Quotas {
    pub fn set(&self, max_torrents: u64, max_bytes: u64) {
        self.max_torrents.store(max_torrents, Ordering::Relaxed);
        self.max_bytes.store(max_bytes, Ordering::Relaxed);
    }
}

/// Whether `have` torrents of `used` bytes plus one more of `adding` bytes fit the limits.
fn check(
    max_torrents: u64,
    max_bytes: u64,
    have: u64,
    used: u64,
    adding: u64,
) -> Result<(), LibraryError> {
    if max_torrents > 0 && have >= max_torrents {
        return Err(LibraryError::Quota(format!(
            "you may hold at most {max_torrents} torrents"
        )));
    }
    if max_bytes > 0 && used.saturating_add(adding) > max_bytes {
        return Err(LibraryError::Quota(format!(
            "your torrents may take at most {max_bytes} bytes ({used} used, this one needs {adding})"
        )));
    }
    Ok(())
}

impl Library {
    /// Sets `MAX_TORRENTS_PER_USER` and `MAX_DISK_PER_USER`.
    pub fn set_quotas(&self, max_torrents: u64, max_bytes: u64) {
        self.quotas.set(max_torrents, max_bytes);
    }

    /// Refuses a new torrent of `bytes` for `user` beyond their quota.
    pub fn check_quota(&self, user: &AuthUser, bytes: u64) -> Result<(), LibraryError> {
        if user.is_admin() {
            return Ok(());
        }
        let max_torrents = self.quotas.max_torrents.load(Ordering::Relaxed);
        let max_bytes = self.quotas.max_bytes.load(Ordering::Relaxed);
        if max_torrents == 0 && max_bytes == 0 {
            return Ok(());
        }
        let mine = self.registry.filtered(|e| e.owner_id == user.id);
        let used = mine.iter().map(|e| e.saved_total_bytes).sum();
        check(max_torrents, max_bytes, mine.len() as u64, used, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(check(0, 0, 1000, u64::MAX, 5).is_ok(), "no limits");
        assert!(check(2, 0, 1, 0, 0).is_ok());
        assert!(matches!(check(2, 0, 2, 0, 0), Err(LibraryError::Quota(_))));
        assert!(check(0, 100, 3, 60, 40).is_ok());
        assert!(matches!(
            check(0, 100, 3, 60, 41),
            Err(LibraryError::Quota(_))
        ));
        assert!(matches!(
            check(0, 100, 0, u64::MAX, 1),
            Err(LibraryError::Quota(_))
        ));
    }
}
