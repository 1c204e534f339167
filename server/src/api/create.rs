//! `POST /api/torrents/create`: JSON `{"path": ...}` for a file or folder already inside the
//! user's download folder, or multipart uploads (`files` parts, plus `name`, `savePath`,
//! `trackers` one URL per line, `private`, `comment`, `pieceLength`, `paused`, `priority`,
//! `builtInTracker`: this server's own announce URL first).
//! Answers with the `.torrent` file; the torrent is seeding.

use app::types::{CreateTorrent, TorrentSummary};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;

use super::errors::{ApiError, ApiJson};
use super::torrents::{content_type_is, parse_bool, parse_priority};
use super::upload_body::UploadBody;
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::create::{CreateParams, Staging, WebSeedUrl};
use crate::torrents::{paths, LibraryError};

/// Largest JSON body (a path, trackers and options); the route's own limit is sized for
/// uploads, so JSON gets its own.
pub const MAX_JSON: usize = 256 << 10;
/// Largest text field of a multipart upload (`trackers` is the long one).
pub const MAX_FIELD: usize = 64 << 10;
/// Most files one upload may carry.
pub const MAX_FILES: usize = 10_000;

/// A text field, read up to [`MAX_FIELD`] bytes (413 beyond): `Field::text` would buffer
/// whatever the body limit (the upload size) allows.
async fn bounded_text(mut field: axum::extract::multipart::Field<'_>) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("").to_owned();
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if buf.len() + chunk.len() > MAX_FIELD {
            return Err(ApiError::TooLarge(format!(
                "field {name:?} is over {MAX_FIELD} bytes"
            )));
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| ApiError::BadRequest(format!("field {name:?} is not UTF-8")))
}

/// The JSON body, read up to [`MAX_JSON`] bytes (413 beyond).
async fn bounded_json(req: Request, state: &AppState) -> Result<CreateTorrent, ApiError> {
    super::check_content_length(&req, MAX_JSON)?;
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_JSON)
        .await
        .map_err(|_| ApiError::TooLarge(format!("JSON body over {MAX_JSON} bytes")))?;
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    let ApiJson(body) = ApiJson::<CreateTorrent>::from_request(req, state).await?;
    Ok(body)
}

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
    let base = crate::web::public_base(&state.config, req.headers());
    let web_seed = own_web_seed(&state, base.as_deref());
    let (summary, bytes) = if content_type_is(&req, "application/json") {
        let body = bounded_json(req, &state).await?;
        let path = paths::existing_inside(&root, &body.path).map_err(LibraryError::from)?;
        let mut trackers = tiers(body.trackers);
        if body.built_in_tracker {
            trackers.insert(0, vec![own_announce(&state, &user, base.as_deref()).await?]);
        }
        let params = CreateParams {
            trackers,
            private: body.private,
            comment: body.comment,
            piece_length: body.piece_length,
            paused: body.paused,
            priority: body.priority,
            web_seed: if body.web_seed { Some(web_seed?) } else { None },
        };
        lib.create_from_path(&user, path, params).await?
    } else if content_type_is(&req, "multipart/form-data") {
        let (req, body) = UploadBody::wrap(req);
        let mut mp = Multipart::from_request(req, &state).await?;
        std::fs::create_dir_all(&root).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut staging = Staging::new(&root, state.config.max_create_upload)?;
        let mut params = CreateParams::default();
        let (mut name, mut save_path, mut server_path) = (None, None, None);
        let mut own_tracker = false;
        let mut files = 0usize;
        let mut want_web_seed = false;
        let read = async {
            while let Some(mut field) = mp.next_field().await? {
                let field_name = field.name().unwrap_or("").to_owned();
                match field_name.as_str() {
                    "files" | "file" => {
                        files += 1;
                        if files > MAX_FILES {
                            return Err(ApiError::TooLarge(format!("more than {MAX_FILES} files")));
                        }
                        let file_name = field
                            .file_name()
                            .ok_or_else(|| {
                                ApiError::BadRequest("a file part has no filename".into())
                            })?
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
                    "name" => name = Some(bounded_text(field).await?),
                    "savePath" => save_path = Some(bounded_text(field).await?),
                    "path" => server_path = Some(bounded_text(field).await?),
                    "trackers" => {
                        params.trackers =
                            tiers(bounded_text(field).await?.lines().map(str::to_owned))
                    }
                    "private" => {
                        params.private = parse_bool("private", &bounded_text(field).await?)?
                    }
                    "comment" => {
                        params.comment = Some(bounded_text(field).await?).filter(|c| !c.is_empty())
                    }
                    "pieceLength" => {
                        let v = bounded_text(field).await?;
                        params.piece_length = Some(v.trim().parse().map_err(|_| {
                            ApiError::BadRequest("pieceLength must be a number".into())
                        })?);
                    }
                    "paused" => params.paused = parse_bool("paused", &bounded_text(field).await?)?,
                    "builtInTracker" => {
                        own_tracker = parse_bool("builtInTracker", &bounded_text(field).await?)?
                    }
                    "priority" => params.priority = parse_priority(&bounded_text(field).await?)?,
                    "webSeed" => {
                        want_web_seed = parse_bool("webSeed", &bounded_text(field).await?)?
                    }
                    other => return Err(ApiError::BadRequest(format!("unknown field {other:?}"))),
                }
            }
            Ok::<_, ApiError>(())
        }
        .await;
        // Read to the end either way: see `upload_body`.
        body.drain(&mut mp).await;
        read?;
        if want_web_seed {
            params.web_seed = Some(web_seed?);
        }
        if own_tracker {
            let url = own_announce(&state, &user, base.as_deref()).await?;
            params.trackers.insert(0, vec![url]);
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

/// This server's web seed URL maker (`webseed`) at `base` (see `web::public_base`).
fn own_web_seed(state: &AppState, base: Option<&str>) -> Result<WebSeedUrl, ApiError> {
    let base = base
        .ok_or_else(|| ApiError::BadRequest("no Host header and no PUBLIC_URL".into()))?
        .to_owned();
    let keys = state.keys.clone();
    Ok(WebSeedUrl(std::sync::Arc::new(move |ih| {
        crate::webseed::url(&base, &keys, ih)
    })))
}

/// This server's announce URL for `user` (with the user's passkey when passkeys are
/// required); 400 when the built-in tracker is off.
async fn own_announce(
    state: &AppState,
    user: &AuthUser,
    base: Option<&str>,
) -> Result<String, ApiError> {
    let t = state.tracker.as_ref().ok_or_else(|| {
        ApiError::BadRequest("the built-in tracker is off (serve --tracker)".into())
    })?;
    let passkey = if t.settings.require_passkey {
        Some(
            t.passkeys
                .key_for(&state.db, user.id)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
    } else {
        None
    };
    let base =
        base.ok_or_else(|| ApiError::BadRequest("no Host header and no PUBLIC_URL".into()))?;
    Ok(crate::tracker::Tracker::announce_url(
        base,
        passkey.as_deref(),
    ))
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
