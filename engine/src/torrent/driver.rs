//! A torrent's lifecycle: check existing data, then run (tick, dial, announce) or sit
//! paused, until stopped.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use super::{announce, dht_lookup, web_seeds, Control, Torrent};
use crate::status::TorrentState;
use crate::storage::{recheck_selected, StorageError};
use crate::Bitfield;

const TICK: Duration = Duration::from_secs(1);
/// A running check records its progress this often.
const CHECK_SAVE_EVERY: Duration = Duration::from_secs(2);

pub(crate) async fn run(t: Arc<Torrent>) {
    let mut ctl = t.control.subscribe();
    let checked = t.check().await;
    loop {
        let want = *ctl.borrow_and_update();
        if want == Control::Stop {
            break;
        }
        let failed = !checked || t.lock().state == TorrentState::Error;
        if want == Control::Pause && !failed {
            let mut sh = t.lock();
            t.set_state(&mut sh, TorrentState::Paused);
        }
        if want == Control::Run && !failed {
            t.run_live(&mut ctl).await;
            continue;
        }
        if ctl.changed().await.is_err() {
            break;
        }
    }
    t.go_offline();
}

impl Torrent {
    /// Hashes whatever is already on disk; false if storage failed.
    async fn check(self: &Arc<Self>) -> bool {
        {
            let mut sh = self.lock();
            self.set_state(&mut sh, TorrentState::Checking);
        }
        let t = self.clone();
        let have = match tokio::task::spawn_blocking(move || t.check_blocking()).await {
            Ok(Ok(have)) => have,
            Ok(Err(e)) => {
                self.fail(format!("checking existing data: {e}"));
                return false;
            }
            Err(e) => {
                self.fail(format!("checking existing data: {e}"));
                return false;
            }
        };
        let bytes_done = have
            .iter_ones()
            .map(|i| self.piece_size(i as u32) as u64)
            .sum();
        {
            let mut sh = self.lock();
            sh.picker.set_have(&have);
            sh.stats.bytes_done = bytes_done;
        }
        self.verified.send_modify(|n| *n += 1);
        tracing::info!(torrent = %self.info_hash, pieces = have.count_ones(), of = have.len(), "checked");
        self.resume_ready();
        // Recorded in the background: the torrent need not wait for the fsyncs to run.
        let t = self.clone();
        tokio::task::spawn_blocking(move || t.save_resume());
        true
    }

    /// Plans from the resume record, hashes what the plan says, and records progress every
    /// [`CHECK_SAVE_EVERY`] so a killed check continues where it stopped.
    fn check_blocking(&self) -> Result<Bitfield, StorageError> {
        let plan = self.check_plan()?;
        let n = plan.hash.len();
        let mut checked = Bitfield::new(n);
        for i in (0..n).filter(|&i| !plan.hash.get(i)) {
            checked.set(i);
        }
        // (have so far, settled pieces, last save)
        let progress = Mutex::new((plan.have.clone(), checked, Instant::now()));
        let found = recheck_selected(
            &self.storage,
            &self.meta.piece_hashes,
            self.env.config.hash_threads(),
            &plan.hash,
            &|piece, good| {
                let mut p = super::lock(&progress);
                if good {
                    p.0.set(piece as usize);
                }
                p.1.set(piece as usize);
                if p.2.elapsed() >= CHECK_SAVE_EVERY {
                    p.2 = Instant::now();
                    self.save_check_progress(&p.0, &p.1);
                }
            },
        )?;
        let mut have = plan.have;
        for p in found.iter_ones() {
            have.set(p);
        }
        Ok(have)
    }

    /// Runs until the control value leaves `Run` or the torrent fails.
    async fn run_live(self: &Arc<Self>, ctl: &mut watch::Receiver<Control>) {
        {
            let mut sh = self.lock();
            let state = if sh.picker.is_complete() {
                TorrentState::Seeding
            } else {
                TorrentState::Downloading
            };
            self.set_state(&mut sh, state);
            sh.accepting = true;
            sh.book.reset_backoff(Instant::now());
        }
        let tracker = tokio::spawn(announce::run(self.clone(), ctl.clone()));
        // BEP 27: a private torrent's peers come from its trackers only.
        let dht = match &self.env.dht {
            Some(dhts) if !self.meta.private => {
                Some(dht_lookup::spawn(dhts, self.info_hash, self, ctl))
            }
            _ => None,
        };
        let seeds = web_seeds::spawn(self);
        self.dial_due();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut last = Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = Instant::now();
                    self.on_tick(now.saturating_duration_since(last), now);
                    self.maybe_save_resume(now);
                    last = now;
                    if self.lock().state == TorrentState::Error {
                        break;
                    }
                    self.dial_due();
                }
                _ = self.dial_wake.notified() => self.dial_due(),
                r = ctl.changed() => if r.is_err() || *ctl.borrow() != Control::Run { break },
            }
        }
        if let Some(seeds) = seeds {
            seeds.abort();
        }
        self.go_offline();
        drop(dht);
        if *ctl.borrow() == Control::Run && self.lock().state == TorrentState::Error {
            // Failed: stop announcing too.
            tracker.abort();
        }
        let _ = tracker.await;
    }

    /// Stops accepting and disconnects every peer.
    fn go_offline(&self) {
        let mut sh = self.lock();
        sh.accepting = false;
        for p in sh.peers.values() {
            p.disconnect();
        }
        self.release_web_seeds(&mut sh);
        self.env.upload_slots.release(self.info_hash);
    }
}
