//! Completed pieces: hash and write on a session hashing thread, then publish the result.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::assembly::{contributors, DonePiece, PieceBuf};
use super::smart_ban::{self, Failure};
use super::{lock, Control, Torrent};
use crate::events::Event;
use crate::peer::{Out, WriterCmd};
use crate::status::TorrentState;
use crate::storage::verify::sha1_piece;
use crate::wire::Message;

enum Verdict {
    Good,
    Corrupt,
    WriteFailed(String),
    Dropped,
}

impl Torrent {
    /// Hands whole pieces to the session's hashing threads.
    pub fn spawn_verify(self: &Arc<Self>, done: impl Iterator<Item = DonePiece>) {
        for piece in done {
            let t = self.clone();
            self.env.hashers.submit(move || t.verify_piece(piece));
        }
    }

    /// Hashes and stores one piece, then publishes the verdict. Runs on a hashing thread.
    fn verify_piece(&self, done: DonePiece) {
        let DonePiece {
            piece,
            buf: PieceBuf { data, senders, .. },
        } = done;
        let Some(expected) = self.meta.piece_hashes.get(piece as usize).copied() else {
            return;
        };
        let checked = catch_unwind(AssertUnwindSafe(|| {
            if sha1_piece(&data) != expected {
                Verdict::Corrupt
            } else if *self.control.borrow() == Control::Stop {
                // Removed meanwhile (maybe with its files deleted): do not recreate them.
                Verdict::Dropped
            } else {
                let _serial = super::lock(&self.write_lock);
                match self.storage.write_piece(piece, &data) {
                    Ok(()) => Verdict::Good,
                    Err(e) => Verdict::WriteFailed(e.to_string()),
                }
            }
        }));
        let Ok(verdict) = checked else {
            self.fail(format!("hashing piece {piece} failed: worker panicked"));
            return;
        };
        // Smart ban, still on the hashing thread and outside the torrent lock.
        let mut convicted = Vec::new();
        match verdict {
            Verdict::Good => convicted = lock(&self.smart_ban).resolve(piece, &data),
            Verdict::Corrupt => match smart_ban::on_failure(&data, &senders) {
                Some(Failure::Sole(ip)) => convicted.push(ip),
                Some(Failure::Shared(records)) => lock(&self.smart_ban).record(piece, records),
                None => {}
            },
            Verdict::Dropped | Verdict::WriteFailed(_) => {}
        }
        for ip in convicted {
            self.strike(ip);
        }
        let len = data.len() as u64;
        let mut guard = self.lock();
        let sh = &mut *guard;
        sh.assembly.recycle(data, &self.env.buffers);
        match verdict {
            Verdict::Good => {
                sh.picker.piece_verified(piece);
                self.verified.send_modify(|n| *n += 1);
                sh.stats.bytes_done += len;
                self.env.emit(Event::PieceVerified {
                    info_hash: self.info_hash,
                    piece,
                });
                for p in sh.peers.values_mut() {
                    p.haves.push(piece);
                }
                self.resume_dirty();
                if sh.picker.is_complete() && sh.state == TorrentState::Downloading {
                    self.on_complete(sh);
                    drop(guard);
                    // No piece writes a zero-length file: create them now.
                    if let Err(e) = self.storage.create_empty_files() {
                        tracing::warn!(torrent = %self.info_hash, error = %e, "creating empty files");
                    }
                    // Completed means on disk: fsync and record before anyone is told.
                    self.save_resume();
                    self.env.emit(Event::Completed {
                        info_hash: self.info_hash,
                    });
                } else {
                    self.top_up_all(sh);
                }
            }
            Verdict::Corrupt => {
                sh.picker.piece_failed(piece);
                sh.stats.wasted += len;
                self.top_up_all(sh);
                drop(guard);
                let peers = contributors(&senders);
                tracing::warn!(torrent = %self.info_hash, piece, ?peers, "piece failed hash check");
                self.env.emit(Event::PieceFailed {
                    info_hash: self.info_hash,
                    piece,
                    peers,
                });
            }
            Verdict::Dropped => {}
            Verdict::WriteFailed(e) => {
                sh.picker.piece_failed(piece);
                drop(guard);
                self.fail(format!("writing piece {piece}: {e}"));
            }
        }
    }

    /// Download finished: become a seed, tell the tracker, drop peers that are seeds too.
    /// (The caller emits `Completed` once the data is synced.)
    pub(super) fn on_complete(&self, sh: &mut super::shared::Shared) {
        self.set_state(sh, TorrentState::Seeding);
        self.env.buffers.trim();
        self.completed_wake.notify_one();
        for p in sh.peers.values_mut() {
            if p.is_seed() {
                p.disconnect();
                continue;
            }
            let mut out = Vec::new();
            p.take_haves(&mut out);
            if p.am_interested {
                p.am_interested = false;
                out.push(Out::Msg(Message::NotInterested));
            }
            if !out.is_empty() {
                p.send(WriterCmd::Batch(out));
            }
        }
        tracing::info!(torrent = %self.info_hash, "download complete");
    }
}
