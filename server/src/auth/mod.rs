//! Authentication: password hashes, JWTs, the `AuthUser` extractor (Bearer header or session
//! cookie with double-submit CSRF token), and the login rate limit.

pub mod client_ip;
pub mod cookies;
pub mod jwt;
pub mod links;
pub mod password;
pub mod ratelimit;
pub mod secret;

use app::types::Role;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, Method};
use rand::RngCore;

use crate::api::errors::ApiError;
use crate::db::now_unix;
use crate::db::users::{self, UserRow};
use crate::state::AppState;
use jwt::{Claims, TokenError};

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The token's version (a logout or password change bumps the user's) and expiry (Unix
    /// seconds): long-lived requests (event streams) check them again later.
    pub token_version: i64,
    pub expires_at: u64,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this user may see and control something owned by `owner_id`.
    pub fn can_access(&self, owner_id: i64) -> bool {
        self.is_admin() || self.id == owner_id
    }
}

/// Parses a stored role; anything unknown is an ordinary user.
pub fn role_of(row: &UserRow) -> Role {
    if row.role == "admin" {
        Role::Admin
    } else {
        Role::User
    }
}

/// A freshly issued login token.
pub struct Issued {
    pub token: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// Signs a token for `user` that expires after the configured lifetime.
pub fn issue(state: &AppState, user: &UserRow) -> Result<Issued, ApiError> {
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let csrf = engine::types::hex_encode(&raw);
    let now = now_unix().max(0) as u64;
    let exp = now + state.config.token_ttl.as_secs();
    let claims = Claims {
        sub: user.id.to_string(),
        ver: user.token_version,
        csrf: csrf.clone(),
        iat: now,
        exp,
    };
    let token = state
        .keys
        .sign(&claims)
        .map_err(|_| ApiError::Internal("cannot sign a token".into()))?;
    Ok(Issued {
        token,
        csrf,
        expires_at: exp as i64,
    })
}

/// Where the credentials came from.
enum Credentials<'a> {
    Bearer(&'a str),
    Cookie(String),
}

fn credentials(parts: &Parts) -> Result<Option<Credentials<'_>>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value
            .to_str()
            .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::Unauthorized("expected a Bearer token".into()))?;
        return Ok(Some(Credentials::Bearer(token.trim())));
    }
    Ok(cookies::get(&parts.headers, cookies::SESSION).map(Credentials::Cookie))
}

/// Checks the credentials of a request, if it has any.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<AuthUser>, ApiError> {
    let Some(creds) = credentials(parts)? else {
        return Ok(None);
    };
    let (token, via_cookie) = match &creds {
        Credentials::Bearer(t) => (*t, false),
        Credentials::Cookie(t) => (t.as_str(), true),
    };
    let claims = state.keys.verify(token).map_err(|e| match e {
        TokenError::Expired => ApiError::Unauthorized("token expired".into()),
        TokenError::Invalid => ApiError::Unauthorized("invalid token".into()),
    })?;
    if via_cookie && !is_safe(&parts.method) {
        check_csrf(parts, &claims)?;
    }
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::Unauthorized("invalid token".into()))?;
    let user = users::by_id(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::Unauthorized("unknown user".into()))?;
    if user.token_version != claims.ver {
        return Err(ApiError::Unauthorized("token revoked".into()));
    }
    Ok(Some(AuthUser {
        id: user.id,
        role: role_of(&user),
        username: user.username,
        token_version: claims.ver,
        expires_at: claims.exp,
    }))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Double-submit: the `X-CSRF-Token` header must equal the `te_csrf` cookie, and both the
/// token bound into this session's JWT.
fn check_csrf(parts: &Parts, claims: &Claims) -> Result<(), ApiError> {
    let header = parts
        .headers
        .get(cookies::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::Forbidden("missing CSRF token".into()))?;
    let cookie = cookies::get(&parts.headers, cookies::CSRF).unwrap_or_default();
    if !constant_time_eq(header.as_bytes(), cookie.as_bytes())
        || !constant_time_eq(header.as_bytes(), claims.csrf.as_bytes())
    {
        return Err(ApiError::Forbidden("CSRF token mismatch".into()));
    }
    Ok(())
}

/// Equality whose time does not depend on where the inputs first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(parts, state)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("missing token".into()))
    }
}

impl OptionalFromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    /// None without credentials; bad credentials are still an error.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        authenticate(parts, state).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(is_safe(&Method::GET));
        assert!(!is_safe(&Method::DELETE));
    }
}
