//! `POST /api/torrents/create`: JSON `{"path": ...}` for a file or folder already inside the
//! user's download folder, or multipart uploads (`files` parts, plus `name`, `savePath`,
//! `trackers` one URL per line, `private`, `comment`, `pieceLength`, `paused`, `priority`).
//! Answers with the `.torrent` file; the torrent is seeding.

use app::types::{CreateTorrent, TorrentSummary};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;

use super::errors::{ApiError, ApiJson};
use super::torrents::{content_type_is, parse_bool, parse_priority};
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::create::{CreateParams, Staging};
use crate::torrents::{paths, LibraryError};

fn tiers(urls: impl IntoIterator<Item = String>) -> Vec<Vec<String>> {
    urls.into_iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .map(|u| vec![u])
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    req: Request,
) -> Result<Response, ApiError> {
    super::check_content_length(
        &req,
        super::create_body_limit(state.config.max_create_upload),
    )?;
    let lib = &state.library;
    let root = lib.user_root(&user);
    let (summary, bytes) = if content_type_is(&req, "application/json") {
        let ApiJson(body) = ApiJson::<CreateTorrent>::from_request(req, &state).await?;
        let path = paths::existing_inside(&root, &body.path).map_err(LibraryError::from)?;
        let params = CreateParams {
            trackers: tiers(body.trackers),
            private: body.private,
            comment: body.comment,
            piece_length: body.piece_length,
            paused: body.paused,
            priority: body.priority,
        };
        lib.create_from_path(&user, path, params).await?
    } else if content_type_is(&req, "multipart/form-data") {
        let mut mp = Multipart::from_request(req, &state).await?;
        std::fs::create_dir_all(&root).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut staging = Staging::new(&root, state.config.max_create_upload)?;
        let mut params = CreateParams::default();
        let (mut name, mut save_path, mut server_path) = (None, None, None);
        while let Some(mut field) = mp.next_field().await? {
            let field_name = field.name().unwrap_or("").to_owned();
            match field_name.as_str() {
                "files" | "file" => {
                    let file_name = field
                        .file_name()
                        .ok_or_else(|| ApiError::BadRequest("a file part has no filename".into()))?
                        .to_owned();
                    let dest = staging.file_path(&file_name)?;
                    let mut out = tokio::fs::File::create(&dest)
                        .await
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                    while let Some(chunk) = field.chunk().await? {
                        staging.count(chunk.len() as u64)?;
                        out.write_all(&chunk)
                            .await
                            .map_err(|e| ApiError::Internal(e.to_string()))?;
                    }
                    out.flush()
                        .await
                        .map_err(|e| ApiError::Internal(e.to_string()))?;
                }
                "name" => name = Some(field.text().await?),
                "savePath" => save_path = Some(field.text().await?),
                "path" => server_path = Some(field.text().await?),
                "trackers" => {
                    params.trackers = tiers(field.text().await?.lines().map(str::to_owned))
                }
                "private" => params.private = parse_bool("private", &field.text().await?)?,
                "comment" => params.comment = Some(field.text().await?).filter(|c| !c.is_empty()),
                "pieceLength" => {
                    let v = field.text().await?;
                    params.piece_length = Some(v.trim().parse().map_err(|_| {
                        ApiError::BadRequest("pieceLength must be a number".into())
                    })?);
                }
                "paused" => params.paused = parse_bool("paused", &field.text().await?)?,
                "priority" => params.priority = parse_priority(&field.text().await?)?,
                other => return Err(ApiError::BadRequest(format!("unknown field {other:?}"))),
            }
        }
        let path = match server_path {
            Some(p) => paths::existing_inside(&root, &p).map_err(LibraryError::from)?,
            None => {
                let save_dir = lib.save_dir(&user, save_path.as_deref())?;
                let name = name.filter(|n| !n.trim().is_empty());
                staging.finish(&save_dir, name.as_deref())?
            }
        };
        lib.create_from_path(&user, path, params).await?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "send JSON with a 'path', or multipart/form-data with 'files'".into(),
        ));
    };
    Ok(torrent_file_response(&summary, bytes, StatusCode::CREATED))
}

/// A `.torrent` download named after the torrent, with its info-hash in `X-Info-Hash`.
pub(super) fn torrent_file_response(
    summary: &TorrentSummary,
    bytes: Vec<u8>,
    status: StatusCode,
) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-bittorrent"),
    );
    let file: String = summary
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}.torrent\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&summary.info_hash) {
        headers.insert("x-info-hash", v);
    }
    (status, headers, bytes).into_response()
}
