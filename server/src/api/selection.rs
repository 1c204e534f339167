//! File selection over HTTP: `PATCH /api/torrents/{infoHash}/files` and
//! `POST /api/torrents/preview` (the file list of a `.torrent` before it is added).

use app::types::{FilePriorityChange, PreviewFile, TorrentDetail, TorrentPreview};
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::Json;
use engine::metainfo::Metainfo;

use super::errors::{ApiError, ApiJson};
use super::torrents::{content_type_is, parse_info_hash};
use crate::auth::AuthUser;
use crate::state::AppState;

/// `PATCH /api/torrents/{infoHash}/files` with `[{index, priority}]`: the torrent's detail
/// after the change.
pub async fn patch_files(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<Vec<FilePriorityChange>>,
) -> Result<Json<TorrentDetail>, ApiError> {
    let ih = parse_info_hash(&ih)?;
    Ok(Json(
        state.library.set_file_priorities(&user, &ih, &body).await?,
    ))
}

/// `POST /api/torrents/preview`: multipart with a `torrent` file, or the file itself as the
/// body. Nothing is added.
pub async fn preview(
    State(state): State<AppState>,
    _user: AuthUser,
    req: Request,
) -> Result<Json<TorrentPreview>, ApiError> {
    let limit = state.config.max_torrent_size;
    super::check_content_length(&req, super::add_body_limit(limit))?;
    let bytes = if content_type_is(&req, "multipart/form-data") {
        let mut mp = Multipart::from_request(req, &state).await?;
        let mut found = None;
        while let Some(field) = mp.next_field().await? {
            if matches!(field.name(), Some("torrent" | "file")) {
                found = Some(field.bytes().await?.to_vec());
            }
        }
        found.ok_or_else(|| ApiError::BadRequest("missing 'torrent' file field".into()))?
    } else {
        axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                ApiError::TooLarge(format!(".torrent files are limited to {limit} bytes"))
            })?
            .to_vec()
    };
    let meta = Metainfo::from_bytes(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid torrent: {e}")))?;
    Ok(Json(TorrentPreview {
        info_hash: meta.info_hash.to_hex(),
        name: meta.name.clone(),
        total_bytes: meta.total_length,
        files: meta
            .files
            .iter()
            .enumerate()
            .map(|(index, f)| PreviewFile {
                index,
                path: f.path.display().to_string(),
                length: f.length,
            })
            .collect(),
    }))
}
