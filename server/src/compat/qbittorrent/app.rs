//! `app/...` and `transfer/...`: versions, preferences, global rates.

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

/// The preferences TorrentEdge has, with qBittorrent's names. Limits that TorrentEdge does
/// not enforce read as off.
pub fn preferences_of(state: &AppState, user: &AuthUser) -> Map<String, Value> {
    let cap = state.library.max_active();
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
        "pex": false,
        "lsd": false,
        "upnp": false,
        "dl_limit": 0,
        "up_limit": 0,
        "alt_dl_limit": 0,
        "alt_up_limit": 0,
        "scheduler_enabled": false,
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
    let mut refused = Vec::new();
    for (k, v) in &body {
        match k.as_str() {
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
    if let Some(n) = cap {
        if n != state.library.max_active() {
            if !user.is_admin() {
                return Err(QbitError::Forbidden);
            }
            state.library.set_max_active(n);
        }
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
    let v = json!({
        "dl_info_speed": dl, "dl_info_data": dld, "up_info_speed": ul, "up_info_data": uld,
        "dl_rate_limit": 0, "up_rate_limit": 0, "dht_nodes": dht_nodes,
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

/// Alternative speed limits do not exist in TorrentEdge: always the normal mode (0).
pub async fn speed_limits_mode(_u: QbitUser) -> Response {
    text("0")
}

pub async fn toggle_speed_limits_mode(_u: QbitUser) -> QbitError {
    QbitError::Conflict("TorrentEdge does not support alternative speed limits yet".into())
}
