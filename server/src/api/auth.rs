//! `POST /api/auth/register`, `POST /api/auth/login`, `POST /api/auth/logout`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use app::types::{Credentials, LoginResponse, User};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::errors::{ApiError, ApiJson};
use crate::auth::{self, client_ip, cookies, password, AuthUser};
use crate::db::users::{self, Created, UserRow};
use crate::state::AppState;

/// The client's address (for rate limits): the socket peer, or what a trusted proxy
/// forwarded (`TRUSTED_PROXIES`).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok());
        Ok(ClientIp(client_ip::client_ip(
            peer,
            forwarded,
            &state.config.trusted_proxies,
        )))
    }
}

/// Whether the browser reached us over HTTPS: `COOKIE_SECURE`, or a trusted proxy
/// (`TRUSTED_PROXIES`) said so in `X-Forwarded-Proto`. Cookies are then marked `Secure`.
pub struct ViaHttps(pub bool);

impl FromRequestParts<AppState> for ViaHttps {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.cookie_secure {
            return Ok(ViaHttps(true));
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let trusted =
            peer.is_some_and(|ip| state.config.trusted_proxies.iter().any(|n| n.contains(ip)));
        // The proxy nearest to us appends last.
        let proto = parts
            .headers
            .get_all("x-forwarded-proto")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .map(str::trim);
        Ok(ViaHttps(
            trusted && proto.is_some_and(|p| p.eq_ignore_ascii_case("https")),
        ))
    }
}

pub fn user_view(row: &UserRow) -> User {
    User {
        id: row.id,
        username: row.username.clone(),
        role: auth::role_of(row),
        created_at: row.created_at,
    }
}

fn check_username(name: &str) -> Result<(), ApiError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if !(3..=32).contains(&name.len()) || !ok_chars || !ok_start {
        return Err(ApiError::BadRequest(
            "username must be 3-32 characters: letters, digits, '_', '-', '.', starting with a letter or digit".into(),
        ));
    }
    Ok(())
}

pub fn check_password(pw: &str) -> Result<(), ApiError> {
    if !(8..=1024).contains(&pw.len()) {
        return Err(ApiError::BadRequest(
            "password must be 8 to 1024 bytes long".into(),
        ));
    }
    Ok(())
}

/// Creates an account. The first user becomes admin; later ones are ordinary users, and
/// when registration is closed only an admin may create them.
///
/// Everything cheap is checked before the password is hashed (argon2 costs ~20 MB and tens
/// of milliseconds): the form, whether registration is open, the per-address limit.
pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Option<AuthUser>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    check_username(&body.username)?;
    check_password(&body.password)?;
    let caller_is_admin = caller.as_ref().is_some_and(AuthUser::is_admin);
    let may_register = |first: bool| first || state.config.allow_registration || caller_is_admin;
    if !may_register(users::count(&state.db).await? == 0) {
        return Err(ApiError::Forbidden("registration is closed".into()));
    }
    if !caller_is_admin {
        state
            .register_limiter
            .attempt(ip)
            .map_err(ApiError::TooManyRequests)?;
    }
    let hash = password::hash(&body.password)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let _one_at_a_time = state.register_lock.lock().await;
    // Again under the lock: exactly one first user becomes admin.
    let first = users::count(&state.db).await? == 0;
    if !may_register(first) {
        return Err(ApiError::Forbidden("registration is closed".into()));
    }
    let role = if first { "admin" } else { "user" };
    match users::create(&state.db, &body.username, &hash, role).await? {
        Created::User(row) => {
            tracing::info!(user = %row.username, role, "registered");
            Ok((StatusCode::CREATED, Json(user_view(&row))))
        }
        Created::NameTaken => Err(ApiError::Conflict("username is taken".into())),
    }
}

/// A login response: the token in the body and in the dashboard's cookies.
pub fn login_response(state: &AppState, row: &UserRow, https: bool) -> Result<Response, ApiError> {
    let issued = auth::issue(state, row)?;
    let body = LoginResponse {
        token: issued.token.clone(),
        expires_at: issued.expires_at,
        csrf_token: issued.csrf.clone(),
        user: user_view(row),
    };
    let mut headers = HeaderMap::new();
    for c in cookies::login(
        &issued.token,
        &issued.csrf,
        state.config.token_ttl.as_secs(),
        https,
    ) {
        headers.append(header::SET_COOKIE, c);
    }
    headers.insert(
        header::CACHE_CONTROL,
        "no-store"
            .parse()
            .map_err(|_| ApiError::Internal("header".into()))?,
    );
    Ok((headers, Json(body)).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ViaHttps(https): ViaHttps,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    state
        .limiter
        .attempt(ip)
        .map_err(ApiError::TooManyRequests)?;
    let row = users::by_name(&state.db, &body.username).await?;
    let ok = password::verify(
        &body.password,
        row.as_ref().map(|r| r.password_hash.as_str()),
    )
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match row {
        Some(row) if ok => login_response(&state, &row, https),
        _ => {
            tracing::info!(%ip, "failed login");
            Err(ApiError::Unauthorized(
                "invalid username or password".into(),
            ))
        }
    }
}

/// Clears the dashboard's cookies and revokes the user's tokens: the one used here, and any
/// other of this user's sessions (tokens carry the user's token version, which this bumps).
/// Open event streams of the user end.
pub async fn logout(
    State(state): State<AppState>,
    ViaHttps(https): ViaHttps,
    user: AuthUser,
) -> Result<impl IntoResponse, ApiError> {
    users::revoke_tokens(&state.db, user.id).await?;
    state.streams.revoke(user.id);
    tracing::info!(user = %user.username, "logged out");
    let mut headers = HeaderMap::new();
    for c in cookies::login("", "", 0, https) {
        headers.append(header::SET_COOKIE, c);
    }
    Ok((StatusCode::NO_CONTENT, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("a.b-c_1").is_ok());
        for bad in [
            "ab",
            ".hidden",
            "-x-",
            "has space",
            "a/b",
            "..",
            &"x".repeat(33),
        ] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("12345678").is_ok());
        assert!(check_password("short").is_err());
    }
}
