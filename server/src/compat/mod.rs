//! Adapters that let tools written for other clients drive TorrentEdge: qBittorrent's WebUI
//! API v2 (`/api/v2/...`) and Transmission's RPC (`/transmission/rpc`). Each is a thin layer
//! over the same `Library` the REST API uses, with its own authentication and error forms.

pub mod qbittorrent;
pub mod transmission;

use axum::Router;

use crate::auth::{password, role_of, AuthUser};
use crate::db::users;
use crate::db::DbError;
use crate::state::AppState;

/// What the adapters keep between requests (login sessions, sync snapshots).
#[derive(Default)]
pub struct CompatState {
    pub qbit: qbittorrent::session::Sessions,
    pub qbit_sync: qbittorrent::sync::Snapshots,
    pub transmission: transmission::auth::RpcState,
}

/// Both adapters' routes.
pub fn router(max_torrent_size: usize) -> Router<AppState> {
    qbittorrent::router(max_torrent_size).merge(transmission::router())
}

/// Why a username/password check did not yield a user.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("too many login attempts; retry in {0} s")]
    RateLimited(u64),
    #[error("wrong username or password")]
    Wrong,
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for LoginError {
    fn from(e: DbError) -> Self {
        LoginError::Internal(e.to_string())
    }
}

/// Checks a TorrentEdge username and password, counting the attempt against the same
/// per-address login limit as `POST /api/auth/login`. Also returns the user's token version
/// (a password change bumps it, which ends the adapters' sessions).
pub async fn check_login(
    state: &AppState,
    ip: std::net::IpAddr,
    username: &str,
    pass: &str,
) -> Result<(AuthUser, i64), LoginError> {
    state.limiter.attempt(ip).map_err(LoginError::RateLimited)?;
    let row = users::by_name(&state.db, username).await?;
    let ok = password::verify(pass, row.as_ref().map(|r| r.password_hash.as_str()))
        .await
        .map_err(|e| LoginError::Internal(e.to_string()))?;
    match row {
        Some(row) if ok => Ok((adapter_user(&row), row.token_version)),
        _ => {
            tracing::info!(%ip, "failed login (compat)");
            Err(LoginError::Wrong)
        }
    }
}

/// The user `id` if it still exists with token version `ver`.
pub async fn user_if_current(
    state: &AppState,
    id: i64,
    ver: i64,
) -> Result<Option<AuthUser>, DbError> {
    Ok(users::by_id(&state.db, id)
        .await?
        .filter(|r| r.token_version == ver)
        .map(|row| adapter_user(&row)))
}

/// The caller as the REST API sees it. The adapters check the user and its token version
/// again on every request, so the "expiry" only needs to outlast one request.
fn adapter_user(row: &users::UserRow) -> AuthUser {
    AuthUser {
        id: row.id,
        role: role_of(row),
        username: row.username.clone(),
        token_version: row.token_version,
        expires_at: (now() as u64).saturating_add(3600),
    }
}

/// Seconds since the Unix epoch, as the adapters' JSON wants them.
pub fn now() -> i64 {
    crate::db::now_unix()
}

/// A random lower-case hex string of `bytes` random bytes.
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut raw = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut raw);
    engine::types::hex_encode(&raw)
}
