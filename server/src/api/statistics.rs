//! `GET /api/statistics?range=SECS`: the caller's rates, totals, counts by state and the
//! sampled history (an admin sees the whole server).

use app::types::{DhtInfo, HistoryPoint, Statistics, TorrentState};
use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use super::errors::{ApiError, ApiQuery};
use crate::auth::AuthUser;
use crate::db::{now_unix, stats};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StatsQuery {
    /// Seconds of history; default one hour.
    range: Option<u64>,
}

/// The node's counters, and the IPv6 node's table beside them when one runs; a node that
/// stopped reads as off.
async fn dht_info(session: &engine::session::Session) -> DhtInfo {
    let v6 = if session.dht_addr().is_some_and(|a| a.is_ipv4()) {
        session.dht_stats_v6().await
    } else {
        None
    };
    match session.dht_stats().await {
        Some(s) => DhtInfo {
            enabled: true,
            nodes: s.nodes,
            good_nodes: s.good_nodes,
            port: session.dht_addr().map(|a| a.port()),
            stored_peers: s.stored_peers + v6.as_ref().map_or(0, |v| v.stored_peers),
            nodes_v6: v6.as_ref().map(|v| v.nodes),
            good_nodes_v6: v6.as_ref().map(|v| v.good_nodes),
            port_v6: v6.as_ref().and(session.dht_addr_v6()).map(|a| a.port()),
        },
        None => DhtInfo::default(),
    }
}

/// Samples returned at most.
const MAX_POINTS: i64 = 2000;

pub async fn statistics(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<Statistics>, ApiError> {
    let mut out = Statistics {
        download_rate: 0,
        upload_rate: 0,
        total_downloaded: 0,
        total_uploaded: 0,
        torrents: 0,
        by_state: TorrentState::ALL
            .iter()
            .map(|s| (s.as_str().to_owned(), 0))
            .collect(),
        peers: 0,
        history: Vec::new(),
        dht: dht_info(state.library.session()).await,
    };
    for (entry, s) in state.library.snapshot() {
        if !user.can_access(entry.owner_id) {
            continue;
        }
        out.download_rate += s.download_rate;
        out.upload_rate += s.upload_rate;
        out.total_downloaded += s.downloaded;
        out.total_uploaded += s.uploaded;
        out.peers += s.peers;
        out.torrents += 1;
        *out.by_state.entry(s.state.as_str().to_owned()).or_insert(0) += 1;
    }
    let range = q
        .range
        .unwrap_or(3600)
        .min(state.config.stats_retention.as_secs());
    let since = now_unix() - i64::try_from(range).unwrap_or(i64::MAX);
    let scope = if user.is_admin() { 0 } else { user.id };
    out.history = stats::history(&state.db, scope, since, MAX_POINTS)
        .await?
        .into_iter()
        .map(|s| HistoryPoint {
            at: s.at,
            download_rate: s.download_rate.max(0) as u64,
            upload_rate: s.upload_rate.max(0) as u64,
            downloaded: s.downloaded.max(0) as u64,
            uploaded: s.uploaded.max(0) as u64,
            peers: s.peers.max(0) as u64,
            torrents: s.torrents.max(0) as u64,
        })
        .collect();
    Ok(Json(out))
}
