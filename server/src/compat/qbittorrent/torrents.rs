//! `torrents/...`: listing and reading torrents, pausing, deleting, categories and tags.

use app::types::TorrentSummary;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::InfoHash;
use serde_json::{json, Map, Value};

use super::convert;
use super::session::QbitUser;
use super::{Params, QbitError};
use crate::auth::AuthUser;
use crate::compat::now;
use crate::state::AppState;
use crate::torrents::tags::TagEdit;

/// The torrents `hashes` names (`h1|h2|...` or `all`) that `user` may see; unknown ones are
/// skipped, as qBittorrent skips them.
pub fn selected(state: &AppState, user: &AuthUser, hashes: &str) -> Vec<InfoHash> {
    if hashes.trim() == "all" {
        return state
            .library
            .list(user)
            .iter()
            .filter_map(|s| InfoHash::from_hex(&s.info_hash).ok())
            .collect();
    }
    hashes
        .split('|')
        .filter_map(|h| InfoHash::from_hex(h.trim()).ok())
        .filter(|ih| state.library.entry_for(user, ih).is_ok())
        .collect()
}

/// The one torrent of `hash`, or 404.
fn one(state: &AppState, user: &AuthUser, p: &Params) -> Result<InfoHash, QbitError> {
    let ih = InfoHash::from_hex(p.required("hash")?.trim()).map_err(|_| QbitError::NotFound)?;
    state
        .library
        .entry_for(user, &ih)
        .map(|e| e.info_hash)
        .map_err(|_| QbitError::NotFound)
}

fn queueing(state: &AppState) -> bool {
    state.library.max_active() > 0
}

/// `torrents/info`: filter, category, tag, hashes, sort, reverse, limit, offset.
pub async fn info(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Vec<Map<String, Value>>>, QbitError> {
    let mut list: Vec<TorrentSummary> =
        state
            .library
            .list_labelled(&user, p.get("category"), p.get("tag"));
    if let Some(f) = p.get("filter") {
        // An unknown filter lists everything, as in qBittorrent.
        list.retain(|s| convert::filter(f, s).unwrap_or(true));
    }
    if let Some(h) = p.get("hashes") {
        let wanted = selected(&state, &user, h);
        list.retain(|s| InfoHash::from_hex(&s.info_hash).is_ok_and(|ih| wanted.contains(&ih)));
    }
    let (q, t) = (queueing(&state), now());
    let mut out: Vec<Map<String, Value>> = list.iter().map(|s| convert::torrent(s, q, t)).collect();
    if let Some(key) = p.get("sort") {
        out.sort_by(|a, b| compare(a.get(key), b.get(key)));
        if p.flag("reverse") {
            out.reverse();
        }
    }
    let offset: i64 = p.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let start = if offset < 0 {
        out.len().saturating_sub(offset.unsigned_abs() as usize)
    } else {
        (offset as usize).min(out.len())
    };
    out.drain(..start);
    if let Some(limit) = p.get("limit").and_then(|v| v.parse::<i64>().ok()) {
        if limit > 0 {
            out.truncate(limit as usize);
        }
    }
    Ok(Json(out))
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        _ => std::cmp::Ordering::Equal,
    }
}

/// `torrents/properties?hash=`.
pub async fn properties(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Value>, QbitError> {
    let ih = one(&state, &user, &p)?;
    let d = state.library.detail(&user, &ih)?;
    let s = state.library.labelled(d.summary.clone());
    let t = now();
    let info = convert::torrent(&s, queueing(&state), t);
    let seeds_total: u32 = d
        .trackers
        .iter()
        .filter_map(|t| t.last_result.as_ref().and_then(|r| r.seeders))
        .max()
        .unwrap_or(0);
    let peers_total: u32 = d
        .trackers
        .iter()
        .filter_map(|t| t.last_result.as_ref().and_then(|r| r.leechers))
        .max()
        .unwrap_or(0);
    let elapsed = (t - s.added_at).max(1);
    let reannounce = d
        .trackers
        .iter()
        .filter_map(|t| t.next_announce_secs)
        .min()
        .unwrap_or(0);
    Ok(Json(json!({
        "hash": s.info_hash,
        "infohash_v1": s.info_hash,
        "infohash_v2": "",
        "name": s.name,
        "save_path": s.save_path,
        "download_path": "",
        "creation_date": d.creation_date.unwrap_or(-1),
        "piece_size": d.piece_length,
        "comment": d.comment.clone().unwrap_or_default(),
        "created_by": d.created_by.clone().unwrap_or_default(),
        "total_wasted": d.wasted,
        "total_uploaded": s.uploaded,
        "total_uploaded_session": s.uploaded,
        "total_downloaded": s.downloaded,
        "total_downloaded_session": s.downloaded,
        "up_limit": -1,
        "dl_limit": -1,
        "time_elapsed": elapsed,
        "seeding_time": info["seeding_time"],
        "nb_connections": s.peers,
        "nb_connections_limit": state.config.max_peers_per_torrent,
        "share_ratio": s.ratio,
        "addition_date": s.added_at,
        "completion_date": info["completion_on"],
        "dl_speed_avg": s.downloaded / elapsed as u64,
        "dl_speed": s.download_rate,
        "up_speed_avg": s.uploaded / elapsed as u64,
        "up_speed": s.upload_rate,
        "eta": info["eta"],
        "last_seen": info["seen_complete"],
        "peers": s.peers.saturating_sub(s.seeds),
        "peers_total": peers_total,
        "seeds": s.seeds,
        "seeds_total": seeds_total,
        "pieces_have": d.pieces_done,
        "pieces_num": d.num_pieces,
        "reannounce": reannounce,
        "total_size": s.total_bytes,
        "isPrivate": d.private,
        "is_private": d.private,
    })))
}

/// `torrents/files?hash=[&indexes=]`.
pub async fn files(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Vec<Value>>, QbitError> {
    let ih = one(&state, &user, &p)?;
    let d = state.library.detail(&user, &ih)?;
    let wanted: Option<Vec<usize>> = p
        .get("indexes")
        .map(|v| v.split('|').filter_map(|i| i.trim().parse().ok()).collect());
    let pl = u64::from(d.piece_length.max(1));
    let mut offset = 0u64;
    let mut out = Vec::new();
    for (i, f) in d.files.iter().enumerate() {
        let first = offset / pl;
        let last = (offset + f.length.max(1) - 1) / pl;
        offset += f.length;
        if wanted.as_ref().is_some_and(|w| !w.contains(&i)) {
            continue;
        }
        out.push(json!({
            "index": i,
            "name": f.path,
            "size": f.length,
            "progress": f.progress,
            // qBittorrent: 0 do not download, 1 normal (low too), 6 high.
            "priority": match f.priority {
                app::types::FilePriority::Skip => 0,
                app::types::FilePriority::Low | app::types::FilePriority::Normal => 1,
                app::types::FilePriority::High => 6,
            },
            "is_seed": f.bytes_done >= f.length,
            "piece_range": [first, last],
            "availability": if d.summary.seeds > 0 { 1.0 } else { 0.0 },
        }));
    }
    Ok(Json(out))
}

/// `torrents/trackers?hash=`: the DHT, PeX and LSD rows first (disabled: TorrentEdge has
/// none of them), then the torrent's trackers.
pub async fn trackers(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Vec<Value>>, QbitError> {
    let ih = one(&state, &user, &p)?;
    let d = state.library.detail(&user, &ih)?;
    let mut out: Vec<Value> = [
        ("** [DHT] **", "DHT is disabled"),
        ("** [PeX] **", "PeX is disabled"),
        ("** [LSD] **", "LSD is disabled"),
    ]
    .iter()
    .map(|(url, msg)| {
        json!({ "url": url, "status": 0, "tier": -1, "num_peers": 0, "num_seeds": 0,
            "num_leeches": 0, "num_downloaded": 0, "msg": msg })
    })
    .collect();
    for t in &d.trackers {
        let (status, msg, peers, seeds, leeches) = match &t.last_result {
            None => (1, String::new(), -1, -1, -1),
            Some(r) if r.ok => (
                2,
                String::new(),
                r.peers.map_or(-1, |n| n as i64),
                r.seeders.map_or(-1, i64::from),
                r.leechers.map_or(-1, i64::from),
            ),
            Some(r) => (4, r.error.clone().unwrap_or_default(), -1, -1, -1),
        };
        out.push(
            json!({ "url": t.url, "status": status, "tier": t.tier, "num_peers": peers,
            "num_seeds": seeds, "num_leeches": leeches, "num_downloaded": -1, "msg": msg }),
        );
    }
    Ok(Json(out))
}

/// `torrents/webseeds?hash=`: `[{url}]`.
pub async fn webseeds(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Vec<Value>>, QbitError> {
    let ih = one(&state, &user, &p)?;
    let d = state.library.detail(&user, &ih)?;
    Ok(Json(
        d.web_seeds.iter().map(|u| json!({ "url": u })).collect(),
    ))
}

/// `torrents/pieceStates?hash=`: 0 not downloaded, 2 downloaded.
pub async fn piece_states(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Vec<u8>>, QbitError> {
    let ih = one(&state, &user, &p)?;
    let pieces = state.library.pieces(&user, &ih)?;
    let bytes: Vec<u8> = (0..pieces.bitfield.len() / 2)
        .filter_map(|i| u8::from_str_radix(&pieces.bitfield[2 * i..2 * i + 2], 16).ok())
        .collect();
    Ok(Json(
        (0..pieces.num_pieces as usize)
            .map(|i| {
                let have = bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
                if have {
                    2
                } else {
                    0
                }
            })
            .collect(),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let delete_files = p.flag("deleteFiles");
    for ih in selected(&state, &user, p.required("hashes")?) {
        state.library.remove(&user, &ih, delete_files).await?;
    }
    Ok(ok())
}

fn ok() -> Response {
    axum::http::StatusCode::OK.into_response()
}

async fn set_paused(
    state: &AppState,
    user: &AuthUser,
    p: &Params,
    paused: bool,
) -> Result<Response, QbitError> {
    for ih in selected(state, user, p.required("hashes")?) {
        state.library.set_paused(user, &ih, paused).await?;
    }
    Ok(ok())
}

pub async fn pause(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_paused(&state, &user, &p, true).await
}

pub async fn resume(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_paused(&state, &user, &p, false).await
}

/// `torrents/setCategory`: 409 for a category that does not exist, as qBittorrent.
pub async fn set_category(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let category = p.required("category")?;
    let category = Some(category).filter(|c| !c.trim().is_empty());
    for ih in selected(&state, &user, p.required("hashes")?) {
        state.library.set_category(&user, &ih, category).await?;
    }
    Ok(ok())
}

pub async fn categories(State(state): State<AppState>, QbitUser(user): QbitUser) -> Json<Value> {
    Json(categories_json(&state, &user))
}

/// `{name: {name, savePath}}` with absolute save paths.
pub fn categories_json(state: &AppState, user: &AuthUser) -> Value {
    let root = state.library.user_root(user);
    let m: Map<String, Value> = state
        .library
        .categories(user)
        .into_iter()
        .map(|c| {
            let path = if c.save_path.is_empty() {
                root.display().to_string()
            } else {
                root.join(&c.save_path).display().to_string()
            };
            (c.name.clone(), json!({ "name": c.name, "savePath": path }))
        })
        .collect();
    Value::Object(m)
}

/// `torrents/createCategory`: 400 for an empty or invalid name, 409 when it exists.
pub async fn create_category(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let name = p.required("category")?;
    if name.trim().is_empty() {
        return Err(QbitError::BadRequest("Category cannot be empty".into()));
    }
    state
        .library
        .create_category(&user, name, p.get("savePath").unwrap_or(""))
        .await
        .map_err(|e| match e {
            crate::torrents::LibraryError::Exists(_) => {
                QbitError::Conflict("Unable to create category".into())
            }
            crate::torrents::LibraryError::Label(_) => {
                QbitError::BadRequest("Incorrect category name".into())
            }
            other => other.into(),
        })?;
    Ok(ok())
}

/// `torrents/editCategory`: 409 when it does not exist.
pub async fn edit_category(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let name = p.required("category")?;
    state
        .library
        .edit_category(&user, name, p.get("savePath").unwrap_or(""))
        .await
        .map_err(|e| match e {
            crate::torrents::LibraryError::Label(_) => {
                QbitError::Conflict("Category editing failed".into())
            }
            other => other.into(),
        })?;
    Ok(ok())
}

/// `torrents/removeCategories`: names separated by newlines.
pub async fn remove_categories(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let names: Vec<String> = p
        .required("categories")?
        .split('\n')
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    state.library.remove_categories(&user, &names).await?;
    Ok(ok())
}

fn tag_list(p: &Params) -> Result<Vec<String>, QbitError> {
    Ok(p.required("tags")?
        .split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect())
}

async fn edit_tags(
    state: &AppState,
    user: &AuthUser,
    p: &Params,
    edit: TagEdit,
) -> Result<Response, QbitError> {
    let tags = tag_list(p)?;
    // qBittorrent's removeTags with no tags removes them all.
    let (edit, tags) = if edit == TagEdit::Remove && tags.is_empty() {
        (TagEdit::Replace, Vec::new())
    } else {
        (edit, tags)
    };
    for ih in selected(state, user, p.required("hashes")?) {
        state.library.edit_tags(user, &ih, edit, &tags).await?;
    }
    Ok(ok())
}

pub async fn add_tags(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    edit_tags(&state, &user, &p, TagEdit::Add).await
}

pub async fn remove_tags(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    edit_tags(&state, &user, &p, TagEdit::Remove).await
}

pub async fn tags(State(state): State<AppState>, QbitUser(user): QbitUser) -> Json<Vec<String>> {
    Json(state.library.tags(&user))
}

pub async fn create_tags(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    state.library.create_tags(&user, &tag_list(&p)?).await?;
    Ok(ok())
}

pub async fn delete_tags(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    state.library.delete_tags(&user, &tag_list(&p)?).await?;
    Ok(ok())
}
