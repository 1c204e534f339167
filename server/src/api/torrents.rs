//! `/api/torrents...`: add (upload or magnet), list, detail, limits, pause/resume, priority,
//! peers, files, pieces, remove.

use app::types::{
    AddMagnet, AddOptions, AddPeers, FileProgress, PeerInfo, PiecesInfo, Priority, PriorityRequest,
    TorrentDetail, TorrentPatch, TorrentSummary,
};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::Json;
use engine::InfoHash;
use serde::Deserialize;

use super::errors::{ApiError, ApiJson, ApiQuery};
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::categories::AddSource;
use crate::torrents::selection::Flag;

pub fn parse_info_hash(s: &str) -> Result<InfoHash, ApiError> {
    InfoHash::from_hex(s)
        .map_err(|_| ApiError::BadRequest("not a 40-digit hexadecimal info-hash".into()))
}

/// Whether the request's body is of `mime` (ignoring parameters and case).
pub fn content_type_is(req: &Request, mime: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(mime))
}

pub fn parse_bool(field: &str, v: &str) -> Result<bool, ApiError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(ApiError::BadRequest(format!(
            "{field} must be true or false"
        ))),
    }
}

pub fn parse_priority(v: &str) -> Result<Priority, ApiError> {
    Priority::parse(v.trim())
        .ok_or_else(|| ApiError::BadRequest("priority must be high, normal or low".into()))
}

/// The `onlyFiles` add option (`0,2-4`, 0-based): those files wanted, every other skipped.
fn only_files(list: &str) -> Result<Vec<usize>, ApiError> {
    app::types::parse_index_list(list)
        .ok_or_else(|| ApiError::BadRequest("onlyFiles must be file indices like 0,2-4".into()))
}

/// `POST /api/torrents`: multipart with a `torrent` file (and option fields), or JSON
/// `{"magnetURI": ...}` with options.
pub async fn add(
    State(state): State<AppState>,
    user: AuthUser,
    req: Request,
) -> Result<(StatusCode, Json<TorrentSummary>), ApiError> {
    super::check_content_length(&req, super::add_body_limit(state.config.max_torrent_size))?;
    let lib = &state.library;
    let summary = if content_type_is(&req, "multipart/form-data") {
        let mut mp = Multipart::from_request(req, &state).await?;
        let limit = state.config.max_torrent_size;
        let mut opts = AddOptions::default();
        let mut torrent: Option<Vec<u8>> = None;
        let mut magnet: Option<String> = None;
        while let Some(mut field) = mp.next_field().await? {
            let name = field.name().unwrap_or("").to_owned();
            match name.as_str() {
                "torrent" | "file" => {
                    let mut buf = Vec::new();
                    while let Some(chunk) = field.chunk().await? {
                        if buf.len() + chunk.len() > limit {
                            return Err(ApiError::TooLarge(format!(
                                ".torrent files are limited to {limit} bytes"
                            )));
                        }
                        buf.extend_from_slice(&chunk);
                    }
                    torrent = Some(buf);
                }
                "magnetURI" | "magnetUri" | "magnet" => magnet = Some(field.text().await?),
                "savePath" => opts.save_path = Some(field.text().await?),
                "category" => opts.category = Some(field.text().await?),
                "tags" => {
                    opts.tags = field
                        .text()
                        .await?
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "paused" => opts.paused = parse_bool("paused", &field.text().await?)?,
                "priority" => opts.priority = parse_priority(&field.text().await?)?,
                "sequential" => opts.sequential = parse_bool("sequential", &field.text().await?)?,
                "firstLastPiece" => {
                    opts.first_last_piece = parse_bool("firstLastPiece", &field.text().await?)?
                }
                "files" => {
                    opts.files = serde_json::from_str(&field.text().await?).map_err(|e| {
                        ApiError::BadRequest(format!(
                            "files must be a JSON list of {{index, priority}}: {e}"
                        ))
                    })?
                }
                "onlyFiles" => opts.only_files = Some(only_files(&field.text().await?)?),
                "peers" => {
                    opts.peers = field
                        .text()
                        .await?
                        .split([',', '\n', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                other => {
                    return Err(ApiError::BadRequest(format!("unknown field {other:?}")));
                }
            }
        }
        match (torrent, magnet) {
            (Some(bytes), None) => {
                lib.add_labelled(&user, AddSource::File(&bytes), &opts)
                    .await?
            }
            (None, Some(uri)) => {
                lib.add_labelled(&user, AddSource::Magnet(&uri), &opts)
                    .await?
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::BadRequest(
                    "send either a torrent file or a magnet link, not both".into(),
                ))
            }
            (None, None) => {
                return Err(ApiError::BadRequest(
                    "missing 'torrent' file field (or 'magnetURI')".into(),
                ))
            }
        }
    } else if content_type_is(&req, "application/json") {
        let ApiJson(body) = ApiJson::<AddMagnet>::from_request(req, &state).await?;
        lib.add_labelled(&user, AddSource::Magnet(&body.magnet_uri), &body.options)
            .await?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send multipart/form-data with a 'torrent' file, or JSON with 'magnetURI'".into(),
        ));
    };
    Ok((StatusCode::CREATED, Json(summary)))
}

/// `GET /api/torrents?category=&tag=`: an empty value selects torrents without one.
#[derive(Deserialize)]
pub struct ListQuery {
    category: Option<String>,
    tag: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Json<Vec<TorrentSummary>> {
    Json(
        state
            .library
            .list_labelled(&user, q.category.as_deref(), q.tag.as_deref()),
    )
}

pub async fn detail(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<TorrentDetail>, ApiError> {
    let ih = parse_info_hash(&ih)?;
    let mut detail = state.library.detail(&user, &ih)?;
    detail.built_in_tracker = state.tracker.as_ref().map(|t| t.counts(&ih));
    Ok(Json(detail))
}

pub async fn files(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<Vec<FileProgress>>, ApiError> {
    Ok(Json(
        state.library.detail(&user, &parse_info_hash(&ih)?)?.files,
    ))
}

pub async fn peers(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<Vec<PeerInfo>>, ApiError> {
    Ok(Json(state.library.peers(&user, &parse_info_hash(&ih)?)?))
}

/// `POST /api/torrents/{infoHash}/peers`: dial these peers too.
pub async fn add_peers(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<AddPeers>,
) -> Result<StatusCode, ApiError> {
    state
        .library
        .add_peers(&user, &parse_info_hash(&ih)?, &body.peers)?;
    Ok(StatusCode::ACCEPTED)
}

pub async fn pieces(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<PiecesInfo>, ApiError> {
    Ok(Json(state.library.pieces(&user, &parse_info_hash(&ih)?)?))
}

/// `GET /api/torrents/{infoHash}/torrent`: the `.torrent` file.
pub async fn torrent_file(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    let (summary, bytes) = state.library.torrent_file(&user, &parse_info_hash(&ih)?)?;
    Ok(super::create::torrent_file_response(
        &summary,
        bytes,
        axum::http::StatusCode::OK,
    ))
}

pub async fn pause(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(
        state
            .library
            .set_paused(&user, &parse_info_hash(&ih)?, true)
            .await?,
    ))
}

pub async fn resume(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(
        state
            .library
            .set_paused(&user, &parse_info_hash(&ih)?, false)
            .await?,
    ))
}

pub async fn set_priority(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<PriorityRequest>,
) -> Result<Json<TorrentSummary>, ApiError> {
    Ok(Json(
        state
            .library
            .set_priority(&user, &parse_info_hash(&ih)?, body.priority)
            .await?,
    ))
}

/// `PATCH /api/torrents/{infoHash}`: the torrent's own rate limits, piece order, super-seeding,
/// seeding goals and whether it is public (listed in the search catalog).
pub async fn patch(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<TorrentPatch>,
) -> Result<Json<TorrentSummary>, ApiError> {
    let ih = parse_info_hash(&ih)?;
    let lib = &state.library;
    if body.ratio_limit.is_some()
        || body.seeding_time_limit.is_some()
        || body.inactive_seeding_time_limit.is_some()
        || body.goal_action.is_some()
    {
        lib.set_torrent_goals(
            &user,
            &ih,
            body.ratio_limit,
            body.seeding_time_limit,
            body.inactive_seeding_time_limit,
            body.goal_action,
        )
        .await?;
    }
    for (flag, on) in [
        (Flag::Sequential, body.sequential),
        (Flag::FirstLastPiece, body.first_last_piece),
        (Flag::SuperSeeding, body.super_seeding),
    ] {
        if let Some(on) = on {
            lib.set_flag(&user, &ih, flag, on).await?;
        }
    }
    if let Some(on) = body.public {
        lib.set_public(&user, &ih, on).await?;
    }
    Ok(Json(
        lib.set_limits(&user, &ih, body.download_limit, body.upload_limit)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveQuery {
    #[serde(default)]
    delete_files: bool,
}

pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> Result<StatusCode, ApiError> {
    state
        .library
        .remove(&user, &parse_info_hash(&ih)?, q.delete_files)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
