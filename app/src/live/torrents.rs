//! The torrents the signed-in user sees, one signal per row: a progress event re-renders its
//! own row, not the list, which keeps a 500-torrent table smooth.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::reactive::owner::WeakOwner;

use crate::format::eta_secs;
use crate::types::{
    ErrorUpdate, LabelsUpdate, ProgressUpdate, StateUpdate, TorrentState, TorrentSummary,
};

/// A paused or queued torrent moves nothing; the server's rates lag such a change by a tick.
fn still_if_stopped(t: &mut TorrentSummary) {
    if matches!(t.state, TorrentState::Paused | TorrentState::Queued) {
        t.download_rate = 0;
        t.upload_rate = 0;
        t.eta_secs = None;
    }
}

#[derive(Clone, Copy)]
pub struct TorrentStore {
    /// Info-hashes, in the order the server listed them (newest added last).
    ids: RwSignal<Vec<String>>,
    rows: StoredValue<HashMap<String, RwSignal<TorrentSummary>>>,
    /// Piece indices verified since the detail page last looked, for the torrent it watches.
    watched: StoredValue<Option<(String, Vec<u32>)>>,
    pieces_tick: RwSignal<u64>,
    /// The root's owner: row signals must outlive whichever page first loaded them. Weak,
    /// so the store does not keep its own owner alive.
    owner: StoredValue<WeakOwner>,
}

impl Default for TorrentStore {
    fn default() -> Self {
        TorrentStore {
            ids: RwSignal::new(Vec::new()),
            rows: StoredValue::new(HashMap::new()),
            watched: StoredValue::new(None),
            pieces_tick: RwSignal::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default().downgrade()),
        }
    }
}

impl TorrentStore {
    /// Replaces everything with a fresh list from the server, keeping the row signals of
    /// torrents that are still there.
    pub fn seed(&self, list: Vec<TorrentSummary>) {
        let ids: Vec<String> = list.iter().map(|t| t.info_hash.clone()).collect();
        self.rows.update_value(|rows| {
            rows.retain(|k, sig| {
                let keep = ids.contains(k);
                if !keep {
                    sig.dispose();
                }
                keep
            });
            for t in list {
                match rows.get(&t.info_hash) {
                    // Only real changes notify: a page re-seeding the same list stays quiet.
                    Some(sig) if sig.with_untracked(|old| *old != t) => sig.set(t),
                    Some(_) => {}
                    None => {
                        rows.insert(t.info_hash.clone(), self.new_row(t));
                    }
                }
            }
        });
        if self.ids.get_untracked() != ids {
            self.ids.set(ids);
        }
    }

    fn new_row(&self, t: TorrentSummary) -> RwSignal<TorrentSummary> {
        match self.owner.with_value(WeakOwner::upgrade) {
            Some(owner) => owner.with(|| RwSignal::new(t)),
            None => RwSignal::new(t),
        }
    }

    pub fn ids(&self) -> Vec<String> {
        self.ids.get()
    }

    pub fn len(&self) -> usize {
        self.ids.with(Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn row(&self, info_hash: &str) -> Option<RwSignal<TorrentSummary>> {
        self.rows.with_value(|rows| rows.get(info_hash).copied())
    }

    /// Every row's signal, tracked: for totals and counts.
    pub fn all(&self) -> Vec<RwSignal<TorrentSummary>> {
        self.ids
            .with(|ids| ids.iter().filter_map(|id| self.row(id)).collect())
    }

    pub fn upsert(&self, mut t: TorrentSummary) {
        still_if_stopped(&mut t);
        if let Some(sig) = self.row(&t.info_hash) {
            sig.set(t);
            return;
        }
        let id = t.info_hash.clone();
        let sig = self.new_row(t);
        self.rows.update_value(|rows| {
            rows.insert(id.clone(), sig);
        });
        self.ids.update(|ids| ids.push(id));
    }

    pub fn remove(&self, info_hash: &str) {
        // The row's signal lives in the root's arena: free it.
        if let Some(sig) = self
            .rows
            .try_update_value(|rows| rows.remove(info_hash))
            .flatten()
        {
            sig.dispose();
        }
        self.ids.update(|ids| ids.retain(|i| i != info_hash));
    }

    pub fn progress(&self, p: ProgressUpdate) {
        if let Some(sig) = self.row(&p.info_hash) {
            sig.update(|t| {
                t.bytes_done = p.bytes_done;
                t.total_bytes = p.total_bytes;
                t.progress = p.progress;
                t.download_rate = p.download_rate;
                t.upload_rate = p.upload_rate;
                t.peers = p.peers;
                t.eta_secs = eta_secs(p.total_bytes, p.bytes_done, p.download_rate);
            });
        }
    }

    pub fn state(&self, s: StateUpdate) {
        if let Some(sig) = self.row(&s.info_hash) {
            sig.update(|t| {
                t.state = s.state;
                if s.state != TorrentState::Error {
                    t.error = None;
                }
                if let Some(p) = s.priority {
                    t.priority = p;
                }
                still_if_stopped(t);
            });
        }
    }

    pub fn complete(&self, info_hash: &str, now_secs: i64) {
        if let Some(sig) = self.row(info_hash) {
            sig.update(|t| {
                t.bytes_done = t.total_bytes;
                t.progress = 1.0;
                t.eta_secs = Some(0);
                // Nothing left to download: the last progress event's rate is history.
                t.download_rate = 0;
                t.completed_at.get_or_insert(now_secs);
            });
        }
    }

    /// `torrent:labels`: a new category or tags.
    pub fn labels(&self, l: LabelsUpdate) {
        if let Some(sig) = self.row(&l.info_hash) {
            sig.update(|t| {
                t.category = l.category;
                t.tags = l.tags;
            });
        }
    }

    pub fn error(&self, e: ErrorUpdate) {
        if let Some(sig) = self.row(&e.info_hash) {
            sig.update(|t| {
                t.state = TorrentState::Error;
                t.error = Some(e.message);
            });
        }
    }

    /// The detail page asks for the piece events of one torrent.
    pub fn watch_pieces(&self, info_hash: Option<String>) {
        self.watched.set_value(info_hash.map(|h| (h, Vec::new())));
    }

    pub fn pieces(&self, info_hash: &str, pieces: &[u32]) {
        let mut hit = false;
        self.watched.update_value(|w| {
            if let Some((h, pending)) = w {
                if h == info_hash {
                    pending.extend_from_slice(pieces);
                    hit = true;
                }
            }
        });
        if hit {
            self.pieces_tick.update(|n| *n += 1);
        }
    }

    /// Pieces verified since the last call (tracks new arrivals).
    pub fn take_pieces(&self) -> Vec<u32> {
        self.pieces_tick.track();
        let mut out = Vec::new();
        self.watched.update_value(|w| {
            if let Some((_, pending)) = w {
                out = std::mem::take(pending);
            }
        });
        out
    }
}
