//! The once-per-second housekeeping: rates, pipeline depth, timeouts, silence, interest,
//! choking, progress events.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::choker::{ChokeView, SNUB_AFTER};
use super::incoming::set_interest;
use super::shared::Shared;
use super::Torrent;
use crate::events::Event;
use crate::peer::{Out, WriterCmd};
use crate::status::TorrentState;
use crate::wire::Message;

/// A peer that sent nothing at all for this long is dropped (keep-alives come every ~2 min).
const SILENCE_TIMEOUT: Duration = Duration::from_secs(120);

impl Torrent {
    pub fn on_tick(&self, dt: Duration, now: Instant) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        let seeding = sh.state == TorrentState::Seeding;
        let Shared {
            peers,
            picker,
            assembly,
            stats,
            pick_scratch,
            ..
        } = &mut *sh;
        let mut timed_out = Vec::new();
        for (key, p) in peers.iter_mut() {
            let down = p.down.tick(p.downloaded, dt);
            let uploaded = p.io.uploaded.load(Ordering::Relaxed);
            p.up.tick(uploaded, dt);
            stats.uploaded += uploaded.saturating_sub(p.uploaded_seen);
            p.uploaded_seen = uploaded;
            if now.saturating_duration_since(p.last_recv) >= SILENCE_TIMEOUT {
                p.disconnect();
                continue;
            }
            let mut out = Vec::new();
            p.pipe.on_tick(down);
            p.pipe.take_timed_out(now, &mut timed_out);
            for r in timed_out.drain(..) {
                picker.cancel_request(*key, r);
                assembly.unrequested(r.piece, &self.env.buffers);
                out.push(Out::Msg(Message::Cancel(r)));
            }
            let interesting = !seeding && picker.is_interesting(&p.bitfield);
            set_interest(p, interesting, &mut out);
            if !seeding {
                self.top_up(*key, p, picker, assembly, pick_scratch, &mut out, now);
            }
            p.take_haves(&mut out);
            if !out.is_empty() {
                p.send(WriterCmd::Batch(out));
            }
        }
        sh.web_seeds.tick(dt);
        self.enforce_bans(sh);
        self.choke_round(sh, now);
        self.pex_round(sh, now);
        sh.stats.download_rate = sh.down_meter.tick(sh.stats.downloaded, dt);
        sh.stats.upload_rate = sh.up_meter.tick(sh.stats.uploaded, dt);
        if sh.accepting {
            self.env.emit(Event::Progress {
                info_hash: self.info_hash,
                bytes_done: sh.stats.bytes_done,
                total_bytes: self.meta.total_length,
                download_rate: sh.stats.download_rate,
                upload_rate: sh.stats.upload_rate,
                peers: sh.peers.len(),
            });
        }
    }

    /// Applies the choker's decision, within the session's slot pool: Unchoke the chosen,
    /// Choke the rest.
    fn choke_round(&self, sh: &mut Shared, now: Instant) {
        let seeding = sh.state == TorrentState::Seeding;
        sh.choker.set_slots(self.env.upload_slots.per_torrent());
        let views = choke_views(sh, now);
        let mut unchoke = sh.choker.round(&views, seeding, now);
        let granted = self.env.upload_slots.grant(self.info_hash, unchoke.len());
        unchoke.truncate(granted);
        for (key, p) in sh.peers.iter_mut() {
            let want_unchoked = unchoke.contains(key);
            if want_unchoked == p.am_choking {
                p.am_choking = !want_unchoked;
                let m = if want_unchoked {
                    Message::Unchoke
                } else {
                    Message::Choke
                };
                p.send(WriterCmd::One(Out::Msg(m)));
            }
        }
    }
}

/// What the choker needs to know about each peer.
pub(crate) fn choke_views(sh: &Shared, now: Instant) -> Vec<ChokeView> {
    sh.peers
        .iter()
        .map(|(k, p)| ChokeView {
            key: *k,
            interested: p.peer_interested,
            unchoked: !p.am_choking,
            download_rate: p.down.rate(),
            connected_at: p.connected_at,
            snubbing: p.am_interested
                && now.saturating_duration_since(p.last_block.unwrap_or(p.connected_at))
                    >= SNUB_AFTER,
        })
        .collect()
}
