//! `GET /api/users/me`, `PUT /api/users/me`.

use app::types::{UpdateMe, User};
use axum::extract::State;
use axum::response::Response;
use axum::Json;

use super::auth::{check_password, login_response, user_view, ViaHttps};
use super::errors::{ApiError, ApiJson};
use crate::auth::{password, AuthUser};
use crate::db::users;
use crate::state::AppState;

pub async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<User>, ApiError> {
    let row = users::by_id(&state.db, user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown user".into()))?;
    Ok(Json(user_view(&row)))
}

/// Changes the password. Every earlier token stops working; the response carries a new one
/// (and new cookies).
pub async fn update_me(
    State(state): State<AppState>,
    ViaHttps(https): ViaHttps,
    user: AuthUser,
    ApiJson(body): ApiJson<UpdateMe>,
) -> Result<Response, ApiError> {
    check_password(&body.new_password)?;
    let row = users::by_id(&state.db, user.id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown user".into()))?;
    let ok = password::verify(&body.current_password, Some(&row.password_hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return Err(ApiError::Forbidden("current password is wrong".into()));
    }
    let hash = password::hash(&body.new_password)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let row = users::set_password(&state.db, user.id, &hash)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown user".into()))?;
    // Open event streams of the old tokens end.
    state.streams.revoke(user.id);
    login_response(&state, &row, https)
}
