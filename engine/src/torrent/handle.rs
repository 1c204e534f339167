//! The public, cloneable handle to one torrent.

use std::net::SocketAddr;
use std::sync::Arc;

use super::slot::{Slot, Stage};
use super::stream::{FileStream, StreamError};
use super::{lock, Control, Torrent};
use crate::metainfo::Metainfo;
use crate::selection::{FilePriority, SelectionState};
use crate::status::{Brief, FileStatus, PeerSource, PeerStatus, TorrentState, TorrentStatus};
use crate::{Bitfield, InfoHash};

/// A torrent in a [`crate::session::Session`]. Cheap to clone; all methods are snapshots
/// or requests, none block on I/O.
///
/// A torrent added as a magnet has no metainfo until its info dictionary arrives; the
/// handle stays the same across that change.
#[derive(Clone)]
pub struct TorrentHandle {
    pub(crate) slot: Arc<Slot>,
}

impl TorrentHandle {
    pub fn info_hash(&self) -> InfoHash {
        self.slot.info_hash
    }

    /// The metainfo, once known.
    pub fn metainfo(&self) -> Option<Arc<Metainfo>> {
        match self.slot.stage() {
            Stage::Live(t) => Some(t.meta.clone()),
            Stage::Metadata(_) | Stage::Failed(_) => None,
        }
    }

    /// The state, whether it failed and whether its wanted pieces are all verified: what a
    /// download queue needs, without the per-file and per-tracker work of [`Self::status`].
    pub fn brief(&self) -> Brief {
        let paused = *self.slot.control.borrow() == Control::Pause;
        match self.slot.stage() {
            Stage::Live(t) => {
                let sh = t.lock();
                Brief {
                    state: sh.state,
                    failed: sh.error.is_some(),
                    wanted_complete: sh.picker.is_complete(),
                }
            }
            Stage::Metadata(_) => Brief {
                state: if paused {
                    TorrentState::Paused
                } else {
                    TorrentState::FetchingMetadata
                },
                failed: false,
                wanted_complete: false,
            },
            Stage::Failed(_) => Brief {
                state: TorrentState::Error,
                failed: true,
                wanted_complete: false,
            },
        }
    }

    pub fn status(&self) -> TorrentStatus {
        let paused = *self.slot.control.borrow() == Control::Pause;
        let (state, error, peers, trackers) = match self.slot.stage() {
            Stage::Live(t) => return live_status(&t, &self.slot),
            Stage::Metadata(f) => {
                let state = if paused {
                    TorrentState::Paused
                } else {
                    TorrentState::FetchingMetadata
                };
                (state, None, f.peers().len(), Vec::new())
            }
            Stage::Failed(e) => (TorrentState::Error, Some(e), 0, Vec::new()),
        };
        let (download_limit, upload_limit) = self.slot.limits.get();
        let sel = self.slot.selection.get();
        TorrentStatus {
            info_hash: self.slot.info_hash,
            name: self.slot.name.clone(),
            state,
            error,
            total_bytes: 0,
            bytes_done: 0,
            downloaded: 0,
            uploaded: 0,
            wasted: 0,
            download_rate: 0,
            upload_rate: 0,
            peers,
            seeds: 0,
            pieces_done: 0,
            num_pieces: 0,
            files: Vec::new(),
            trackers,
            web_seeds: Vec::new(),
            eta_secs: None,
            download_limit,
            upload_limit,
            sequential: sel.sequential,
            first_last_piece: sel.first_last,
            super_seeding: false,
            wanted_bytes: 0,
            wanted_done: 0,
        }
    }

    pub fn peers(&self) -> Vec<PeerStatus> {
        match self.slot.stage() {
            Stage::Live(t) => live_peers(&t),
            Stage::Metadata(f) => f.peers(),
            Stage::Failed(_) => Vec::new(),
        }
    }

    /// Turns BEP 16 super-seeding on or off (it acts while the torrent seeds; peers that
    /// connect meanwhile are revealed pieces one at a time). False before the metadata.
    pub fn set_super_seeding(&self, on: bool) -> bool {
        match self.slot.stage() {
            Stage::Live(t) => {
                t.set_super_seed(on);
                true
            }
            Stage::Metadata(_) | Stage::Failed(_) => false,
        }
    }

    /// Whether super-seeding is wanted for this torrent.
    pub fn super_seeding(&self) -> bool {
        match self.slot.stage() {
            Stage::Live(t) => t.super_seed.load(std::sync::atomic::Ordering::Relaxed),
            Stage::Metadata(_) | Stage::Failed(_) => false,
        }
    }

    /// How the torrent's latest connections ended, oldest first (empty before metadata).
    pub fn recent_disconnects(&self) -> Vec<crate::status::PeerEnd> {
        match self.slot.stage() {
            Stage::Live(t) => t.lock().recent_ends.iter().cloned().collect(),
            Stage::Metadata(_) | Stage::Failed(_) => Vec::new(),
        }
    }

    /// Verified pieces (empty before the metadata is known).
    pub fn pieces(&self) -> Bitfield {
        match self.slot.stage() {
            Stage::Live(t) => t.lock().picker.have().clone(),
            _ => Bitfield::new(0),
        }
    }

    /// Disconnects peers and stops announcing until [`Self::resume`].
    pub fn pause(&self) {
        self.slot.control.send_if_modified(|c| {
            let change = *c == Control::Run;
            if change {
                *c = Control::Pause;
            }
            change
        });
    }

    pub fn resume(&self) {
        self.slot.control.send_if_modified(|c| {
            let change = *c == Control::Pause;
            if change {
                *c = Control::Run;
            }
            change
        });
    }

    /// Sets this torrent's limits in bytes per second (0 = unlimited), at once and without
    /// reconnecting. The session's limits apply as well; the stricter wins.
    pub fn set_rate_limits(&self, download: u64, upload: u64) {
        self.slot.limits.set(download, upload);
    }

    /// This torrent's `(download, upload)` limits, bytes per second, 0 = unlimited.
    pub fn rate_limits(&self) -> (u64, u64) {
        self.slot.limits.get()
    }

    /// Sets file priorities (index in torrent order; files not listed keep theirs) and, when
    /// given, sequential order. Takes effect at once on a running torrent: un-skipping a file
    /// of a finished torrent resumes downloading; a magnet applies it once its metadata
    /// arrives. The storage side (moving bytes out of the parts file) runs on a blocking
    /// thread; failures there fail the torrent like any storage error.
    pub fn set_selection(&self, priorities: &[(usize, FilePriority)], sequential: Option<bool>) {
        self.slot.selection.update(|s| {
            for &(i, p) in priorities {
                if s.priorities.len() <= i {
                    s.priorities.resize(i + 1, FilePriority::Normal);
                }
                s.priorities[i] = p;
            }
            if let Some(seq) = sequential {
                s.sequential = seq;
            }
        });
        self.reapply_selection();
    }

    /// Fetches the first and last piece of every wanted file first (previews), or stops doing
    /// so. Takes effect like [`TorrentHandle::set_selection`].
    pub fn set_first_last(&self, on: bool) {
        self.slot.selection.update(|s| s.first_last = on);
        self.reapply_selection();
    }

    /// Applies the slot's selection to a live torrent (a magnet applies it with its metadata).
    fn reapply_selection(&self) {
        if let Stage::Live(t) = self.slot.stage() {
            let apply = move || {
                if let Err(e) = t.apply_selection() {
                    t.fail(format!("applying the file selection: {e}"));
                }
            };
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => drop(rt.spawn_blocking(apply)),
                Err(_) => apply(),
            }
        }
    }

    /// The current file priorities and order flags.
    pub fn selection(&self) -> SelectionState {
        self.slot.selection.get()
    }

    /// Opens file `index` for reading while it downloads (see [`FileStream`]); un-skips it
    /// if it was skipped.
    pub fn open_file(&self, index: usize) -> Result<FileStream, StreamError> {
        let Stage::Live(t) = self.slot.stage() else {
            return Err(StreamError::NoMetadata);
        };
        let stream = t.open_stream(index)?;
        if t.file_skipped(index) {
            self.set_selection(&[(index, FilePriority::Normal)], None);
        }
        Ok(stream)
    }

    /// Dials these addresses (besides tracker peers), subject to the connection caps.
    pub fn add_peers(&self, peers: Vec<SocketAddr>) {
        match self.slot.stage() {
            Stage::Live(t) => t.learn_peers(&peers, PeerSource::User),
            Stage::Metadata(f) => f.add_peers(&peers, PeerSource::User),
            Stage::Failed(_) => {}
        }
    }
}

fn live_status(t: &Torrent, slot: &Slot) -> TorrentStatus {
    let (download_limit, upload_limit) = slot.limits.get();
    let trackers = lock(&t.trackers).clone();
    let sh = t.lock();
    let have = sh.picker.have();
    let done_per_file = t.storage.layout().file_bytes_done(have);
    let sel = slot.selection.get();
    let files: Vec<FileStatus> = t
        .meta
        .files
        .iter()
        .enumerate()
        .map(|(i, f)| FileStatus {
            path: f.path.clone(),
            length: f.length,
            bytes_done: done_per_file.get(i).copied().unwrap_or(0),
            priority: sel.priority(i),
        })
        .collect();
    let wanted = files.iter().filter(|f| f.priority != FilePriority::Skip);
    let (wanted_bytes, wanted_done) =
        wanted.fold((0, 0), |(b, d), f| (b + f.length, d + f.bytes_done));
    let left = wanted_bytes.saturating_sub(wanted_done);
    let eta_secs = match sh.state {
        TorrentState::Downloading if sh.stats.download_rate > 0 => {
            Some(left / sh.stats.download_rate)
        }
        TorrentState::Seeding => Some(0),
        _ => None,
    };
    TorrentStatus {
        info_hash: t.info_hash,
        name: t.meta.name.clone(),
        state: sh.state,
        error: sh.error.clone(),
        total_bytes: t.meta.total_length,
        bytes_done: sh.stats.bytes_done,
        downloaded: sh.stats.downloaded,
        uploaded: sh.stats.uploaded,
        wasted: sh.stats.wasted,
        download_rate: sh.stats.download_rate,
        upload_rate: sh.stats.upload_rate,
        peers: sh.peers.len(),
        seeds: sh.peers.values().filter(|p| p.is_seed()).count(),
        pieces_done: have.count_ones() as u32,
        num_pieces: t.num_pieces(),
        files,
        trackers,
        web_seeds: sh.web_seeds.statuses(std::time::Instant::now()),
        eta_secs,
        download_limit,
        upload_limit,
        sequential: sel.sequential,
        first_last_piece: sel.first_last,
        super_seeding: t.super_seed.load(std::sync::atomic::Ordering::Relaxed),
        wanted_bytes,
        wanted_done,
    }
}

fn live_peers(t: &Torrent) -> Vec<PeerStatus> {
    let sh = t.lock();
    sh.peers
        .values()
        .map(|p| PeerStatus {
            addr: p.addr,
            client: p.client.clone().unwrap_or_else(|| p.peer_id.client_name()),
            incoming: p.incoming,
            encrypted: p.encrypted,
            download_rate: p.down.rate(),
            upload_rate: p.up.rate(),
            downloaded: p.downloaded,
            uploaded: p.io.uploaded.load(std::sync::atomic::Ordering::Relaxed),
            am_choking: p.am_choking,
            am_interested: p.am_interested,
            peer_choking: p.peer_choking,
            peer_interested: p.peer_interested,
            pieces: p.bitfield.count_ones() as u32,
            source: p.source,
            fast: p.fast,
            extensions: p.ext != Default::default(),
            strikes: t.env.bans.strikes(p.addr.ip()),
        })
        .collect()
}

impl std::fmt::Debug for TorrentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TorrentHandle({})", self.slot.info_hash)
    }
}
