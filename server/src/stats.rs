//! The periodic sampler: every STATS_INTERVAL it records rates and totals per user (and for
//! the whole server, user 0) for the charts, and saves every torrent's counters.

use std::collections::BTreeMap;

use tokio::sync::watch;

use crate::db::now_unix;
use crate::db::stats::{self, Sample};
use crate::state::AppState;
use crate::torrents::clamp_i64;

/// Also applies `MAX_CONCURRENT_TORRENTS` to the library: this is the first place at start
/// that has both the configuration and the library, right after the restore.
pub fn spawn(state: AppState, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    crate::supervise::spawn("statistics", move || {
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        async move {
            let mut tick = tokio::time::interval(state.config.stats_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => break,
                }
                if let Err(e) = sample(&state).await {
                    tracing::warn!("statistics sample failed: {e}");
                }
            }
        }
    })
}

/// One sample of everything, and a save of the torrents' counters.
pub async fn sample(state: &AppState) -> Result<(), crate::torrents::LibraryError> {
    let now = now_unix();
    let mut per_user: BTreeMap<i64, Sample> = BTreeMap::new();
    let blank = |user_id| Sample {
        user_id,
        at: now,
        download_rate: 0,
        upload_rate: 0,
        downloaded: 0,
        uploaded: 0,
        peers: 0,
        torrents: 0,
    };
    per_user.insert(0, blank(0));
    for (entry, s) in state.library.snapshot() {
        for key in [0, entry.owner_id] {
            let acc = per_user.entry(key).or_insert_with(|| blank(key));
            acc.download_rate += clamp_i64(s.download_rate);
            acc.upload_rate += clamp_i64(s.upload_rate);
            acc.downloaded = acc.downloaded.saturating_add(clamp_i64(s.downloaded));
            acc.uploaded = acc.uploaded.saturating_add(clamp_i64(s.uploaded));
            acc.peers += s.peers as i64;
            acc.torrents += 1;
        }
    }
    let samples: Vec<Sample> = per_user.into_values().collect();
    let keep_after = now - clamp_i64(state.config.stats_retention.as_secs());
    stats::record(&state.db, &samples, keep_after).await?;
    state.library.save_progress().await
}
