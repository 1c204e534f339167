//! `/api/settings`: the server-wide speed settings (global and alternative limits, the
//! alternative schedule, the "alternative speed" toggle). Everyone may read; admins change.

use app::types::{Settings, SettingsPatch};
use axum::extract::State;
use axum::Json;

use super::errors::{ApiError, ApiJson};
use crate::auth::AuthUser;
use crate::speed::SpeedError;
use crate::state::AppState;

impl From<SpeedError> for ApiError {
    fn from(e: SpeedError) -> Self {
        match e {
            SpeedError::Schedule(_) => ApiError::BadRequest(e.to_string()),
            SpeedError::Db(_) => ApiError::Internal(e.to_string()),
        }
    }
}

pub async fn get(State(state): State<AppState>, _user: AuthUser) -> Json<Settings> {
    let mut s = state.speed.settings();
    s.seeding = state.library.global_goals();
    s.encryption = crate::encryption::current(state.library.session());
    Json(s)
}

pub async fn patch(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<SettingsPatch>,
) -> Result<Json<Settings>, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden(
            "only admins change server settings".into(),
        ));
    }
    // Validated first, so a bad goal changes nothing.
    let seeding = match &body.seeding {
        Some(p) => state.library.set_global_goals(p).await?,
        None => state.library.global_goals(),
    };
    let encryption = body.encryption;
    let mut s = state.speed.update(body).await?;
    s.seeding = seeding;
    let session = state.library.session();
    if let Some(e) = encryption {
        crate::encryption::set(session, &state.db, e)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    s.encryption = crate::encryption::current(session);
    Ok(Json(s))
}
