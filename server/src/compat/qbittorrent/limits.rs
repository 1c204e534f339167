//! Per-torrent rate limits, and calls for features TorrentEdge does not have yet (share limits, file
//! priorities, moving data, recheck, reannounce, sequential download, super seeding):
//! they answer 409 with the reason, never a success that changes nothing. A call that asks
//! for what is already the case (no limit, the current folder) succeeds. Queue positions map
//! onto TorrentEdge's priorities, and answer 409 while queueing is off, as qBittorrent does.

use app::types::{FilePriority, FilePriorityChange, Priority, TorrentSummary};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::session::QbitUser;
use super::torrents::selected;
use super::{Params, QbitError};
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::selection::Flag;

fn lacking(what: &str) -> QbitError {
    QbitError::Conflict(format!("TorrentEdge does not support {what} yet"))
}

fn ok() -> Response {
    StatusCode::OK.into_response()
}

/// Whether a limit parameter means "none" or "the global one" (which is none).
fn no_limit(v: Option<&str>) -> bool {
    v.is_none_or(|v| matches!(v.trim(), "" | "0" | "-1" | "-2"))
}

pub async fn recheck(_u: QbitUser) -> QbitError {
    lacking("rechecking a torrent")
}

pub async fn reannounce(_u: QbitUser) -> QbitError {
    lacking("forcing a reannounce")
}

/// `torrents/setShareLimits`: the torrents' own seeding goals. qBittorrent's -2 ("use the
/// global one") is TorrentEdge's -1, its -1 ("none") TorrentEdge's 0; other values are the
/// ratio or minutes (a 0 there also means none here).
pub async fn set_share_limits(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let goals = ShareLimits::from_params(&p)?;
    for ih in selected(&state, &user, p.required("hashes")?) {
        goals.apply(&state, &user, &ih).await?;
    }
    Ok(ok())
}

/// qBittorrent's share limits of one call (`setShareLimits`, or `torrents/add`), in
/// TorrentEdge's terms; `None` = not given.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ShareLimits {
    ratio: Option<f64>,
    minutes: Option<i64>,
    idle: Option<i64>,
}

impl ShareLimits {
    pub fn from_params(p: &Params) -> Result<ShareLimits, QbitError> {
        let goal = |k: &str| -> Result<Option<f64>, QbitError> {
            let Some(v) = p.get(k).map(str::trim).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            let x: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| QbitError::BadRequest(format!("{k} must be a number")))?;
            Ok(Some(match x {
                x if x <= -2.0 => -1.0,
                x if x < 0.0 => 0.0,
                x => x,
            }))
        };
        Ok(ShareLimits {
            ratio: goal("ratioLimit")?,
            minutes: goal("seedingTimeLimit")?.map(|m| m as i64),
            idle: goal("inactiveSeedingTimeLimit")?.map(|m| m as i64),
        })
    }

    pub async fn apply(
        &self,
        state: &AppState,
        user: &AuthUser,
        ih: &engine::InfoHash,
    ) -> Result<(), QbitError> {
        if *self != ShareLimits::default() {
            state
                .library
                .set_torrent_goals(user, ih, self.ratio, self.minutes, self.idle, None)
                .await?;
        }
        Ok(())
    }
}

/// A `limit` in bytes per second; qBittorrent's "none" values (empty, 0, -1) are 0.
pub fn parse_rate(v: Option<&str>) -> Result<u64, QbitError> {
    let v = v.unwrap_or("").trim();
    if no_limit(Some(v)) {
        return Ok(0);
    }
    v.parse::<u64>()
        .map_err(|_| QbitError::BadRequest(format!("limit must be bytes per second, got {v:?}")))
}

/// Which limit of a torrent a call is about.
#[derive(Clone, Copy)]
enum Dir {
    Down,
    Up,
}

async fn set_limit(
    state: &AppState,
    user: &crate::auth::AuthUser,
    p: &Params,
    dir: Dir,
) -> Result<Response, QbitError> {
    let rate = parse_rate(p.get("limit"))?;
    for ih in selected(state, user, p.required("hashes")?) {
        let (down, up) = match dir {
            Dir::Down => (Some(rate), None),
            Dir::Up => (None, Some(rate)),
        };
        state.library.set_limits(user, &ih, down, up).await?;
    }
    Ok(ok())
}

pub async fn set_download_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_limit(&state, &user, &p, Dir::Down).await
}

pub async fn set_upload_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    set_limit(&state, &user, &p, Dir::Up).await
}

fn limits_of(
    state: &AppState,
    user: &crate::auth::AuthUser,
    p: &Params,
    dir: Dir,
) -> Result<Value, QbitError> {
    let mut m = Map::new();
    for ih in selected(state, user, p.required("hashes")?) {
        let d = state.library.detail(user, &ih)?;
        let v = match dir {
            Dir::Down => d.summary.download_limit,
            Dir::Up => d.summary.upload_limit,
        };
        m.insert(ih.to_hex(), Value::from(v));
    }
    Ok(Value::Object(m))
}

/// `torrents/downloadLimit`: each selected torrent's own limit, bytes per second (0: none).
pub async fn download_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Value>, QbitError> {
    Ok(Json(limits_of(&state, &user, &p, Dir::Down)?))
}

pub async fn upload_limit(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Json<Value>, QbitError> {
    Ok(Json(limits_of(&state, &user, &p, Dir::Up)?))
}

/// `torrents/filePrio`: qBittorrent's 0 (do not download), 1 (normal), 6 (high) and 7
/// (maximal, also high here) for the files `id` (0-based, `|`-separated).
pub async fn file_prio(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let hash = p.required("hash")?;
    let id = p.required("id")?;
    let indices: Vec<usize> = id
        .split('|')
        .map(|i| i.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| QbitError::BadRequest("File IDs must be integers".into()))?;
    let priority = match p.required("priority")?.trim() {
        "0" => FilePriority::Skip,
        "1" => FilePriority::Normal,
        "6" | "7" => FilePriority::High,
        _ => return Err(QbitError::BadRequest("Priority is not valid".into())),
    };
    let ih = engine::InfoHash::from_hex(hash.trim()).map_err(|_| QbitError::NotFound)?;
    let changes: Vec<FilePriorityChange> = indices
        .into_iter()
        .map(|index| FilePriorityChange { index, priority })
        .collect();
    state
        .library
        .set_file_priorities(&user, &ih, &changes)
        .await?;
    Ok(ok())
}

/// `torrents/setLocation`: only the folder a torrent is already in (moving data is not
/// supported).
pub async fn set_location(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let location = p.required("location")?.trim();
    if location.is_empty() {
        return Err(QbitError::BadRequest("Save path cannot be empty".into()));
    }
    for ih in selected(&state, &user, p.required("hashes")?) {
        let same = state
            .library
            .is_saved_in(&user, &ih, location)
            .map_err(|e| QbitError::Conflict(e.to_string()))?;
        if !same {
            return Err(lacking("moving a torrent's data"));
        }
    }
    Ok(ok())
}

pub async fn rename(_u: QbitUser, p: Params) -> Result<Response, QbitError> {
    p.required("hash")?;
    if p.required("name")?.trim().is_empty() {
        return Err(QbitError::Conflict("Incorrect torrent name".into()));
    }
    Err(lacking("renaming torrents"))
}

/// `value=false` is what every torrent already is.
fn only_false(p: &Params, what: &str) -> Result<Response, QbitError> {
    if p.flag("value") {
        Err(lacking(what))
    } else {
        Ok(ok())
    }
}

/// `torrents/setSuperSeeding` (`hashes`, `value`): BEP 16 on the selected torrents.
pub async fn set_super_seeding(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    let on = p.flag("value");
    for ih in selected(&state, &user, p.required("hashes")?) {
        state
            .library
            .set_flag(&user, &ih, Flag::SuperSeeding, on)
            .await?;
    }
    Ok(ok())
}

pub async fn set_auto_management(_u: QbitUser, p: Params) -> Result<Response, QbitError> {
    only_false(&p, "automatic torrent management")
}

/// `torrents/toggleSequentialDownload` (`hashes`): flips each torrent's sequential order.
pub async fn toggle_sequential(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    toggle(&state, &user, &p, Flag::Sequential, |s| s.sequential).await
}

/// `torrents/toggleFirstLastPiecePrio` (`hashes`): flips each torrent's first-and-last-piece
/// order.
pub async fn toggle_first_last(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    toggle(&state, &user, &p, Flag::FirstLastPiece, |s| {
        s.first_last_piece
    })
    .await
}

async fn toggle(
    state: &AppState,
    user: &AuthUser,
    p: &Params,
    flag: Flag,
    current: fn(&TorrentSummary) -> bool,
) -> Result<Response, QbitError> {
    for ih in selected(state, user, p.required("hashes")?) {
        let on = current(&state.library.detail(user, &ih)?.summary);
        state.library.set_flag(user, &ih, flag, !on).await?;
    }
    Ok(ok())
}

/// `torrents/setForceStart`: without a download cap, forcing is starting; under a cap
/// TorrentEdge cannot let one torrent bypass the queue.
pub async fn set_force_start(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    if !p.flag("value") {
        return Ok(ok());
    }
    if state.library.max_active() > 0 {
        return Err(lacking("forcing a torrent past the download queue"));
    }
    for ih in selected(&state, &user, p.required("hashes")?) {
        state.library.set_paused(&user, &ih, false).await?;
    }
    Ok(ok())
}

#[derive(Clone, Copy)]
enum Move {
    Top,
    Bottom,
    Up,
    Down,
}

/// Queue moves as priority changes: top = high, bottom = low, up/down one step.
async fn move_prio(
    state: &AppState,
    user: QbitUser,
    p: &Params,
    m: Move,
) -> Result<Response, QbitError> {
    if state.library.max_active() == 0 {
        return Err(QbitError::Conflict(
            "Torrent queueing must be enabled".into(),
        ));
    }
    let user = user.0;
    for ih in selected(state, &user, p.required("hashes")?) {
        let cur = state.library.entry_for(&user, &ih)?.priority;
        let next = match (m, cur) {
            (Move::Top, _) | (Move::Up, Priority::Normal | Priority::High) => Priority::High,
            (Move::Bottom, _) | (Move::Down, Priority::Normal | Priority::Low) => Priority::Low,
            (Move::Up, Priority::Low) | (Move::Down, Priority::High) => Priority::Normal,
        };
        if next != cur {
            state.library.set_priority(&user, &ih, next).await?;
        }
    }
    Ok(ok())
}

pub async fn top_prio(
    State(s): State<AppState>,
    u: QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    move_prio(&s, u, &p, Move::Top).await
}

pub async fn bottom_prio(
    State(s): State<AppState>,
    u: QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    move_prio(&s, u, &p, Move::Bottom).await
}

pub async fn increase_prio(
    State(s): State<AppState>,
    u: QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    move_prio(&s, u, &p, Move::Up).await
}

pub async fn decrease_prio(
    State(s): State<AppState>,
    u: QbitUser,
    p: Params,
) -> Result<Response, QbitError> {
    move_prio(&s, u, &p, Move::Down).await
}
