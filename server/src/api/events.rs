//! `GET /api/events`: server-sent events for the caller's torrents. A client that
//! reconnects with `Last-Event-ID` (header, or `?lastEventId=`) gets what it missed, or a
//! `resync` event when that is no longer kept. A stream ends when its token expires or is
//! revoked; a user holds at most [`MAX_STREAMS_PER_USER`] at once (429 beyond).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{KeepAlive, Sse};
use futures_util::Stream;
use serde::Deserialize;

use super::errors::{ApiError, ApiQuery};
use crate::auth::AuthUser;
use crate::db::users;
use crate::events::sse::{self, Session, Viewer};
use crate::events::streams::MAX_STREAMS_PER_USER;
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
    // Subscribed before the stream counts as open (`torrentedge_event_streams`): whoever sees
    // it counted may publish, and the event must reach this stream.
    let sub = state.hub.subscribe(last_id);
    let slot = state.streams.open(user.id).ok_or_else(|| {
        tracing::info!(user = %user.username, "event stream refused: {MAX_STREAMS_PER_USER} open");
        ApiError::TooManyRequests(5)
    })?;
    let session = session(&state, &user, slot);
    let viewer = Viewer {
        user_id: user.id,
        admin: user.is_admin(),
    };
    let stream = sse::stream(
        state.hub.clone(),
        sub,
        viewer,
        session,
        state.shutdown.subscribe(),
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// What the stream checks again later: the user still exists with the token's version.
fn session(state: &AppState, user: &AuthUser, slot: crate::events::streams::Slot) -> Session {
    let left = user
        .expires_at
        .saturating_sub(crate::db::now_unix().max(0) as u64);
    let (db, id, version) = (state.db.clone(), user.id, user.token_version);
    Session {
        expires_at: tokio::time::Instant::now() + Duration::from_secs(left),
        revocations: state.streams.revocations(),
        still_valid: Box::new(move || {
            let db = db.clone();
            Box::pin(async move {
                matches!(users::by_id(&db, id).await, Ok(Some(row)) if row.token_version == version)
            })
        }),
        _slot: slot,
    }
}
