//! The REST API under `/api` (and `/metrics`). Routes are registered through [`Routes`],
//! which records each (method, path) so a test can hold the OpenAPI document to them.

pub mod auth;
mod bans;
mod chat;
mod create;
pub mod errors;
mod events;
mod folders;
mod health;
mod labels;
mod nostr;
mod notifications;
pub mod openapi;
pub mod range;
mod search;
mod selection;
mod settings;
mod statistics;
pub mod stream;
mod torrents;
mod tracker;
mod upload_body;
mod users;

use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter};
use axum::{Json, Router};

use crate::auth::AuthUser;
use crate::state::AppState;
use errors::ApiError;
pub use torrents::content_type_is;

/// A router that remembers what it routes.
pub struct Routes {
    pub router: Router<AppState>,
    pub list: Vec<(Method, &'static str)>,
}

impl Routes {
    fn new() -> Routes {
        Routes {
            router: Router::new(),
            list: Vec::new(),
        }
    }

    fn add<H, T>(self, method: Method, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add_limited(method, path, handler, None)
    }

    /// Like `add`, with a request body limit other than axum's default (2 MB).
    fn add_limited<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        handler: H,
        body_limit: Option<usize>,
    ) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = match method {
            Method::GET => MethodFilter::GET,
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            Method::PATCH => MethodFilter::PATCH,
            _ => unreachable!("the API uses GET, POST, PUT, PATCH and DELETE"),
        };
        let mut route = on(filter, handler);
        if let Some(limit) = body_limit {
            route = route.layer(DefaultBodyLimit::max(limit));
        }
        self.router = self.router.route(path, route);
        self.list.push((method, path));
        self
    }
}

/// Request body limit of `POST /api/torrents`: the file plus room for the multipart framing
/// and option fields.
pub fn add_body_limit(max_torrent_size: usize) -> usize {
    max_torrent_size.saturating_add(1 << 20)
}

/// Request body limit of `POST /api/torrents/create`.
pub fn create_body_limit(max_create_upload: u64) -> usize {
    usize::try_from(max_create_upload)
        .unwrap_or(usize::MAX)
        .saturating_add(1 << 20)
}

/// Refuses a request whose declared length is over `limit` before any of its body is read
/// (so a client that sent `Expect: 100-continue` does not send it at all).
pub fn check_content_length(req: &Request, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => Err(ApiError::TooLarge(format!(
            "request body of {n} bytes is over the limit of {limit}"
        ))),
        _ => Ok(()),
    }
}

/// Every API route. Body limits come from the configuration.
pub fn routes(max_torrent_size: usize, max_create_upload: u64) -> Routes {
    const T: &str = "/api/torrents/{infoHash}";
    let add_limit = add_body_limit(max_torrent_size);
    let create_limit = create_body_limit(max_create_upload);
    Routes::new()
        .add(Method::GET, "/api/health", health::health)
        .add(Method::POST, "/api/auth/register", auth::register)
        .add(Method::POST, "/api/auth/login", auth::login)
        .add(Method::POST, "/api/auth/logout", auth::logout)
        .add(Method::GET, "/api/users/me", users::me)
        .add(Method::PUT, "/api/users/me", users::update_me)
        .add(Method::GET, "/api/tracker", tracker::status)
        .add(Method::GET, "/api/folders", folders::list)
        .add(Method::POST, "/api/folders", folders::create)
        .add(Method::GET, "/api/folders/{id}", folders::get)
        .add(Method::DELETE, "/api/folders/{id}", folders::remove)
        .add(Method::GET, "/api/torrents", torrents::list)
        .add_limited(
            Method::POST,
            "/api/torrents",
            torrents::add,
            Some(add_limit),
        )
        .add_limited(
            Method::POST,
            "/api/torrents/create",
            create::create,
            Some(create_limit),
        )
        .add(Method::GET, T, torrents::detail)
        .add(Method::DELETE, T, torrents::remove)
        .add(Method::PATCH, T, torrents::patch)
        .add(
            Method::POST,
            "/api/torrents/{infoHash}/pause",
            torrents::pause,
        )
        .add(
            Method::POST,
            "/api/torrents/{infoHash}/resume",
            torrents::resume,
        )
        .add(
            Method::PUT,
            "/api/torrents/{infoHash}/priority",
            torrents::set_priority,
        )
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/files",
            torrents::files,
        )
        .add(
            Method::PATCH,
            "/api/torrents/{infoHash}/files",
            selection::patch_files,
        )
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/files/{index}/stream",
            stream::stream,
        )
        .add(
            Method::POST,
            "/api/torrents/{infoHash}/files/{index}/link",
            stream::link,
        )
        .add_limited(
            Method::POST,
            "/api/torrents/preview",
            selection::preview,
            Some(add_limit),
        )
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/peers",
            torrents::peers,
        )
        .add(
            Method::POST,
            "/api/torrents/{infoHash}/peers",
            torrents::add_peers,
        )
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/pieces",
            torrents::pieces,
        )
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/torrent",
            torrents::torrent_file,
        )
        .add(
            Method::PUT,
            "/api/torrents/{infoHash}/category",
            labels::set_category,
        )
        .add(
            Method::PUT,
            "/api/torrents/{infoHash}/tags",
            labels::set_tags,
        )
        .add(Method::GET, "/api/categories", labels::categories)
        .add(Method::POST, "/api/categories", labels::create_category)
        .add(Method::PUT, "/api/categories/{name}", labels::edit_category)
        .add(
            Method::DELETE,
            "/api/categories/{name}",
            labels::remove_category,
        )
        .add(Method::GET, "/api/tags", labels::tags)
        .add(Method::POST, "/api/tags", labels::create_tag)
        .add(Method::DELETE, "/api/tags/{name}", labels::delete_tag)
        .add(
            Method::GET,
            "/api/torrents/{infoHash}/peers/ended",
            bans::peer_ends,
        )
        .add(Method::GET, "/api/bans", bans::list)
        .add(Method::POST, "/api/bans", bans::ban)
        .add(Method::DELETE, "/api/bans/{ip}", bans::unban)
        .add(Method::GET, "/api/statistics", statistics::statistics)
        .add(Method::GET, "/api/settings", settings::get)
        .add(Method::PATCH, "/api/settings", settings::patch)
        .add(Method::GET, "/api/chat", chat::list)
        .add(Method::POST, "/api/chat", chat::post)
        .add(Method::GET, "/api/notifications", notifications::list)
        .add(
            Method::POST,
            "/api/notifications/read",
            notifications::mark_read,
        )
        .add(Method::GET, "/api/events", events::events)
        .add(Method::GET, "/api/search", search::search)
        .add(Method::GET, "/api/search/stream", search::stream)
        .add(Method::POST, "/api/search/add", search::add)
        .add(Method::GET, "/federation/catalog", search::catalog)
        .add(Method::GET, "/api/nostr", nostr::get)
        .add(Method::GET, "/api/openapi.json", openapi_json)
        .add(Method::GET, "/metrics", metrics)
}

async fn openapi_json(_user: AuthUser) -> Json<serde_json::Value> {
    Json(openapi::document())
}

/// Prometheus text. Needs METRICS_TOKEN as a Bearer token, or an admin's login.
async fn metrics(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (mut parts, _) = req.into_parts();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Constant time: the comparison must not tell an attacker how much of a guess was right.
    let by_token = matches!((&state.config.metrics_token, bearer),
        (Some(t), Some(b)) if crate::auth::constant_time_eq(t.as_bytes(), b.as_bytes()));
    if !by_token {
        let user = AuthUser::from_request_parts(&mut parts, &state).await?;
        if !user.is_admin() {
            return Err(ApiError::Forbidden("metrics are for admins".into()));
        }
    }
    let dht = state.library.session().dht_stats().await;
    let mut res = crate::metrics::render(&state, dht.as_ref()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(res)
}
