//! TorrentEdge's torrents in qBittorrent's JSON: the `torrents/info` object, its state
//! names and its filters.

use app::types::{TorrentState, TorrentSummary};
use serde_json::{json, Map, Value};

/// qBittorrent's "infinite" ETA.
pub const ETA_INFINITY: u64 = 8_640_000;

fn complete(s: &TorrentSummary) -> bool {
    s.total_bytes > 0 && s.bytes_done >= s.total_bytes
}

/// qBittorrent 4.x's state name.
pub fn state(s: &TorrentSummary) -> &'static str {
    match s.state {
        TorrentState::FetchingMetadata => "metaDL",
        TorrentState::Checking if complete(s) => "checkingUP",
        TorrentState::Checking => "checkingDL",
        TorrentState::Queued => "queuedDL",
        TorrentState::Downloading if s.download_rate > 0 => "downloading",
        TorrentState::Downloading => "stalledDL",
        TorrentState::Seeding if s.upload_rate > 0 => "uploading",
        TorrentState::Seeding => "stalledUP",
        TorrentState::Paused if complete(s) => "pausedUP",
        TorrentState::Paused => "pausedDL",
        TorrentState::Error => "error",
    }
}

/// Whether `s` passes `torrents/info`'s `filter`; None for an unknown filter.
pub fn filter(name: &str, s: &TorrentSummary) -> Option<bool> {
    let st = state(s);
    let active = s.download_rate > 0 || s.upload_rate > 0;
    Some(match name {
        "all" => true,
        "downloading" => matches!(
            st,
            "downloading" | "metaDL" | "stalledDL" | "checkingDL" | "pausedDL" | "queuedDL"
        ),
        "seeding" => matches!(st, "uploading" | "stalledUP" | "checkingUP"),
        "completed" => complete(s),
        "paused" | "stopped" => matches!(st, "pausedDL" | "pausedUP"),
        "resumed" | "running" => !matches!(st, "pausedDL" | "pausedUP"),
        "active" => active,
        "inactive" => !active,
        "stalled" => matches!(st, "stalledDL" | "stalledUP"),
        "stalled_uploading" => st == "stalledUP",
        "stalled_downloading" => st == "stalledDL",
        "checking" => matches!(st, "checkingDL" | "checkingUP"),
        "moving" => false,
        "errored" => st == "error",
        _ => return None,
    })
}

/// `priority`: the queue position qBittorrent shows; 0 when queueing is off (as there),
/// else 1 (high), 2 (normal), 3 (low).
fn queue_position(s: &TorrentSummary, queueing: bool) -> i64 {
    if !queueing || complete(s) {
        return 0;
    }
    match s.priority {
        app::types::Priority::High => 1,
        app::types::Priority::Normal => 2,
        app::types::Priority::Low => 3,
    }
}

/// One torrent as `torrents/info` and `sync/maindata` show it.
pub fn torrent(s: &TorrentSummary, queueing: bool, now: i64) -> Map<String, Value> {
    let content_path = std::path::Path::new(&s.save_path)
        .join(&s.name)
        .display()
        .to_string();
    let done = complete(s);
    let completion_on = s.completed_at.unwrap_or(if done { s.added_at } else { -1 });
    // TorrentEdge's goals: -1 = the server's (qBittorrent -2), 0 = none (qBittorrent -1).
    let goal = |v: f64| match v {
        v if v < 0.0 => -2.0,
        0.0 => -1.0,
        v => v,
    };
    let active = s.download_rate > 0 || s.upload_rate > 0;
    let eta = match (done, s.eta_secs) {
        (true, _) => ETA_INFINITY,
        (false, Some(e)) => e.min(ETA_INFINITY),
        (false, None) => ETA_INFINITY,
    };
    let v = json!({
        "hash": s.info_hash,
        "infohash_v1": s.info_hash,
        "infohash_v2": "",
        "name": s.name,
        "size": s.total_bytes,
        "total_size": s.total_bytes,
        "progress": s.progress,
        "eta": eta,
        "state": state(s),
        "category": s.category.clone().unwrap_or_default(),
        "tags": s.tags.join(", "),
        "save_path": s.save_path,
        "download_path": "",
        "content_path": content_path,
        "root_path": content_path,
        "ratio": s.ratio,
        "ratio_limit": goal(s.goals.ratio_limit),
        "max_ratio": -1,
        "seeding_time": s.seconds_seeding,
        "seeding_time_limit": goal(s.goals.seeding_time_limit as f64) as i64,
        "max_seeding_time": -1,
        "inactive_seeding_time_limit": goal(s.goals.inactive_seeding_time_limit as f64) as i64,
        "max_inactive_seeding_time": -1,
        "time_active": (now - s.added_at).max(0),
        "last_activity": if active { now } else { completion_on.max(s.added_at) },
        "added_on": s.added_at,
        "completion_on": completion_on,
        "seen_complete": if done { now } else { -1 },
        "dlspeed": s.download_rate,
        "upspeed": s.upload_rate,
        // qBittorrent says -1 for no limit.
        "dl_limit": if s.download_limit > 0 { i128::from(s.download_limit) } else { -1 },
        "up_limit": if s.upload_limit > 0 { i128::from(s.upload_limit) } else { -1 },
        "num_seeds": s.seeds,
        "num_leechs": s.peers.saturating_sub(s.seeds),
        "num_complete": s.seeds,
        "num_incomplete": s.peers.saturating_sub(s.seeds),
        "amount_left": s.total_bytes.saturating_sub(s.bytes_done),
        "completed": s.bytes_done,
        "downloaded": s.downloaded,
        "uploaded": s.uploaded,
        "downloaded_session": s.downloaded,
        "uploaded_session": s.uploaded,
        "availability": if s.seeds > 0 { 1.0 } else { -1.0 },
        "priority": queue_position(s, queueing),
        "force_start": false,
        "seq_dl": s.sequential,
        "f_l_piece_prio": s.first_last_piece,
        "super_seeding": s.super_seeding,
        "auto_tmm": false,
        "magnet_uri": s.magnet_uri.clone().unwrap_or_default(),
        "tracker": "",
        "trackers_count": 0,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(state: TorrentState, done: u64, dl: u64, ul: u64) -> TorrentSummary {
        serde_json::from_value(json!({
            "infoHash": "aa".repeat(20), "name": "n", "state": state, "error": null,
            "progress": 0.5, "totalBytes": 100, "bytesDone": done, "downloadRate": dl,
            "uploadRate": ul, "downloaded": 0, "uploaded": 0, "ratio": 0.0, "peers": 0,
            "seeds": 0, "etaSecs": null, "priority": "normal", "savePath": "/d", "ownerId": 1,
            "addedAt": 1, "completedAt": null, "magnetUri": null
        }))
        .unwrap()
    }

    #[test]
    fn state_names() {
        assert_eq!(state(&t(TorrentState::Downloading, 0, 5, 0)), "downloading");
        assert_eq!(state(&t(TorrentState::Downloading, 0, 0, 0)), "stalledDL");
        assert_eq!(state(&t(TorrentState::Seeding, 100, 0, 3)), "uploading");
        assert_eq!(state(&t(TorrentState::Seeding, 100, 0, 0)), "stalledUP");
        assert_eq!(state(&t(TorrentState::Paused, 100, 0, 0)), "pausedUP");
        assert_eq!(state(&t(TorrentState::Paused, 10, 0, 0)), "pausedDL");
        assert_eq!(state(&t(TorrentState::FetchingMetadata, 0, 0, 0)), "metaDL");
        assert_eq!(state(&t(TorrentState::Queued, 0, 0, 0)), "queuedDL");
        assert_eq!(state(&t(TorrentState::Checking, 100, 0, 0)), "checkingUP");
    }

    #[test]
    fn filters() {
        let paused = t(TorrentState::Paused, 10, 0, 0);
        assert_eq!(filter("paused", &paused), Some(true));
        assert_eq!(filter("downloading", &paused), Some(true));
        assert_eq!(filter("completed", &paused), Some(false));
        assert_eq!(
            filter("seeding", &t(TorrentState::Seeding, 100, 0, 0)),
            Some(true)
        );
        assert_eq!(filter("bogus", &paused), None);
    }

    #[test]
    fn info_fields() {
        let m = torrent(&t(TorrentState::Seeding, 100, 0, 0), false, 1000);
        assert_eq!(m["amount_left"], 0);
        assert_eq!(m["eta"], ETA_INFINITY);
        assert_eq!(m["content_path"], "/d/n");
        assert_eq!(m["priority"], 0);
        assert_eq!(m["completion_on"], 1);
    }
}
