//! `/api/settings`: the server-wide speed settings (global and alternative limits, the
//! alternative schedule, the "alternative speed" toggle), seeding goals, encryption and the
//! network choices for the next start. Everyone may read; admins change.

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

pub async fn get(
    State(state): State<AppState>,
    _user: AuthUser,
) -> Result<Json<Settings>, ApiError> {
    let mut s = state.speed.settings();
    s.seeding = state.library.global_goals();
    s.encryption = crate::encryption::current(state.library.session());
    s.network = network(&state).await?;
    Ok(Json(s))
}

/// What the engine runs with against what the next start will use.
async fn network(state: &AppState) -> Result<app::types::NetworkSettings, ApiError> {
    let running = state.config.network;
    let next = running
        .stored_over(&state.db)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(running.to_api(next, &state.library.session().port_mappings()))
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
    let (encryption, net_patch) = (body.encryption, body.network.clone());
    let mut s = state.speed.update(body).await?;
    if let Some(p) = net_patch {
        crate::network::store(&state.db, &p)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    s.seeding = seeding;
    let session = state.library.session();
    if let Some(e) = encryption {
        crate::encryption::set(session, &state.db, e)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    s.encryption = crate::encryption::current(session);
    s.network = network(&state).await?;
    Ok(Json(s))
}
