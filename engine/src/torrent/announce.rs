//! The tracker loop: `started`, periodic re-announces at the tracker's interval,
//! `completed` once, `stopped` (bounded) when the torrent stops or pauses.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{lock, Control, Torrent};
use crate::events::Event;
use crate::status::{PeerSource, TorrentState};
use crate::tracker::{AnnounceEvent, AnnounceRequest, AnnounceSummary, TrackerTiers};

/// How long `stopped` may hold up a pause, removal or shutdown.
const STOP_ANNOUNCE_WAIT: Duration = Duration::from_secs(2);
/// Floor on re-announce intervals, against trackers that say 0.
const MIN_INTERVAL: Duration = Duration::from_secs(30);
const MAX_RETRY: Duration = Duration::from_secs(30 * 60);
const NUM_WANT: u32 = 80;

pub(crate) async fn run(t: Arc<Torrent>, mut ctl: watch::Receiver<Control>) {
    if t.meta.trackers.iter().all(|tier| tier.is_empty()) {
        return;
    }
    let mut tiers = TrackerTiers::new(t.meta.trackers.clone());
    let key: u32 = rand::random();
    let mut event = AnnounceEvent::Started;
    // A torrent that starts complete never reports `completed`.
    let mut completed_due = false;
    let mut completed_sent = t.lock().state == TorrentState::Seeding;
    let mut started_ok = false;
    let mut failures = 0u32;
    loop {
        if completed_due && started_ok {
            event = AnnounceEvent::Completed;
        }
        let req = t.announce_request(event, key);
        let result = tokio::select! {
            r = tiers.announce(&t.env.tracker, &req) => r,
            _ = ctl.changed() => break,
        };
        let wait = match result {
            Ok((url, resp)) => {
                failures = 0;
                started_ok = true;
                if event == AnnounceEvent::Completed {
                    completed_sent = true;
                    completed_due = false;
                }
                event = AnnounceEvent::None;
                let interval = resp
                    .interval
                    .max(resp.min_interval.unwrap_or_default())
                    .max(MIN_INTERVAL);
                let summary = AnnounceSummary {
                    peers: resp.peers.len(),
                    seeders: resp.seeders,
                    leechers: resp.leechers,
                    interval_secs: interval.as_secs(),
                };
                t.env.emit(Event::TrackerAnnounced {
                    info_hash: t.info_hash,
                    url,
                    result: Ok(summary),
                });
                t.learn_peers(&resp.peers, PeerSource::Tracker);
                tiers.set_next_announce(interval.as_secs());
                interval
            }
            Err(e) => {
                failures += 1;
                let url = tiers
                    .status()
                    .first()
                    .map(|s| s.url.clone())
                    .unwrap_or_default();
                tracing::debug!(torrent = %t.info_hash, %url, "announce failed: {e}");
                t.env.emit(Event::TrackerAnnounced {
                    info_hash: t.info_hash,
                    url,
                    result: Err(e.to_string()),
                });
                let retry = (MIN_INTERVAL * 2u32.pow(failures.min(6))).min(MAX_RETRY);
                tiers.set_next_announce(retry.as_secs());
                retry
            }
        };
        *lock(&t.trackers) = tiers.status();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = t.completed_wake.notified(), if !completed_sent => completed_due = true,
            r = ctl.changed() => if r.is_err() || *ctl.borrow() != Control::Run { break },
        }
    }
    if started_ok {
        let req = t.announce_request(AnnounceEvent::Stopped, key);
        let _ =
            tokio::time::timeout(STOP_ANNOUNCE_WAIT, tiers.announce(&t.env.tracker, &req)).await;
        *lock(&t.trackers) = tiers.status();
    }
}

impl Torrent {
    fn announce_request(&self, event: AnnounceEvent, key: u32) -> AnnounceRequest {
        let stats = self.lock().stats;
        let (ipv4, ipv6) = self.env.advertised();
        AnnounceRequest {
            info_hash: self.info_hash,
            peer_id: self.env.config.peer_id,
            port: self.env.listen_addr.port(),
            uploaded: stats.uploaded,
            downloaded: stats.downloaded,
            left: self.meta.total_length.saturating_sub(stats.bytes_done),
            event,
            num_want: Some(NUM_WANT),
            key,
            ipv4,
            ipv6,
        }
    }

    /// Remembers addresses from a tracker, the DHT, PEX or the user, and wakes the dialer.
    pub fn learn_peers(&self, addrs: &[std::net::SocketAddr], source: PeerSource) {
        let now = Instant::now();
        let mut sh = self.lock();
        for a in addrs {
            sh.book.add(*a, source, now);
        }
        drop(sh);
        self.dial_wake.notify_one();
    }
}
