//! The torrent's side of fast resume (`crate::resume`): plan the start's check from the last
//! record, record the check's progress so a killed check continues, and save after pieces
//! are verified, at completion and at stop.
//!
//! Order of a save: stat the files, snapshot `have`, `fsync` the data, write the record. A
//! piece in the snapshot was written before it was marked verified, and the `fsync` comes
//! after the snapshot, so the record never claims data a crash could lose.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Torrent;
use crate::resume::{plan, CheckPlan, ResumeState};
use crate::storage::{FileStat, StorageError};
use crate::Bitfield;

/// Pieces verified since the last save are recorded this often (a crash loses at most this
/// much bookkeeping; the data itself is found again by the next start's plan).
pub(super) const SAVE_EVERY: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct ResumeTrack {
    /// A piece was verified since the last save.
    dirty: AtomicBool,
    /// The start's check finished; until then only the check records progress.
    ready: AtomicBool,
    /// One save at a time (they run on blocking threads); holds the last save's time.
    last: Mutex<Option<Instant>>,
    /// Payload totals of earlier runs (from the record), added to this run's in each save.
    carried: Mutex<(u64, u64)>,
    /// When this process began hashing the files to make the metainfo (see
    /// `AddTorrentOptions::created_at`).
    created_at: Mutex<Option<SystemTime>>,
}

/// Filesystem timestamps come from a coarse clock: a write during the creation's hashing may
/// carry an mtime a little before the hashing began. Files this close are hashed again.
const MTIME_SLACK: Duration = Duration::from_secs(1);

impl Torrent {
    /// What the start must hash. Blocking (file stats, `SEEK_DATA`).
    pub(super) fn check_plan(&self) -> Result<CheckPlan, StorageError> {
        let n = self.num_pieces();
        let created_at = *super::lock(&self.resume.created_at);
        if self.env.resume.is_none() && created_at.is_none() {
            return Ok(CheckPlan::full(n));
        }
        let now = self.storage.file_stats()?;
        let saved = self
            .env
            .resume
            .as_ref()
            .and_then(|store| store.load(&self.info_hash))
            .or_else(|| created_at.map(|at| self.created_record(&now, at)));
        let layout = self.storage.layout();
        let has_data = |p: u32| {
            layout.segments(p, 0, layout.piece_len(p)).any(|s| {
                self.storage
                    .range_has_data(s.file_index, s.file_offset, u64::from(s.len))
            })
        };
        let plan = plan(saved.as_ref(), layout, &now, &has_data);
        if let Some(s) = &saved {
            *super::lock(&self.resume.carried) = (s.uploaded, s.downloaded);
        }
        tracing::info!(
            torrent = %self.info_hash,
            record = saved.is_some(),
            trusted = plan.have.count_ones(),
            to_hash = plan.hash.count_ones(),
            of = n,
            "resume plan"
        );
        Ok(plan)
    }

    /// See `AddTorrentOptions::created_at`; set before the torrent starts.
    pub(crate) fn trust_created(&self, at: Option<SystemTime>) {
        *super::lock(&self.resume.created_at) = at;
    }

    /// What creating the metainfo proved: every piece good, in files that are the torrent's
    /// size and unmodified since the hashing began (the others are left for the check).
    fn created_record(&self, now: &[Option<FileStat>], at: SystemTime) -> ResumeState {
        let since_ns = at
            .checked_sub(MTIME_SLACK)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let layout = self.storage.layout();
        let n = self.num_pieces() as usize;
        ResumeState {
            info_hash: self.info_hash,
            have: Bitfield::full(n),
            checked: Bitfield::full(n),
            files: now
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    st.filter(|st| st.size == layout.file_length(i) && st.mtime_ns < since_ns)
                })
                .collect(),
            uploaded: 0,
            downloaded: 0,
        }
    }

    /// Records a check in progress: `have` so far, and which pieces are settled. Blocking.
    pub(super) fn save_check_progress(&self, have: &Bitfield, checked: &Bitfield) {
        self.write_record(|| (have.clone(), checked.clone()), false);
    }

    /// The check is done: from now on saves record the picker's pieces.
    pub(super) fn resume_ready(&self) {
        self.resume.ready.store(true, Ordering::Release);
    }

    /// A piece was verified and written.
    pub(super) fn resume_dirty(&self) {
        self.resume.dirty.store(true, Ordering::Release);
    }

    /// Saves on a blocking thread if pieces were verified and the last save is old enough.
    pub(super) fn maybe_save_resume(self: &Arc<Self>, now: Instant) {
        if self.env.resume.is_none() || !self.resume.dirty.load(Ordering::Acquire) {
            return;
        }
        // Runs on the driver task: never wait for a save's fsync. A save still running counts
        // as recent, so saves do not queue up either.
        let recent = match self.resume.last.try_lock() {
            Ok(last) => last.is_some_and(|t| now.duration_since(t) < SAVE_EVERY),
            Err(std::sync::TryLockError::Poisoned(e)) => e
                .into_inner()
                .is_some_and(|t| now.duration_since(t) < SAVE_EVERY),
            Err(std::sync::TryLockError::WouldBlock) => true,
        };
        if !recent {
            let t = self.clone();
            tokio::task::spawn_blocking(move || t.save_resume());
        }
    }

    /// Saves the running torrent's record (after the check; else a no-op). Blocking.
    pub(crate) fn save_resume(&self) {
        if !self.resume.ready.load(Ordering::Acquire) {
            return;
        }
        self.resume.dirty.store(false, Ordering::Release);
        let n = self.num_pieces() as usize;
        self.write_record(
            || (self.lock().picker.have().clone(), Bitfield::full(n)),
            true,
        );
    }

    /// Stat, snapshot, `fsync`, write (see the module note). Failures are logged: the
    /// previous record stays, which at worst costs a recheck.
    fn write_record(&self, snapshot: impl FnOnce() -> (Bitfield, Bitfield), sync: bool) {
        let Some(store) = &self.env.resume else {
            return;
        };
        let mut last = super::lock(&self.resume.last);
        let files = match self.storage.file_stats() {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(torrent = %self.info_hash, "resume: cannot stat files: {e}");
                return;
            }
        };
        let (have, checked) = snapshot();
        let stats = self.lock().stats;
        let (up0, down0) = *super::lock(&self.resume.carried);
        if sync {
            if let Err(e) = self.storage.sync_all() {
                tracing::warn!(torrent = %self.info_hash, "resume: fsync failed: {e}");
                return;
            }
        }
        let record = ResumeState {
            info_hash: self.info_hash,
            have,
            checked,
            files,
            uploaded: up0.saturating_add(stats.uploaded),
            downloaded: down0.saturating_add(stats.downloaded),
        };
        match store.save(&record) {
            Ok(()) => *last = Some(Instant::now()),
            Err(e) => tracing::warn!(torrent = %self.info_hash, "resume: cannot save: {e}"),
        }
    }
}
