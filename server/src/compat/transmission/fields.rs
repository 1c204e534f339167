//! `torrent-get`'s torrent objects, with Transmission's legacy field names. Fields that need
//! more than the torrent's summary (files, trackers, peers, pieces) are read only when asked.

use std::collections::HashSet;

use app::types::{Priority, TorrentDetail, TorrentState, TorrentSummary};
use base64::Engine as _;
use engine::InfoHash;
use serde_json::{json, Map, Value};

use super::names::snake;
use crate::auth::AuthUser;
use crate::compat::now;
use crate::state::AppState;

const DETAIL: &[&str] = &[
    "comment",
    "corruptEver",
    "creator",
    "dateCreated",
    "file-count",
    "files",
    "fileStats",
    "isPrivate",
    "pieceCount",
    "pieceSize",
    "priorities",
    "trackerList",
    "trackers",
    "trackerStats",
    "webseeds",
    "webseedsSendingToUs",
    "wanted",
];
const PEERS: &[&str] = &[
    "peers",
    "peersFrom",
    "peersGettingFromUs",
    "peersSendingToUs",
];

/// Transmission's status: 0 stopped, 1 check-wait, 2 check, 3 download-wait, 4 download,
/// 5 seed-wait, 6 seed.
pub fn status(s: &TorrentSummary) -> i64 {
    match s.state {
        TorrentState::Paused | TorrentState::Error => 0,
        TorrentState::Checking => 2,
        TorrentState::Queued => 3,
        TorrentState::Downloading | TorrentState::FetchingMetadata => 4,
        TorrentState::Seeding => 6,
    }
}

fn complete(s: &TorrentSummary) -> bool {
    s.total_bytes > 0 && s.bytes_done >= s.total_bytes
}

/// The requested fields (snake_case, so either protocol's names match).
pub fn wanted(fields: Option<&Value>) -> HashSet<String> {
    match fields {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(snake).collect(),
        _ => HashSet::new(),
    }
}

fn any(wanted: &HashSet<String>, names: &[&str]) -> bool {
    names.iter().any(|n| wanted.contains(&snake(n)))
}

/// One torrent's object with the `wanted` fields.
pub fn torrent(
    state: &AppState,
    user: &AuthUser,
    s: &TorrentSummary,
    position: usize,
    wanted: &HashSet<String>,
) -> Map<String, Value> {
    let t = now();
    let done = complete(s);
    let active = s.download_rate > 0 || s.upload_rate > 0;
    let completed = s.completed_at.unwrap_or(0);
    let left = s.total_bytes.saturating_sub(s.bytes_done);
    let eta: i64 = match (done, s.eta_secs) {
        (true, _) => -1,
        (false, Some(e)) => i64::try_from(e).unwrap_or(i64::MAX),
        (false, None) => -2,
    };
    let magnet = s.magnet_uri.clone().unwrap_or_else(|| {
        let dn: String = url::form_urlencoded::byte_serialize(s.name.as_bytes()).collect();
        format!("magnet:?xt=urn:btih:{}&dn={dn}", s.info_hash)
    });
    let mut m = json!({
        "activityDate": if active { t } else { completed.max(s.added_at) },
        "addedDate": s.added_at,
        "bandwidthPriority": match s.priority { Priority::High => 1, Priority::Normal => 0, Priority::Low => -1 },
        "desiredAvailable": if s.seeds > 0 { left } else { 0 },
        "doneDate": completed,
        "downloadDir": s.save_path,
        "downloadedEver": s.downloaded,
        "downloadLimit": s.download_limit / 1000,
        "downloadLimited": s.download_limit > 0,
        "editDate": 0,
        "error": if s.error.is_some() { 3 } else { 0 },
        "errorString": s.error.clone().unwrap_or_default(),
        "eta": eta,
        "etaIdle": -1,
        "group": "",
        "hashString": s.info_hash,
        "haveUnchecked": 0,
        "haveValid": s.bytes_done,
        "honorsSessionLimits": true,
        "id": s.id,
        "isFinished": false,
        "isStalled": s.state == TorrentState::Downloading && s.download_rate == 0,
        "labels": s.tags,
        "leftUntilDone": left,
        "magnetLink": magnet,
        "manualAnnounceTime": -1,
        "maxConnectedPeers": state.config.max_peers_per_torrent,
        "metadataPercentComplete": if s.state == TorrentState::FetchingMetadata { 0.0 } else { 1.0 },
        "name": s.name,
        "peer-limit": state.config.max_peers_per_torrent,
        "peersConnected": s.peers,
        "percentComplete": s.progress,
        "percentDone": s.progress,
        "queuePosition": position,
        "rateDownload": s.download_rate,
        "rateUpload": s.upload_rate,
        "recheckProgress": 0.0,
        "secondsDownloading": (if completed > 0 { completed } else { t } - s.added_at).max(0),
        "secondsSeeding": s.seconds_seeding,
        "seedIdleLimit": s.goals.inactive_seeding_time_limit.max(0),
        "seedIdleMode": goal_mode(s.goals.inactive_seeding_time_limit as f64),
        "seedRatioLimit": s.goals.ratio_limit.max(0.0),
        "seedRatioMode": goal_mode(s.goals.ratio_limit),
        "sequentialDownload": s.sequential,
        "sizeWhenDone": s.total_bytes,
        "source": "",
        "startDate": s.added_at,
        "status": status(s),
        "totalSize": s.total_bytes,
        "uploadedEver": s.uploaded,
        "uploadLimit": s.upload_limit / 1000,
        "uploadLimited": s.upload_limit > 0,
        "uploadRatio": s.ratio,
    });
    let Some(ih) = InfoHash::from_hex(&s.info_hash).ok() else {
        return Map::new();
    };
    if any(wanted, DETAIL) {
        if let Ok(d) = state.library.detail(user, &ih) {
            detail_fields(&mut m, &d);
        }
    }
    if any(wanted, PEERS) {
        peer_fields(&mut m, state, user, &ih);
    }
    if wanted.contains("pieces") {
        if let Ok(p) = state.library.pieces(user, &ih) {
            let bytes: Vec<u8> = (0..p.bitfield.len() / 2)
                .filter_map(|i| u8::from_str_radix(&p.bitfield[2 * i..2 * i + 2], 16).ok())
                .collect();
            m["pieces"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    match m {
        Value::Object(obj) => obj
            .into_iter()
            .filter(|(k, _)| wanted.contains(&snake(k)))
            .collect(),
        _ => Map::new(),
    }
}

fn detail_fields(m: &mut Value, d: &TorrentDetail) {
    let pl = u64::from(d.piece_length.max(1));
    let mut offset = 0u64;
    let files: Vec<Value> = d
        .files
        .iter()
        .map(|f| {
            let begin = offset / pl;
            let end = (offset + f.length.max(1) - 1) / pl;
            offset += f.length;
            json!({ "name": f.path, "length": f.length, "bytesCompleted": f.bytes_done,
                "beginPiece": begin, "endPiece": end + 1 })
        })
        .collect();
    m["files"] = json!(files);
    m["file-count"] = json!(d.files.len());
    // Transmission: wanted or not, and a priority of -1 low, 0 normal, 1 high.
    let tr = |p: app::types::FilePriority| match p {
        app::types::FilePriority::Skip => (false, 0),
        app::types::FilePriority::Low => (true, -1),
        app::types::FilePriority::Normal => (true, 0),
        app::types::FilePriority::High => (true, 1),
    };
    m["fileStats"] = json!(d
        .files
        .iter()
        .map(|f| {
            let (wanted, priority) = tr(f.priority);
            json!({ "bytesCompleted": f.bytes_done, "wanted": wanted, "priority": priority })
        })
        .collect::<Vec<_>>());
    m["wanted"] = json!(d
        .files
        .iter()
        .map(|f| i32::from(tr(f.priority).0))
        .collect::<Vec<_>>());
    m["priorities"] = json!(d.files.iter().map(|f| tr(f.priority).1).collect::<Vec<_>>());
    m["comment"] = json!(d.comment.clone().unwrap_or_default());
    m["creator"] = json!(d.created_by.clone().unwrap_or_default());
    m["dateCreated"] = json!(d.creation_date.unwrap_or(0));
    m["isPrivate"] = json!(d.private);
    m["webseeds"] = json!(d.web_seeds);
    m["webseedsSendingToUs"] = json!(d
        .web_seed_status
        .iter()
        .filter(|w| w.state == app::types::WebSeedState::Active)
        .count());
    m["corruptEver"] = json!(d.wasted);
    m["pieceCount"] = json!(d.num_pieces);
    m["pieceSize"] = json!(d.piece_length);
    let t = now();
    m["trackers"] = json!(d
        .trackers
        .iter()
        .enumerate()
        .map(
            |(i, tr)| json!({ "announce": tr.url, "id": i, "scrape": "", "tier": tr.tier,
            "sitename": host(&tr.url) })
        )
        .collect::<Vec<_>>());
    let mut list = String::new();
    let mut last_tier = None;
    for tr in &d.trackers {
        if last_tier.is_some_and(|l| l != tr.tier) {
            list.push('\n');
        }
        last_tier = Some(tr.tier);
        list.push_str(&tr.url);
        list.push('\n');
    }
    m["trackerList"] = json!(list);
    m["trackerStats"] = json!(d
        .trackers
        .iter()
        .enumerate()
        .map(|(i, tr)| {
            let r = tr.last_result.as_ref();
            let announced = tr.last_announce.map_or(0, |v| v as i64);
            json!({
                "id": i, "announce": tr.url, "host": host(&tr.url), "sitename": host(&tr.url),
                "tier": tr.tier, "isBackup": false, "scrape": "",
                "announceState": if r.is_some() { 1 } else { 0 },
                "hasAnnounced": r.is_some(),
                "lastAnnounceSucceeded": r.is_some_and(|r| r.ok),
                "lastAnnounceResult": r.map_or(String::new(), |r| if r.ok { "Success".into() } else { r.error.clone().unwrap_or_default() }),
                "lastAnnounceTime": announced, "lastAnnounceStartTime": announced,
                "lastAnnounceTimedOut": false,
                "lastAnnouncePeerCount": r.and_then(|r| r.peers).unwrap_or(0),
                "nextAnnounceTime": tr.next_announce_secs.map_or(0, |n| t + n as i64),
                "seederCount": r.and_then(|r| r.seeders).map_or(-1, i64::from),
                "leecherCount": r.and_then(|r| r.leechers).map_or(-1, i64::from),
                "downloadCount": -1,
                "hasScraped": false, "scrapeState": 0, "lastScrapeSucceeded": false,
                "lastScrapeResult": "", "lastScrapeTime": 0, "lastScrapeStartTime": 0,
                "lastScrapeTimedOut": false, "nextScrapeTime": 0,
            })
        })
        .collect::<Vec<_>>());
}

fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

fn peer_fields(m: &mut Value, state: &AppState, user: &AuthUser, ih: &InfoHash) {
    let peers = state.library.peers(user, ih).unwrap_or_default();
    let incoming = peers.iter().filter(|p| p.incoming).count();
    m["peersFrom"] = json!({ "fromCache": 0, "fromDht": 0, "fromIncoming": incoming,
        "fromLpd": 0, "fromLtep": 0, "fromPex": 0, "fromTracker": peers.len() - incoming });
    m["peersSendingToUs"] = json!(peers.iter().filter(|p| p.download_rate > 0).count());
    m["peersGettingFromUs"] = json!(peers.iter().filter(|p| p.upload_rate > 0).count());
    m["peers"] = json!(peers
        .iter()
        .map(|p| {
            let (address, port) = p
                .addr
                .parse::<std::net::SocketAddr>()
                .map_or((p.addr.clone(), 0), |a| (a.ip().to_string(), a.port()));
            let mut flags = String::new();
            if p.download_rate > 0 {
                flags.push('D');
            }
            if p.upload_rate > 0 {
                flags.push('U');
            }
            if p.incoming {
                flags.push('I');
            }
            json!({
                "address": address, "port": port, "clientName": p.client,
                "clientIsChoked": p.peer_choking, "clientIsInterested": p.am_interested,
                "peerIsChoked": p.am_choking, "peerIsInterested": p.peer_interested,
                "isDownloadingFrom": p.download_rate > 0, "isUploadingTo": p.upload_rate > 0,
                "isEncrypted": false, "isIncoming": p.incoming, "isUTP": false,
                "flagStr": flags, "progress": p.progress,
                "rateToClient": p.download_rate, "rateToPeer": p.upload_rate,
            })
        })
        .collect::<Vec<_>>());
}

/// Transmission's `seedRatioMode`/`seedIdleMode` of a TorrentEdge goal: 0 = the session's
/// (TorrentEdge -1), 1 = the torrent's own, 2 = unlimited (TorrentEdge 0).
fn goal_mode(v: f64) -> u8 {
    match v {
        v if v < 0.0 => 0,
        0.0 => 2,
        _ => 1,
    }
}
