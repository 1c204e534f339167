//! Completed pieces: hash and write on a blocking worker, then publish the result.

use std::sync::Arc;

use super::assembly::{DonePiece, PieceBuf};
use super::{Control, Torrent};
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
    /// Hands whole pieces to hashing workers (at most `hash_threads` at once, session-wide).
    pub fn spawn_verify(self: &Arc<Self>, done: impl Iterator<Item = DonePiece>) {
        for piece in done {
            tokio::spawn(self.clone().verify_piece(piece));
        }
    }

    async fn verify_piece(self: Arc<Self>, done: DonePiece) {
        let DonePiece {
            piece,
            buf: PieceBuf {
                data, contributors, ..
            },
        } = done;
        let Some(expected) = self.meta.piece_hashes.get(piece as usize).copied() else {
            return;
        };
        let Ok(_permit) = self.env.hashers.clone().acquire_owned().await else {
            return;
        };
        let storage = self.storage.clone();
        let mut stopped = self.control.subscribe();
        let write_lock = self.write_lock.clone();
        let job = tokio::task::spawn_blocking(move || {
            let verdict = if sha1_piece(&data) != expected {
                Verdict::Corrupt
            } else if *stopped.borrow_and_update() == Control::Stop {
                // Removed meanwhile (maybe with its files deleted): do not recreate them.
                Verdict::Dropped
            } else {
                let _serial = super::lock(&write_lock);
                match storage.write_piece(piece, &data) {
                    Ok(()) => Verdict::Good,
                    Err(e) => Verdict::WriteFailed(e.to_string()),
                }
            };
            (data, verdict)
        });
        let (data, verdict) = match job.await {
            Ok(r) => r,
            Err(e) => {
                self.fail(format!("hashing piece {piece} failed: {e}"));
                return;
            }
        };
        let len = data.len() as u64;
        let mut guard = self.lock();
        let sh = &mut *guard;
        sh.assembly.recycle(data, &self.env.buffers);
        match verdict {
            Verdict::Good => {
                sh.picker.piece_verified(piece);
                sh.stats.bytes_done += len;
                for p in sh.peers.values() {
                    p.send(WriterCmd::One(Out::Msg(Message::Have(piece))));
                }
                self.env.emit(Event::PieceVerified {
                    info_hash: self.info_hash,
                    piece,
                });
                if sh.picker.is_complete() && sh.state == TorrentState::Downloading {
                    self.on_complete(sh);
                } else {
                    self.top_up_all(sh);
                }
            }
            Verdict::Corrupt => {
                sh.picker.piece_failed(piece);
                sh.stats.wasted += len;
                self.top_up_all(sh);
                drop(guard);
                tracing::warn!(torrent = %self.info_hash, piece, ?contributors, "piece failed hash check");
                self.env.emit(Event::PieceFailed {
                    info_hash: self.info_hash,
                    piece,
                    peers: contributors,
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
    fn on_complete(&self, sh: &mut super::shared::Shared) {
        self.set_state(sh, TorrentState::Seeding);
        self.env.emit(Event::Completed {
            info_hash: self.info_hash,
        });
        self.completed_wake.notify_one();
        for p in sh.peers.values_mut() {
            if p.is_seed() {
                p.disconnect();
                continue;
            }
            if p.am_interested {
                p.am_interested = false;
                p.send(WriterCmd::One(Out::Msg(Message::NotInterested)));
            }
        }
        tracing::info!(torrent = %self.info_hash, "download complete");
    }
}
