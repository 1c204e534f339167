//! The RPC methods, on legacy names. Transmission's labels are TorrentEdge's tags. Calls for
//! features TorrentEdge lacks (verify, reannounce, rate and seed limits, file wants and
//! priorities, moving data, free space, the port test) fail with a message saying so.

use std::collections::HashSet;

use app::types::{AddOptions, FilePriority, FilePriorityChange, Priority, TorrentSummary};
use base64::Engine as _;
use engine::InfoHash;
use serde_json::{json, Map, Value};

use super::fields::{self, wanted};
use super::names::snake;
use super::{RpcError, RPC_VERSION, RPC_VERSION_MIN, RPC_VERSION_SEMVER};
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::categories::AddSource;
use crate::torrents::selection::Flag;
use crate::torrents::tags::TagEdit;
use crate::torrents::LibraryError;

type Args = Map<String, Value>;
type Answer = Result<Args, RpcError>;

/// Argument names (legacy spelling) that JSON-RPC requests may send in snake_case.
pub const ARGUMENT_NAMES: &[&str] = &[
    "delete-local-data",
    "download-dir",
    "files-wanted",
    "files-unwanted",
    "priority-high",
    "priority-low",
    "priority-normal",
    "peer-limit",
    "bandwidthPriority",
    "seedRatioLimit",
    "seedRatioMode",
    "seedIdleLimit",
    "seedIdleMode",
    "downloadLimit",
    "downloadLimited",
    "uploadLimit",
    "uploadLimited",
    "honorsSessionLimits",
    "queuePosition",
    "trackerAdd",
    "trackerRemove",
    "trackerReplace",
    "trackerList",
    "sequentialDownload",
    "speed-limit-down",
    "speed-limit-down-enabled",
    "speed-limit-up",
    "speed-limit-up-enabled",
    "alt-speed-enabled",
    "alt-speed-down",
    "alt-speed-up",
    "alt-speed-time-enabled",
    "alt-speed-time-begin",
    "alt-speed-time-end",
    "alt-speed-time-day",
    "seedRatioLimited",
    "idle-seeding-limit",
    "idle-seeding-limit-enabled",
    "download-queue-enabled",
    "download-queue-size",
    "seed-queue-enabled",
    "peer-port",
    "dht-enabled",
    "pex-enabled",
    "lpd-enabled",
    "utp-enabled",
    "start-added-torrents",
];

const METHODS: &[&str] = &[
    "session-get",
    "session-set",
    "session-stats",
    "session-close",
    "torrent-get",
    "torrent-add",
    "torrent-remove",
    "torrent-start",
    "torrent-start-now",
    "torrent-stop",
    "torrent-verify",
    "torrent-reannounce",
    "torrent-set",
    "torrent-set-location",
    "torrent-rename-path",
    "queue-move-top",
    "queue-move-up",
    "queue-move-down",
    "queue-move-bottom",
    "free-space",
    "port-test",
    "blocklist-update",
    "group-get",
    "group-set",
];

pub fn known(method: &str) -> bool {
    METHODS.contains(&method)
}

fn lacking(what: &str) -> RpcError {
    RpcError(format!("TorrentEdge does not support {what} yet"))
}

pub async fn call(state: &AppState, user: &AuthUser, method: &str, args: Args) -> Answer {
    match method {
        "session-get" => Ok(session_get(state, user, &args)),
        "session-set" => session_set(state, user, &args).await,
        "session-stats" => Ok(session_stats(state, user)),
        "session-close" => Err(RpcError("TorrentEdge is not stopped over RPC".into())),
        "torrent-get" => torrent_get(state, user, &args),
        "torrent-add" => torrent_add(state, user, &args).await,
        "torrent-remove" => {
            let delete = args
                .get("delete-local-data")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            for ih in ids(state, user, &args)? {
                state.library.remove(user, &ih, delete).await?;
            }
            Ok(Args::new())
        }
        "torrent-start" | "torrent-start-now" | "torrent-stop" => {
            let paused = method == "torrent-stop";
            for ih in ids(state, user, &args)? {
                state.library.set_paused(user, &ih, paused).await?;
            }
            Ok(Args::new())
        }
        "torrent-verify" => Err(lacking("verifying local data on request")),
        "torrent-reannounce" => Err(lacking("forcing a reannounce")),
        "torrent-set" => torrent_set(state, user, &args).await,
        "torrent-set-location" => {
            let loc = args
                .get("location")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError("no location".into()))?;
            for ih in ids(state, user, &args)? {
                if !state.library.is_saved_in(user, &ih, loc)? {
                    return Err(lacking("moving a torrent's data"));
                }
            }
            Ok(Args::new())
        }
        "torrent-rename-path" => Err(lacking("renaming files")),
        "queue-move-top" | "queue-move-up" | "queue-move-down" | "queue-move-bottom" => {
            for ih in ids(state, user, &args)? {
                let cur = state.library.entry_for(user, &ih)?.priority;
                let next = match (method, cur) {
                    ("queue-move-top", _)
                    | ("queue-move-up", Priority::Normal | Priority::High) => Priority::High,
                    ("queue-move-bottom", _)
                    | ("queue-move-down", Priority::Normal | Priority::Low) => Priority::Low,
                    _ => Priority::Normal,
                };
                if next != cur {
                    state.library.set_priority(user, &ih, next).await?;
                }
            }
            Ok(Args::new())
        }
        "free-space" => Err(lacking("free-space")),
        "port-test" => Err(RpcError(
            "port-test needs an outside service, which TorrentEdge does not contact".into(),
        )),
        "blocklist-update" => Err(lacking("blocklists")),
        "group-get" => Ok(obj(json!({ "group": [] }))),
        "group-set" => Err(lacking("bandwidth groups")),
        other => Err(RpcError(format!("method name not recognized: {other}"))),
    }
}

fn obj(v: Value) -> Args {
    match v {
        Value::Object(m) => m,
        _ => Args::new(),
    }
}

/// The torrents `ids` names: absent = all; a number, a hash string, a list of those, or
/// `recently-active`. Ids and hashes the caller cannot see are skipped.
fn ids(state: &AppState, user: &AuthUser, args: &Args) -> Result<Vec<InfoHash>, RpcError> {
    let all = || -> Vec<InfoHash> {
        state
            .library
            .list(user)
            .iter()
            .filter_map(|s| InfoHash::from_hex(&s.info_hash).ok())
            .collect()
    };
    let one = |v: &Value| -> Result<Option<InfoHash>, RpcError> {
        match v {
            Value::Number(n) => Ok(n
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .and_then(|n| state.library.hash_by_id(user, n))),
            Value::String(s) => Ok(InfoHash::from_hex(s.trim())
                .ok()
                .filter(|ih| state.library.entry_for(user, ih).is_ok())),
            _ => Err(RpcError("invalid ids".into())),
        }
    };
    match args.get("ids") {
        None => Ok(all()),
        Some(Value::String(s)) if s == "recently-active" => Ok(state
            .library
            .list(user)
            .iter()
            .filter(|s| s.download_rate > 0 || s.upload_rate > 0)
            .filter_map(|s| InfoHash::from_hex(&s.info_hash).ok())
            .collect()),
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a.iter().take(100_000) {
                out.extend(one(v)?);
            }
            Ok(out)
        }
        Some(v) => Ok(one(v)?.into_iter().collect()),
    }
}

/// Transmission's speed unit (`units.speed-bytes`): kB/s of 1000 bytes.
const KB: u64 = 1000;

/// Transmission numbers its days Sunday = 1, Monday = 2, … Saturday = 64.
fn days_to_transmission(days: &[String]) -> u64 {
    days.iter()
        .filter_map(|d| crate::speed::schedule::DAYS.iter().position(|x| x == d))
        .map(|i| 1u64 << ((i + 1) % 7))
        .sum()
}

fn days_from_transmission(mask: u64) -> Vec<String> {
    crate::speed::schedule::DAYS
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << ((i + 1) % 7)) != 0)
        .map(|(_, d)| (*d).to_owned())
        .collect()
}

fn minutes(hhmm: &str) -> u64 {
    crate::speed::schedule::parse_time(hhmm).map_or(0, u64::from)
}

fn session_values(state: &AppState, user: &AuthUser) -> Args {
    let cap = state.library.max_active();
    let sp = state.speed.settings();
    obj(json!({
        "alt-speed-down": sp.alt_download_limit / KB, "alt-speed-enabled": sp.alt_enabled,
        "alt-speed-time-enabled": sp.alt_schedule.enabled,
        "alt-speed-time-begin": minutes(&sp.alt_schedule.from),
        "alt-speed-time-end": minutes(&sp.alt_schedule.to),
        "alt-speed-time-day": days_to_transmission(&sp.alt_schedule.days),
        "alt-speed-up": sp.alt_upload_limit / KB,
        "blocklist-enabled": false, "blocklist-size": 0, "blocklist-url": "",
        "cache-size-mb": 0,
        "config-dir": state.config.data_dir.display().to_string(),
        "dht-enabled": state.config.dht.is_some(), "lpd-enabled": state.config.network.lsd, "pex-enabled": state.config.pex,
        "port-forwarding-enabled": state.config.network.upnp,
        "utp-enabled": state.config.network.utp,
        "download-dir": state.library.user_root(user).display().to_string(),
        "download-queue-enabled": cap > 0,
        "download-queue-size": cap,
        "encryption": crate::encryption::to_transmission(
            crate::encryption::current(state.library.session())),
        "idle-seeding-limit": 30, "idle-seeding-limit-enabled": false,
        "incomplete-dir": "", "incomplete-dir-enabled": false,
        "peer-limit-global": state.config.max_peer_connections,
        "peer-limit-per-torrent": state.config.max_peers_per_torrent,
        "peer-port": state.config.peer_port, "peer-port-random-on-start": false,
        "queue-stalled-enabled": false, "queue-stalled-minutes": 30,
        "rename-partial-files": false,
        "rpc-version": RPC_VERSION, "rpc-version-minimum": RPC_VERSION_MIN,
        "rpc-version-semver": RPC_VERSION_SEMVER,
        "script-torrent-done-enabled": false, "script-torrent-done-filename": "",
        "seed-queue-enabled": false, "seed-queue-size": 0,
        "seedRatioLimit": 2.0, "seedRatioLimited": false,
        "session-id": state.compat.transmission.session_id(),
        "speed-limit-down": sp.download_limit / KB, "speed-limit-down-enabled": sp.download_limit > 0,
        "speed-limit-up": sp.upload_limit / KB, "speed-limit-up-enabled": sp.upload_limit > 0,
        "start-added-torrents": true,
        "trash-original-torrent-files": false,
        "units": { "memory-bytes": 1024, "memory-units": ["KiB", "MiB", "GiB", "TiB"],
            "size-bytes": 1000, "size-units": ["kB", "MB", "GB", "TB"],
            "speed-bytes": 1000, "speed-units": ["kB/s", "MB/s", "GB/s", "TB/s"] },
        "version": format!("4.0.6 (TorrentEdge {})", env!("CARGO_PKG_VERSION")),
    }))
}

fn session_get(state: &AppState, user: &AuthUser, args: &Args) -> Args {
    let all = session_values(state, user);
    let want = wanted(args.get("fields"));
    if want.is_empty() {
        return all;
    }
    all.into_iter()
        .filter(|(k, _)| want.contains(&snake(k)))
        .collect()
}

/// A limit from a `*-limit-*` value (kB/s) and its `*-enabled` flag, `current` bytes/s:
/// `None` leaves it. TorrentEdge has no disabled-but-remembered limit: a value sent while
/// the limit is off is not kept.
fn rpc_limit(
    value: Option<&Value>,
    enabled: Option<&Value>,
    current: u64,
) -> Result<Option<u64>, RpcError> {
    let value = match value {
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| RpcError("limits are kB/s, a whole number".into()))?,
        ),
        None => None,
    };
    match (enabled.and_then(Value::as_bool), value) {
        (Some(false), _) => Ok(Some(0)),
        (Some(true), Some(v)) => Ok(Some(v.saturating_mul(KB))),
        (Some(true), None) if current > 0 => Ok(None),
        (Some(true), None) => Err(RpcError("enabling a limit needs its value".into())),
        (None, Some(v)) if current > 0 => Ok(Some(v.saturating_mul(KB))),
        (None, _) => Ok(None),
    }
}

/// The speed settings `session-set` asks for (admins; server-wide).
fn speed_patch(state: &AppState, args: &Args) -> Result<app::types::SettingsPatch, RpcError> {
    let sp = state.speed.settings();
    let kb = |k: &str| -> Result<Option<u64>, RpcError> {
        args.get(k)
            .map(|v| {
                v.as_u64()
                    .map(|n| n.saturating_mul(KB))
                    .ok_or_else(|| RpcError(format!("{k} must be a whole number")))
            })
            .transpose()
    };
    let mut schedule = sp.alt_schedule.clone();
    let mut schedule_changed = false;
    if let Some(on) = args.get("alt-speed-time-enabled").and_then(Value::as_bool) {
        schedule.enabled = on;
        schedule_changed = true;
    }
    for (k, field) in [
        ("alt-speed-time-begin", &mut schedule.from),
        ("alt-speed-time-end", &mut schedule.to),
    ] {
        if let Some(m) = args.get(k) {
            let m = m
                .as_u64()
                .filter(|m| *m < 24 * 60)
                .ok_or_else(|| RpcError(format!("{k} must be minutes after midnight")))?;
            *field = crate::speed::schedule::format_time(m as u16);
            schedule_changed = true;
        }
    }
    if let Some(d) = args.get("alt-speed-time-day") {
        let d = d
            .as_u64()
            .filter(|d| *d > 0 && *d < 128)
            .ok_or_else(|| RpcError("alt-speed-time-day must be a day mask (1..127)".into()))?;
        schedule.days = days_from_transmission(d);
        schedule_changed = true;
    }
    Ok(app::types::SettingsPatch {
        download_limit: rpc_limit(
            args.get("speed-limit-down"),
            args.get("speed-limit-down-enabled"),
            sp.download_limit,
        )?,
        upload_limit: rpc_limit(
            args.get("speed-limit-up"),
            args.get("speed-limit-up-enabled"),
            sp.upload_limit,
        )?,
        alt_download_limit: kb("alt-speed-down")?,
        alt_upload_limit: kb("alt-speed-up")?,
        alt_schedule: schedule_changed.then_some(schedule),
        alt_enabled: args.get("alt-speed-enabled").and_then(Value::as_bool),
        ..Default::default()
    })
}

/// Speed settings keys `session-set` applies.
const SPEED_KEYS: &[&str] = &[
    "speed-limit-down",
    "speed-limit-down-enabled",
    "speed-limit-up",
    "speed-limit-up-enabled",
    "alt-speed-down",
    "alt-speed-up",
    "alt-speed-enabled",
    "alt-speed-time-enabled",
    "alt-speed-time-begin",
    "alt-speed-time-end",
    "alt-speed-time-day",
];

/// `session-set`: the download queue and speed settings (admins; server-wide) are applied;
/// any other known setting may only be set to its current value.
async fn session_set(state: &AppState, user: &AuthUser, args: &Args) -> Answer {
    let current = session_values(state, user);
    let speed = speed_patch(state, args)?;
    let encryption = match args.get("encryption") {
        Some(v) => Some(
            v.as_str()
                .and_then(crate::encryption::from_transmission)
                .ok_or_else(|| {
                    RpcError("encryption must be required, preferred or tolerated".into())
                })?,
        ),
        None => None,
    };
    let mut cap = None;
    let mut refused = Vec::new();
    let queue_on = args.get("download-queue-enabled").and_then(Value::as_bool);
    let size = args.get("download-queue-size").and_then(Value::as_u64);
    match (queue_on, size) {
        (Some(false), _) => cap = Some(0),
        (Some(true), Some(n)) | (None, Some(n)) if n > 0 => {
            cap = Some(u32::try_from(n).unwrap_or(u32::MAX))
        }
        (Some(true), _) if state.library.max_active() == 0 => cap = Some(5),
        _ => {}
    }
    for (k, v) in args {
        if matches!(
            k.as_str(),
            "download-queue-enabled" | "download-queue-size" | "encryption"
        ) || SPEED_KEYS.contains(&k.as_str())
        {
            continue;
        }
        if let Some(cur) = current.get(k) {
            let same = match (cur.as_f64(), v.as_f64()) {
                (Some(a), Some(b)) => a == b,
                _ => cur == v,
            };
            if !same {
                refused.push(k.clone());
            }
        }
    }
    if !refused.is_empty() {
        return Err(RpcError(format!(
            "TorrentEdge cannot change these settings: {}",
            refused.join(", ")
        )));
    }
    if let Some(n) = cap {
        if n != state.library.max_active() {
            if !user.is_admin() {
                return Err(RpcError(
                    "only an admin can change the download queue".into(),
                ));
            }
            state.library.set_max_active(n);
        }
    }
    let session = state.library.session();
    if let Some(e) = encryption.filter(|e| *e != crate::encryption::current(session)) {
        if !user.is_admin() {
            return Err(RpcError("only an admin can change encryption".into()));
        }
        crate::encryption::set(session, &state.db, e)
            .await
            .map_err(|e| RpcError(e.to_string()))?;
    }
    if SPEED_KEYS.iter().any(|k| args.contains_key(*k)) {
        let before = state.speed.settings();
        let mut after = before.clone();
        after.download_limit = speed.download_limit.unwrap_or(after.download_limit);
        after.upload_limit = speed.upload_limit.unwrap_or(after.upload_limit);
        after.alt_download_limit = speed.alt_download_limit.unwrap_or(after.alt_download_limit);
        after.alt_upload_limit = speed.alt_upload_limit.unwrap_or(after.alt_upload_limit);
        if let Some(s) = &speed.alt_schedule {
            after.alt_schedule = s.clone();
        }
        let toggles = speed.alt_enabled.is_some_and(|on| on != before.alt_enabled);
        if after != before || toggles {
            if !user.is_admin() {
                return Err(RpcError("only an admin can change speed limits".into()));
            }
            state
                .speed
                .update(speed)
                .await
                .map_err(|e| RpcError(e.to_string()))?;
        }
    }
    Ok(Args::new())
}

fn session_stats(state: &AppState, user: &AuthUser) -> Args {
    let list = state.library.list(user);
    let (mut dl, mut ul, mut dld, mut uld, mut paused) = (0u64, 0u64, 0u64, 0u64, 0usize);
    for s in &list {
        dl += s.download_rate;
        ul += s.upload_rate;
        dld += s.downloaded;
        uld += s.uploaded;
        if s.state == app::types::TorrentState::Paused {
            paused += 1;
        }
    }
    let secs = state.started.elapsed().as_secs();
    let stats = json!({ "uploadedBytes": uld, "downloadedBytes": dld, "filesAdded": list.len(),
        "sessionCount": 1, "secondsActive": secs });
    obj(json!({
        "activeTorrentCount": list.len() - paused, "pausedTorrentCount": paused,
        "torrentCount": list.len(), "downloadSpeed": dl, "uploadSpeed": ul,
        "cumulative-stats": stats, "current-stats": stats,
    }))
}

fn torrent_get(state: &AppState, user: &AuthUser, args: &Args) -> Answer {
    let want = wanted(args.get("fields"));
    if want.is_empty() {
        return Err(RpcError("no fields specified".into()));
    }
    let list: Vec<TorrentSummary> = state.library.list_labelled(user, None, None);
    let selected: Option<HashSet<String>> = match args.get("ids") {
        None => None,
        Some(_) => Some(
            ids(state, user, args)?
                .iter()
                .map(InfoHash::to_hex)
                .collect(),
        ),
    };
    let torrents: Vec<Value> = list
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            selected
                .as_ref()
                .is_none_or(|set| set.contains(&s.info_hash))
        })
        .map(|(pos, s)| Value::Object(fields::torrent(state, user, s, pos, &want)))
        .collect();
    let mut out = Args::new();
    if args.get("format").and_then(Value::as_str) == Some("table") {
        let keys: Vec<String> = torrents
            .first()
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let mut rows = vec![json!(keys)];
        for t in &torrents {
            rows.push(json!(keys.iter().map(|k| t[k].clone()).collect::<Vec<_>>()));
        }
        out.insert("torrents".into(), json!(rows));
    } else {
        out.insert("torrents".into(), json!(torrents));
    }
    if args.get("ids").and_then(Value::as_str) == Some("recently-active") {
        // Removals are not tracked per client; a client sees them as missing ids.
        out.insert("removed".into(), json!([]));
    }
    Ok(out)
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn non_empty_list(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Array(a)) if !a.is_empty())
}

async fn torrent_add(state: &AppState, user: &AuthUser, args: &Args) -> Answer {
    if non_empty_list(args.get("files-unwanted"))
        || non_empty_list(args.get("priority-high"))
        || non_empty_list(args.get("priority-low"))
    {
        return Err(lacking("file wants and priorities"));
    }
    let opts = AddOptions {
        save_path: args
            .get("download-dir")
            .and_then(Value::as_str)
            .map(str::to_owned),
        paused: args.get("paused").and_then(Value::as_bool).unwrap_or(false),
        priority: match args.get("bandwidthPriority").and_then(Value::as_i64) {
            Some(p) if p > 0 => Priority::High,
            Some(p) if p < 0 => Priority::Low,
            _ => Priority::Normal,
        },
        tags: str_list(args.get("labels")),
        ..AddOptions::default()
    };
    let metainfo;
    let source = if let Some(b64) = args.get("metainfo").and_then(Value::as_str) {
        let cleaned: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        metainfo = base64::engine::general_purpose::STANDARD
            .decode(cleaned)
            .map_err(|_| RpcError("invalid or corrupt torrent file".into()))?;
        if metainfo.len() > state.config.max_torrent_size {
            return Err(RpcError("torrent file is too large".into()));
        }
        AddSource::File(&metainfo)
    } else if let Some(f) = args.get("filename").and_then(Value::as_str) {
        if !f.trim_start().starts_with("magnet:") {
            return Err(lacking(
                "adding torrents by URL or server path; send metainfo or a magnet link",
            ));
        }
        AddSource::Magnet(f)
    } else {
        return Err(RpcError("no filename or metainfo specified".into()));
    };
    let dup_hash = match &source {
        AddSource::File(b) => engine::metainfo::Metainfo::from_bytes(b)
            .ok()
            .map(|m| m.info_hash),
        AddSource::Magnet(u) => engine::magnet::Magnet::parse(u).ok().map(|m| m.info_hash),
    };
    match state.library.add_labelled(user, source, &opts).await {
        Ok(s) => Ok(obj(
            json!({ "torrent-added": { "id": s.id, "name": s.name, "hashString": s.info_hash } }),
        )),
        Err(LibraryError::Duplicate) => {
            let s = dup_hash
                .and_then(|ih| state.library.summary_of(user, &ih).ok())
                .ok_or_else(|| RpcError("duplicate torrent".into()))?;
            Ok(obj(
                json!({ "torrent-duplicate": { "id": s.id, "name": s.name, "hashString": s.info_hash } }),
            ))
        }
        Err(LibraryError::InvalidTorrent(_)) => {
            Err(RpcError("invalid or corrupt torrent file".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// File indices (0-based) of one `torrent-set` list argument.
fn indices(args: &Args, key: &str) -> Result<Vec<usize>, RpcError> {
    let Some(v) = args.get(key) else {
        return Ok(Vec::new());
    };
    v.as_array()
        .ok_or_else(|| RpcError(format!("{key} must be a list of file indices")))?
        .iter()
        .map(|i| {
            i.as_u64()
                .map(|i| i as usize)
                .ok_or_else(|| RpcError(format!("{key} must be a list of file indices")))
        })
        .collect()
}

/// `files-wanted`/`files-unwanted` and `priority-high`/`-normal`/`-low` as file priorities:
/// unwanted is `skip` whatever its priority; a wanted file without a priority is `normal`.
fn file_changes(args: &Args) -> Result<Vec<FilePriorityChange>, RpcError> {
    let mut out: Vec<FilePriorityChange> = Vec::new();
    let mut put =
        |index: usize, priority: FilePriority| match out.iter_mut().find(|c| c.index == index) {
            Some(c) => c.priority = priority,
            None => out.push(FilePriorityChange { index, priority }),
        };
    for i in indices(args, "files-wanted")? {
        put(i, FilePriority::Normal);
    }
    for (key, p) in [
        ("priority-low", FilePriority::Low),
        ("priority-normal", FilePriority::Normal),
        ("priority-high", FilePriority::High),
    ] {
        for i in indices(args, key)? {
            put(i, p);
        }
    }
    for i in indices(args, "files-unwanted")? {
        put(i, FilePriority::Skip);
    }
    Ok(out)
}

/// A torrent's own seeding goal from Transmission's mode (0 = the session's, 1 = this
/// torrent's `limit`, 2 = unlimited) and limit, in TorrentEdge's terms (-1, the value, 0);
/// `None` when neither is given.
fn seed_goal(args: &Args, mode: &str, limit: &str) -> Result<Option<f64>, RpcError> {
    let value = args
        .get(limit)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite());
    match (args.get(mode).and_then(Value::as_i64), value) {
        (Some(0), _) => Ok(Some(-1.0)),
        (Some(2), _) => Ok(Some(0.0)),
        (Some(1) | None, Some(v)) => Ok(Some(v.max(0.0))),
        (Some(1) | None, None) => Ok(None),
        (Some(m), _) => Err(RpcError(format!("{mode} {m} is not 0, 1 or 2"))),
    }
}

/// `torrent-set`: seeding goals, labels, bandwidth priority, rate limits (kB/s), file wants and priorities
/// and sequential order are applied; queue positions and tracker edits only when they ask
/// for what is already so.
async fn torrent_set(state: &AppState, user: &AuthUser, args: &Args) -> Answer {
    let ratio_goal = seed_goal(args, "seedRatioMode", "seedRatioLimit")?;
    let idle_goal = seed_goal(args, "seedIdleMode", "seedIdleLimit")?.map(|m| m as i64);
    let file_changes = file_changes(args)?;
    if args.contains_key("queuePosition") {
        return Err(lacking("queue positions (use queue-move-*)"));
    }
    if [
        "trackerAdd",
        "trackerRemove",
        "trackerReplace",
        "trackerList",
    ]
    .iter()
    .any(|k| args.contains_key(*k))
    {
        return Err(lacking("editing trackers"));
    }
    let sequential = args.get("sequentialDownload").and_then(Value::as_bool);
    if let Some(loc) = args.get("location").and_then(Value::as_str) {
        for ih in ids(state, user, args)? {
            if !state.library.is_saved_in(user, &ih, loc)? {
                return Err(lacking("moving a torrent's data"));
            }
        }
    }
    let labels = args.get("labels").map(|v| str_list(Some(v)));
    let priority = args
        .get("bandwidthPriority")
        .and_then(Value::as_i64)
        .map(|p| match p {
            p if p > 0 => Priority::High,
            p if p < 0 => Priority::Low,
            _ => Priority::Normal,
        });
    for ih in ids(state, user, args)? {
        if ratio_goal.is_some() || idle_goal.is_some() {
            state
                .library
                .set_torrent_goals(user, &ih, ratio_goal, None, idle_goal, None)
                .await?;
        }
        if let Some(l) = &labels {
            state
                .library
                .edit_tags(user, &ih, TagEdit::Replace, l)
                .await?;
        }
        if let Some(p) = priority {
            state.library.set_priority(user, &ih, p).await?;
        }
        if !file_changes.is_empty() {
            state
                .library
                .set_file_priorities(user, &ih, &file_changes)
                .await?;
        }
        if let Some(on) = sequential {
            state
                .library
                .set_flag(user, &ih, Flag::Sequential, on)
                .await?;
        }
        let limits_asked = [
            "downloadLimit",
            "downloadLimited",
            "uploadLimit",
            "uploadLimited",
        ]
        .iter()
        .any(|k| args.contains_key(*k));
        if limits_asked {
            let s = state.library.summary_of(user, &ih)?;
            let down = rpc_limit(
                args.get("downloadLimit"),
                args.get("downloadLimited"),
                s.download_limit,
            )?;
            let up = rpc_limit(
                args.get("uploadLimit"),
                args.get("uploadLimited"),
                s.upload_limit,
            )?;
            if down.is_some() || up.is_some() {
                state.library.set_limits(user, &ih, down, up).await?;
            }
        }
    }
    Ok(Args::new())
}
