//! The public, cloneable handle to one torrent.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{lock, Control, Torrent};
use crate::metainfo::Metainfo;
use crate::status::{FileStatus, PeerStatus, TorrentState, TorrentStatus};
use crate::{Bitfield, InfoHash};

/// A torrent in a [`crate::session::Session`]. Cheap to clone; all methods are snapshots
/// or requests, none block on I/O.
#[derive(Clone)]
pub struct TorrentHandle {
    pub(crate) t: Arc<Torrent>,
}

impl TorrentHandle {
    pub fn info_hash(&self) -> InfoHash {
        self.t.info_hash
    }

    pub fn metainfo(&self) -> Arc<Metainfo> {
        self.t.meta.clone()
    }

    pub fn status(&self) -> TorrentStatus {
        let t = &self.t;
        let trackers = lock(&t.trackers).clone();
        let sh = t.lock();
        let have = sh.picker.have();
        let done_per_file = t.storage.layout().file_bytes_done(have);
        let files = t
            .meta
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| FileStatus {
                path: f.path.clone(),
                length: f.length,
                bytes_done: done_per_file.get(i).copied().unwrap_or(0),
            })
            .collect();
        let left = t.meta.total_length.saturating_sub(sh.stats.bytes_done);
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
            eta_secs,
        }
    }

    pub fn peers(&self) -> Vec<PeerStatus> {
        let sh = self.t.lock();
        sh.peers
            .values()
            .map(|p| PeerStatus {
                addr: p.addr,
                client: p.peer_id.client_name(),
                incoming: p.incoming,
                download_rate: p.down.rate(),
                upload_rate: p.up.rate(),
                downloaded: p.downloaded,
                uploaded: p.io.uploaded.load(std::sync::atomic::Ordering::Relaxed),
                am_choking: p.am_choking,
                am_interested: p.am_interested,
                peer_choking: p.peer_choking,
                peer_interested: p.peer_interested,
                pieces: p.bitfield.count_ones() as u32,
            })
            .collect()
    }

    /// Verified pieces.
    pub fn pieces(&self) -> Bitfield {
        self.t.lock().picker.have().clone()
    }

    /// Disconnects peers and stops announcing until [`Self::resume`].
    pub fn pause(&self) {
        self.t.control.send_if_modified(|c| {
            let change = *c == Control::Run;
            if change {
                *c = Control::Pause;
            }
            change
        });
    }

    pub fn resume(&self) {
        self.t.control.send_if_modified(|c| {
            let change = *c == Control::Pause;
            if change {
                *c = Control::Run;
            }
            change
        });
    }

    /// Dials these addresses (besides tracker peers), subject to the connection caps.
    pub fn add_peers(&self, peers: Vec<SocketAddr>) {
        self.t.learn_peers(&peers);
    }
}

impl std::fmt::Debug for TorrentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TorrentHandle({})", self.t.info_hash)
    }
}
