//! `/api/notifications`: what happened to the caller's torrents (completed, seeding,
//! failed), newest first, and marking them read. Each user sees only their own, admins
//! included. New ones arrive on the event stream as `notification`.

use app::types::{MarkRead, NotificationList};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::errors::{ApiError, ApiJson, ApiQuery};
use crate::auth::AuthUser;
use crate::db::{notifications, now_ms};
use crate::state::AppState;
use crate::torrents::notify::KEEP_PER_USER;

/// Notifications per answer when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 50;
/// Ids one `POST /api/notifications/read` may name.
pub const MAX_IDS: usize = 1000;

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
}

/// `GET /api/notifications?limit=N`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, KEEP_PER_USER);
    let items = notifications::list(&state.db, user.id, limit).await?;
    let unread = notifications::unread(&state.db, user.id).await?;
    Ok(Json(NotificationList {
        unread: usize::try_from(unread).unwrap_or(0),
        items,
    }))
}

/// `POST /api/notifications/read`: `{"ids": [..]}` marks those (ids that are not the
/// caller's are ignored), `{}` marks all.
pub async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<MarkRead>,
) -> Result<StatusCode, ApiError> {
    if req.ids.as_ref().is_some_and(|ids| ids.len() > MAX_IDS) {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_IDS} ids at once; send {{}} to mark all read"
        )));
    }
    notifications::mark_read(&state.db, user.id, req.ids.as_deref(), now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
