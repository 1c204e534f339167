//! qBittorrent's WebUI API v2, as qBittorrent 4.6 serves it (Web API 2.9.3): what Sonarr,
//! Radarr, Prowlarr, qbit_manage, VueTorrent and the `qbittorrent-api` package call.
//! Parameters come from the query string and the form body alike; answers are plain text
//! or JSON, errors a status with a short text, as qBittorrent does.

mod add;
mod app;
mod convert;
mod limits;
pub mod session;
pub mod sync;
mod torrents;

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::Router;

use crate::state::AppState;
use crate::torrents::labels::LabelError;
use crate::torrents::LibraryError;

/// The Web API version whose endpoints and fields this adapter implements.
pub const WEBAPI_VERSION: &str = "2.9.3";
/// The qBittorrent release that serves that version.
pub const APP_VERSION: &str = "v4.6.7";

/// Request bodies other than `torrents/add` (form fields only).
const FORM_LIMIT: usize = 1 << 20;

/// A failed call, answered as qBittorrent answers it: a status and a short plain text.
#[derive(Debug)]
pub enum QbitError {
    /// 400
    BadRequest(String),
    /// 403 "Forbidden": not logged in.
    Forbidden,
    /// 404: no such torrent (or not the caller's).
    NotFound,
    /// 409: the call cannot be done in this state, or TorrentEdge lacks the feature.
    Conflict(String),
    /// 413: the request is larger than this server takes (qBittorrent answers the same).
    TooLarge,
    /// 415: the upload is not a valid torrent.
    Unsupported(String),
    Internal(String),
}

impl IntoResponse for QbitError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            QbitError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            QbitError::Forbidden => (StatusCode::FORBIDDEN, "Forbidden".to_owned()),
            QbitError::NotFound => (StatusCode::NOT_FOUND, String::new()),
            QbitError::Conflict(m) => (StatusCode::CONFLICT, m),
            QbitError::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large".into()),
            QbitError::Unsupported(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
            QbitError::Internal(m) => {
                tracing::error!("qBittorrent API: {m}");
                (StatusCode::INTERNAL_SERVER_ERROR, String::new())
            }
        };
        (
            status,
            [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
            body,
        )
            .into_response()
    }
}

impl From<LibraryError> for QbitError {
    fn from(e: LibraryError) -> Self {
        use LibraryError as L;
        match e {
            L::NotFound => QbitError::NotFound,
            L::InvalidTorrent(m) => {
                QbitError::Unsupported(format!("Torrent file is not valid: {m}"))
            }
            L::Duplicate | L::Exists(_) => QbitError::Conflict(e.to_string()),
            L::Label(LabelError::UnknownCategory(_)) => {
                QbitError::Conflict("Category name does not exist".into())
            }
            L::Db(_) | L::Engine(_) => QbitError::Internal(e.to_string()),
            other => QbitError::BadRequest(other.to_string()),
        }
    }
}

impl From<crate::db::DbError> for QbitError {
    fn from(e: crate::db::DbError) -> Self {
        QbitError::Internal(e.to_string())
    }
}

/// Plain-text success.
pub fn text(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        body,
    )
        .into_response()
}

/// The call's parameters: the query string and a urlencoded or multipart form body.
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    pub fn required(&self, k: &str) -> Result<&str, QbitError> {
        self.get(k)
            .ok_or_else(|| QbitError::BadRequest(format!("Missing required parameter: {k}")))
    }

    pub fn flag(&self, k: &str) -> bool {
        self.get(k)
            .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }
}

pub fn content_type_is(req: &Request, mime: &str) -> bool {
    crate::api::content_type_is(req, mime)
}

impl FromRequest<AppState> for Params {
    type Rejection = QbitError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, QbitError> {
        let mut map: HashMap<String, String> = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        if content_type_is(&req, "application/x-www-form-urlencoded") {
            let body = read_limited(req).await?;
            map.extend(url::form_urlencoded::parse(&body).into_owned());
        } else if content_type_is(&req, "multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| QbitError::BadRequest(e.body_text()))?;
            let mut total = 0usize;
            while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
                let name = field.name().unwrap_or("").to_owned();
                let value = field.text().await.map_err(multipart_error)?;
                total += name.len() + value.len();
                if total > FORM_LIMIT {
                    return Err(QbitError::BadRequest("form is too large".into()));
                }
                map.insert(name, value);
            }
        }
        Ok(Params(map))
    }
}

async fn read_limited(req: Request) -> Result<Bytes, QbitError> {
    axum::body::to_bytes(req.into_body(), FORM_LIMIT)
        .await
        .map_err(|_| QbitError::TooLarge)
}

/// A multipart body that broke off, or grew over the route's limit.
fn multipart_error(e: axum::extract::multipart::MultipartError) -> QbitError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        QbitError::TooLarge
    } else {
        QbitError::BadRequest(e.body_text())
    }
}

fn route<H, T>(r: Router<AppState>, path: &str, h: H) -> Router<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    r.route(path, on(MethodFilter::GET.or(MethodFilter::POST), h))
}

/// Every `/api/v2/...` route (GET and POST alike, as qBittorrent 4.6 accepts).
pub fn router(max_torrent_size: usize) -> Router<AppState> {
    use torrents as t;
    let mut r = Router::new();
    r = route(r, "/api/v2/auth/login", session::login);
    r = route(r, "/api/v2/auth/logout", session::logout);
    r = route(r, "/api/v2/app/version", app::version);
    r = route(r, "/api/v2/app/webapiVersion", app::webapi_version);
    r = route(r, "/api/v2/app/buildInfo", app::build_info);
    r = route(r, "/api/v2/app/preferences", app::preferences);
    r = route(r, "/api/v2/app/setPreferences", app::set_preferences);
    r = route(r, "/api/v2/app/defaultSavePath", app::default_save_path);
    r = route(r, "/api/v2/transfer/info", app::transfer_info);
    r = route(
        r,
        "/api/v2/transfer/speedLimitsMode",
        app::speed_limits_mode,
    );
    r = route(
        r,
        "/api/v2/transfer/toggleSpeedLimitsMode",
        app::toggle_speed_limits_mode,
    );
    r = route(
        r,
        "/api/v2/transfer/setSpeedLimitsMode",
        app::set_speed_limits_mode,
    );
    r = route(r, "/api/v2/transfer/downloadLimit", app::download_limit);
    r = route(r, "/api/v2/transfer/uploadLimit", app::upload_limit);
    r = route(
        r,
        "/api/v2/transfer/setDownloadLimit",
        app::set_download_limit,
    );
    r = route(r, "/api/v2/transfer/setUploadLimit", app::set_upload_limit);
    r = route(r, "/api/v2/sync/maindata", sync::maindata);
    r = route(r, "/api/v2/torrents/info", t::info);
    r = route(r, "/api/v2/torrents/properties", t::properties);
    r = route(r, "/api/v2/torrents/files", t::files);
    r = route(r, "/api/v2/torrents/trackers", t::trackers);
    r = route(r, "/api/v2/torrents/webseeds", t::webseeds);
    r = route(r, "/api/v2/torrents/pieceStates", t::piece_states);
    r = r.route(
        "/api/v2/torrents/add",
        axum::routing::post(add::add).layer(axum::extract::DefaultBodyLimit::max(
            crate::api::add_body_limit(max_torrent_size),
        )),
    );
    r = route(r, "/api/v2/torrents/delete", t::delete);
    r = route(r, "/api/v2/torrents/pause", t::pause);
    r = route(r, "/api/v2/torrents/stop", t::pause);
    r = route(r, "/api/v2/torrents/resume", t::resume);
    r = route(r, "/api/v2/torrents/start", t::resume);
    r = route(r, "/api/v2/torrents/setCategory", t::set_category);
    r = route(r, "/api/v2/torrents/createCategory", t::create_category);
    r = route(r, "/api/v2/torrents/editCategory", t::edit_category);
    r = route(r, "/api/v2/torrents/removeCategories", t::remove_categories);
    r = route(r, "/api/v2/torrents/categories", t::categories);
    r = route(r, "/api/v2/torrents/addTags", t::add_tags);
    r = route(r, "/api/v2/torrents/removeTags", t::remove_tags);
    r = route(r, "/api/v2/torrents/tags", t::tags);
    r = route(r, "/api/v2/torrents/createTags", t::create_tags);
    r = route(r, "/api/v2/torrents/deleteTags", t::delete_tags);
    r = route(r, "/api/v2/torrents/recheck", limits::recheck);
    r = route(r, "/api/v2/torrents/reannounce", limits::reannounce);
    r = route(
        r,
        "/api/v2/torrents/setShareLimits",
        limits::set_share_limits,
    );
    r = route(r, "/api/v2/torrents/topPrio", limits::top_prio);
    r = route(r, "/api/v2/torrents/bottomPrio", limits::bottom_prio);
    r = route(r, "/api/v2/torrents/increasePrio", limits::increase_prio);
    r = route(r, "/api/v2/torrents/decreasePrio", limits::decrease_prio);
    r = route(r, "/api/v2/torrents/setForceStart", limits::set_force_start);
    r = route(r, "/api/v2/torrents/filePrio", limits::file_prio);
    r = route(
        r,
        "/api/v2/torrents/setDownloadLimit",
        limits::set_download_limit,
    );
    r = route(
        r,
        "/api/v2/torrents/setUploadLimit",
        limits::set_upload_limit,
    );
    r = route(r, "/api/v2/torrents/downloadLimit", limits::download_limit);
    r = route(r, "/api/v2/torrents/uploadLimit", limits::upload_limit);
    r = route(r, "/api/v2/torrents/setLocation", limits::set_location);
    r = route(r, "/api/v2/torrents/rename", limits::rename);
    r = route(
        r,
        "/api/v2/torrents/setSuperSeeding",
        limits::set_super_seeding,
    );
    r = route(
        r,
        "/api/v2/torrents/toggleSequentialDownload",
        limits::toggle_sequential,
    );
    r = route(
        r,
        "/api/v2/torrents/toggleFirstLastPiecePrio",
        limits::toggle_first_last,
    );
    route(
        r,
        "/api/v2/torrents/setAutoManagement",
        limits::set_auto_management,
    )
}
