//! `GET /api/torrents/{infoHash}/files/{index}/stream`: a file over HTTP with `Range`, while
//! it downloads (reads wait for their pieces, which are fetched first; see
//! `engine::torrent::FileStream`), and `POST …/link`: a signed URL for players without the
//! login cookie.

use app::types::StreamLink;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use engine::session::Session;
use engine::torrent::FileStream;
use serde::Deserialize;

use super::errors::{ApiError, ApiQuery};
use super::range::{self, RangeAnswer};
use super::torrents::parse_info_hash;
use crate::auth::{links, AuthUser};
use crate::state::AppState;

/// Bytes per body chunk (a read never crosses a piece end, so chunks may be shorter).
const CHUNK: usize = 256 * 1024;

#[derive(Deserialize)]
pub struct StreamQuery {
    /// A signed link's token, instead of the login cookie or a Bearer token.
    token: Option<String>,
}

fn parse_index(s: &str) -> Result<usize, ApiError> {
    s.parse()
        .map_err(|_| ApiError::BadRequest("the file index is not a number".into()))
}

pub async fn stream(
    State(state): State<AppState>,
    user: Option<AuthUser>,
    Path((ih, index)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let info_hash = parse_info_hash(&ih)?;
    let index = parse_index(&index)?;
    let user = match (q.token, user) {
        (Some(token), _) => links::verify(&state, &token, &ih, index).await?,
        (None, Some(user)) => user,
        (None, None) => return Err(ApiError::Unauthorized("missing token".into())),
    };
    let file = state.library.open_file(&user, &info_hash, index).await?;
    Ok(respond(file, &headers, None))
}

/// The answer to a GET of `file` with these request headers: 200, 206 or 416 (shared with
/// the web seed server, `webseed`, which passes the session so its bytes count against the
/// upload limit; the owner's own playback does not).
pub fn respond(file: FileStream, headers: &HeaderMap, paced: Option<Session>) -> Response {
    let len = file.len();
    let kind = mime_guess::from_path(file.path()).first_or_octet_stream();
    let answer = range::answer(headers.get(header::RANGE).map(|v| v.as_bytes()), len);
    let (status, start, end) = match answer {
        RangeAnswer::Full => (StatusCode::OK, 0, len),
        RangeAnswer::Partial { start, end } => (StatusCode::PARTIAL_CONTENT, start, end + 1),
        RangeAnswer::Unsatisfiable => {
            let mut res = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            res.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{len}")),
            );
            return res;
        }
    };
    let mut res = Response::new(body(file, start, end, paced));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, header_value(kind.essence_str()));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_LENGTH,
        header_value(&(end - start).to_string()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {start}-{}/{len}", end - 1);
        h.insert(header::CONTENT_RANGE, header_value(&range));
    }
    res
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"))
}

/// Bytes `start..end` of the file, read as the client takes them. Dropping the body (the
/// client went away or seeked) drops the reader and its claim on pieces.
fn body(file: FileStream, start: u64, end: u64, paced: Option<Session>) -> Body {
    let chunks = futures_util::stream::unfold((file, start), move |(mut file, pos)| {
        let paced = paced.clone();
        async move {
            if pos >= end {
                return None;
            }
            let max = usize::try_from(end - pos).unwrap_or(CHUNK).min(CHUNK);
            match file.read(pos, max).await {
                Ok(b) if b.is_empty() => None,
                Ok(b) => {
                    if let Some(session) = &paced {
                        session.acquire_upload(b.len() as u64).await;
                    }
                    let next = pos + b.len() as u64;
                    Some((Ok(b), (file, next)))
                }
                Err(e) => {
                    tracing::warn!("streaming stopped: {e}");
                    Some((Err(std::io::Error::other(e)), (file, end)))
                }
            }
        }
    });
    Body::from_stream(chunks)
}

/// `POST /api/torrents/{infoHash}/files/{index}/link`.
pub async fn link(
    State(state): State<AppState>,
    user: AuthUser,
    Path((ih, index)): Path<(String, String)>,
) -> Result<Json<StreamLink>, ApiError> {
    let info_hash = parse_info_hash(&ih)?;
    let index = parse_index(&index)?;
    let files = state.library.detail(&user, &info_hash)?.files.len();
    if index >= files {
        return Err(crate::torrents::LibraryError::NoSuchFile(index).into());
    }
    let hex = info_hash.to_hex();
    let (token, exp) = links::sign(&state, &user, &hex, index)?;
    Ok(Json(StreamLink {
        url: format!("/api/torrents/{hex}/files/{index}/stream?token={token}"),
        expires_at: exp as i64,
    }))
}
