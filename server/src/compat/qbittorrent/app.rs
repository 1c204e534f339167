//! `app/...` and `transfer/...`: versions, preferences, global rates.

use app::types::SettingsPatch;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::session::QbitUser;
use super::{text, Params, QbitError, APP_VERSION, WEBAPI_VERSION};
use crate::auth::AuthUser;
use crate::state::AppState;

pub async fn version(_u: QbitUser) -> Response {
    text(APP_VERSION)
}

pub async fn webapi_version(_u: QbitUser) -> Response {
    text(WEBAPI_VERSION)
}

pub async fn build_info(_u: QbitUser) -> Json<Value> {
    Json(json!({
        "qt": "", "libtorrent": "", "boost": "", "openssl": "", "zlib": "",
        "bitness": usize::BITS, "platform": std::env::consts::OS,
        "torrentedge": env!("CARGO_PKG_VERSION"),
    }))
}

pub async fn default_save_path(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
) -> Response {
    state
        .library
        .user_root(&user)
        .display()
        .to_string()
        .into_response()
}

/// The preferences TorrentEdge has, with qBittorrent's names (rates in bytes per second, as
/// qBittorrent's WebUI sends them). Limits that TorrentEdge does not enforce read as off.
pub fn preferences_of(state: &AppState, user: &AuthUser) -> Map<String, Value> {
    let cap = state.library.max_active();
    let speed = state.speed.settings();
    let v = json!({
        "save_path": state.library.user_root(user).display().to_string(),
        "temp_path_enabled": false,
        "auto_tmm_enabled": false,
        "max_ratio_enabled": false,
        "max_ratio": -1,
        "max_seeding_time_enabled": false,
        "max_seeding_time": -1,
        "max_inactive_seeding_time_enabled": false,
        "max_inactive_seeding_time": -1,
        "max_ratio_act": 0,
        "queueing_enabled": cap > 0,
        "max_active_downloads": if cap > 0 { i64::from(cap) } else { -1 },
        "max_active_torrents": -1,
        "max_active_uploads": -1,
        "dht": state.config.dht.is_some(),
        "encryption": crate::encryption::to_qbittorrent(
            crate::encryption::current(state.library.session())),
        "pex": state.config.pex,
        "lsd": state.config.network.lsd,
        "upnp": state.config.network.upnp,
        "dl_limit": speed.download_limit,
        "up_limit": speed.upload_limit,
        "alt_dl_limit": speed.alt_download_limit,
        "alt_up_limit": speed.alt_upload_limit,
        "scheduler_enabled": speed.alt_schedule.enabled,
        "listen_port": state.config.peer_port,
        "max_connec": state.config.max_peer_connections,
        "max_connec_per_torrent": state.config.max_peers_per_torrent,
        "start_paused_enabled": false,
        "add_stopped_enabled": false,
        "create_subfolder_enabled": true,
        "torrent_content_layout": "Original",
        "web_ui_username": user.username,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn preferences(State(state): State<AppState>, QbitUser(user): QbitUser) -> Json<Value> {
    Json(Value::Object(preferences_of(&state, &user)))
}

/// `app/setPreferences` (`json=` object): the download cap (`queueing_enabled`,
/// `max_active_downloads`; admins only, it is server-wide) is applied; any other known
/// preference may only be set to its current value (409 otherwise, naming it); unknown keys
/// are ignored, as qBittorrent ignores them.
pub async fn set_preferences(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let body: Map<String, Value> = serde_json::from_str(p.required("json")?)
        .map_err(|e| QbitError::BadRequest(format!("json is not an object: {e}")))?;
    let current = preferences_of(&state, &user);
    let mut cap: Option<u32> = None;
    let mut encryption = None;
    let mut speed = SettingsPatch::default();
    let mut refused = Vec::new();
    let rate = |v: &Value| -> Result<Option<u64>, QbitError> {
        match v.as_i64() {
            Some(n) => Ok(Some(u64::try_from(n).unwrap_or(0))),
            None => Err(QbitError::BadRequest("limits must be numbers".into())),
        }
    };
    for (k, v) in &body {
        match k.as_str() {
            "dl_limit" => speed.download_limit = rate(v)?,
            "up_limit" => speed.upload_limit = rate(v)?,
            "alt_dl_limit" => speed.alt_download_limit = rate(v)?,
            "alt_up_limit" => speed.alt_upload_limit = rate(v)?,
            "encryption" => {
                encryption = Some(
                    v.as_i64()
                        .and_then(crate::encryption::from_qbittorrent)
                        .ok_or_else(|| {
                            QbitError::BadRequest("encryption must be 0, 1 or 2".into())
                        })?,
                )
            }
            "queueing_enabled" if v.as_bool() == Some(false) => cap = Some(0),
            "queueing_enabled" if v.as_bool() == Some(true) => {
                if cap.is_none() && state.library.max_active() == 0 {
                    cap = Some(
                        body.get("max_active_downloads")
                            .and_then(Value::as_i64)
                            .filter(|n| *n > 0)
                            .map_or(3, |n| u32::try_from(n).unwrap_or(u32::MAX)),
                    );
                }
            }
            "max_active_downloads" => match v.as_i64() {
                Some(n) if n > 0 && body.get("queueing_enabled") != Some(&Value::Bool(false)) => {
                    cap = Some(u32::try_from(n).unwrap_or(u32::MAX));
                }
                Some(_) => {}
                None => {
                    return Err(QbitError::BadRequest(
                        "max_active_downloads must be a number".into(),
                    ))
                }
            },
            key => {
                if let Some(cur) = current.get(key) {
                    if !same(cur, v) {
                        refused.push(key.to_owned());
                    }
                }
            }
        }
    }
    if !refused.is_empty() {
        return Err(QbitError::Conflict(format!(
            "TorrentEdge cannot change these preferences: {}",
            refused.join(", ")
        )));
    }
    let speed_changes = speed != SettingsPatch::default() && {
        let s = state.speed.settings();
        [
            (speed.download_limit, s.download_limit),
            (speed.upload_limit, s.upload_limit),
            (speed.alt_download_limit, s.alt_download_limit),
            (speed.alt_upload_limit, s.alt_upload_limit),
        ]
        .iter()
        .any(|(new, cur)| new.is_some_and(|n| n != *cur))
    };
    let session = state.library.session();
    let encryption = encryption.filter(|e| *e != crate::encryption::current(session));
    if (speed_changes
        || encryption.is_some()
        || cap.is_some_and(|n| n != state.library.max_active()))
        && !user.is_admin()
    {
        return Err(QbitError::Forbidden);
    }
    if let Some(e) = encryption {
        crate::encryption::set(session, &state.db, e)
            .await
            .map_err(|e| QbitError::Internal(e.to_string()))?;
    }
    if let Some(n) = cap {
        if n != state.library.max_active() {
            state.library.set_max_active(n);
        }
    }
    if speed_changes {
        state
            .speed
            .update(speed)
            .await
            .map_err(|e| QbitError::Internal(e.to_string()))?;
    }
    Ok(StatusCode::OK.into_response())
}

/// Equal as JSON values, numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// Global rates and totals over the caller's torrents (an admin's: all), and the DHT
/// node count (server-wide; see [`dht_nodes`]).
pub fn transfer_of(state: &AppState, user: &AuthUser, dht_nodes: usize) -> Map<String, Value> {
    let (mut dl, mut ul, mut dld, mut uld) = (0u64, 0u64, 0u64, 0u64);
    for (e, s) in state.library.snapshot() {
        if user.can_access(e.owner_id) {
            dl += s.download_rate;
            ul += s.upload_rate;
            dld += s.downloaded;
            uld += s.uploaded;
        }
    }
    let (down_limit, up_limit) = state.library.session().rate_limits();
    let v = json!({
        "dl_info_speed": dl, "dl_info_data": dld, "up_info_speed": ul, "up_info_data": uld,
        "dl_rate_limit": down_limit, "up_rate_limit": up_limit, "dht_nodes": dht_nodes,
        "connection_status": "connected",
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn transfer_info(State(state): State<AppState>, QbitUser(user): QbitUser) -> Json<Value> {
    let nodes = dht_nodes(&state).await;
    Json(Value::Object(transfer_of(&state, &user, nodes)))
}

/// Nodes in the DHT routing table (0 with the DHT off).
pub async fn dht_nodes(state: &AppState) -> usize {
    state
        .library
        .session()
        .dht_stats()
        .await
        .map_or(0, |s| s.nodes)
}

/// `transfer/speedLimitsMode`: 1 while the alternative limits are in force.
pub async fn speed_limits_mode(State(state): State<AppState>, _u: QbitUser) -> Response {
    text(if state.speed.settings().alt_enabled {
        "1"
    } else {
        "0"
    })
}

async fn set_alt(state: &AppState, user: &AuthUser, on: bool) -> Result<Response, QbitError> {
    if !user.is_admin() {
        return Err(QbitError::Forbidden);
    }
    let patch = SettingsPatch {
        alt_enabled: Some(on),
        ..Default::default()
    };
    state
        .speed
        .update(patch)
        .await
        .map_err(|e| QbitError::Internal(e.to_string()))?;
    Ok(StatusCode::OK.into_response())
}

/// `transfer/toggleSpeedLimitsMode` (admins): the "alternative speed" toggle.
pub async fn toggle_speed_limits_mode(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
) -> Result<Response, QbitError> {
    let on = !state.speed.settings().alt_enabled;
    set_alt(&state, &user, on).await
}

/// `transfer/setSpeedLimitsMode` (admins): `mode=1` alternative, `0` normal.
pub async fn set_speed_limits_mode(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let on = match p.required("mode")?.trim() {
        "1" => true,
        "0" => false,
        _ => return Err(QbitError::BadRequest("mode must be 0 or 1".into())),
    };
    set_alt(&state, &user, on).await
}

/// `transfer/downloadLimit`: the global limit in force (the alternative one in that mode).
pub async fn download_limit(State(state): State<AppState>, _u: QbitUser) -> Response {
    let v = state.library.session().rate_limits().0;
    (StatusCode::OK, v.to_string()).into_response()
}

pub async fn upload_limit(State(state): State<AppState>, _u: QbitUser) -> Response {
    let v = state.library.session().rate_limits().1;
    (StatusCode::OK, v.to_string()).into_response()
}

/// `transfer/setDownloadLimit` (admins): the current mode's global limit, bytes per second.
pub async fn set_download_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_global(&state, &user, &p, true).await
}

pub async fn set_upload_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_global(&state, &user, &p, false).await
}

async fn set_global(
    state: &AppState,
    user: &AuthUser,
    p: &Params,
    down: bool,
) -> Result<Response, QbitError> {
    if !user.is_admin() {
        return Err(QbitError::Forbidden);
    }
    let rate = Some(super::limits::parse_rate(p.get("limit"))?);
    let alt = state.speed.settings().alt_enabled;
    let mut patch = SettingsPatch::default();
    match (alt, down) {
        (false, true) => patch.download_limit = rate,
        (false, false) => patch.upload_limit = rate,
        (true, true) => patch.alt_download_limit = rate,
        (true, false) => patch.alt_upload_limit = rate,
    }
    state
        .speed
        .update(patch)
        .await
        .map_err(|e| QbitError::Internal(e.to_string()))?;
    Ok(StatusCode::OK.into_response())
}
