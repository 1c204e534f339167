//! `POST /api/auth/register`, `POST /api/auth/login`, `POST /api/auth/logout`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use app::types::{Credentials, LoginResponse, User};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::errors::{ApiError, ApiJson};
use crate::auth::{self, cookies, password, AuthUser};
use crate::db::users::{self, Created, UserRow};
use crate::state::AppState;

/// The client's address (for the login rate limit).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip()),
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
pub async fn register(
    State(state): State<AppState>,
    caller: Option<AuthUser>,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    check_username(&body.username)?;
    check_password(&body.password)?;
    let hash = password::hash(&body.password)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let _one_at_a_time = state.register_lock.lock().await;
    let first = users::count(&state.db).await? == 0;
    let caller_is_admin = caller.as_ref().is_some_and(AuthUser::is_admin);
    if !first && !state.config.allow_registration && !caller_is_admin {
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
pub fn login_response(state: &AppState, row: &UserRow) -> Result<Response, ApiError> {
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
        state.config.cookie_secure,
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
        Some(row) if ok => login_response(&state, &row),
        _ => {
            tracing::info!(%ip, "failed login");
            Err(ApiError::Unauthorized(
                "invalid username or password".into(),
            ))
        }
    }
}

/// Clears the dashboard's cookies. (Tokens are stateless: a copied token stays valid until
/// it expires or the password changes.)
pub async fn logout(State(state): State<AppState>, _user: AuthUser) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    for c in cookies::login("", "", 0, state.config.cookie_secure) {
        headers.append(header::SET_COOKIE, c);
    }
    (StatusCode::NO_CONTENT, headers)
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
