//! `GET /api/events`: server-sent events for the caller's torrents. A client that
//! reconnects with `Last-Event-ID` (header, or `?lastEventId=`) gets what it missed, or a
//! `resync` event when that is no longer kept.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;

use super::errors::{ApiError, ApiQuery};
use crate::auth::AuthUser;
use crate::events::sse::{self, Viewer};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsQuery {
    last_event_id: Option<String>,
}

pub async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = Result<axum::response::sse::Event, Infallible>>>, ApiError> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(q.last_event_id)
        .filter(|s| !s.trim().is_empty());
    // An id we cannot read is treated as unknown: the client gets a resync.
    let last_id = last.map(|s| s.trim().parse::<u64>().unwrap_or(u64::MAX));
    let sub = state.hub.subscribe(last_id);
    let viewer = Viewer {
        user_id: user.id,
        admin: user.is_admin(),
    };
    let stream = sse::stream(state.hub.clone(), sub, viewer, state.shutdown.subscribe());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
