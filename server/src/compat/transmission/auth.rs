//! Transmission RPC's gatekeeping: HTTP Basic auth with TorrentEdge's users, then the
//! `X-Transmission-Session-Id` handshake (a request without the current id gets 409 and the
//! id in that header). Checked credentials are remembered for a few minutes (keyed by a
//! SHA-256 of the header), so polling clients do not pay for argon2 on every call; a
//! password change ends that early through the token version.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::auth::AuthUser;
use crate::compat::{check_login, random_hex, user_if_current, LoginError};
use crate::state::AppState;

pub const SESSION_HEADER: &str = "x-transmission-session-id";
const REMEMBER: Duration = Duration::from_secs(300);
const MAX_REMEMBERED: usize = 10_000;

pub struct RpcState {
    session_id: String,
    /// SHA-256 of an Authorization header → (user, token version, when checked).
    known: Mutex<HashMap<[u8; 32], (i64, i64, Instant)>>,
}

impl Default for RpcState {
    fn default() -> Self {
        RpcState {
            session_id: random_hex(24),
            known: Mutex::default(),
        }
    }
}

impl RpcState {
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
}

/// A refused request, answered as Transmission answers it.
pub enum Refusal {
    Unauthorized,
    /// Too many failed logins from this address.
    Limited(u64),
    WrongSession,
    Internal(String),
}

impl Refusal {
    pub fn response(self, session_id: &str) -> Response {
        let html = [(header::CONTENT_TYPE, "text/html; charset=ISO-8859-1")];
        match self {
            Refusal::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"Transmission\"")],
                html,
                "<h1>401: Unauthorized</h1>Unauthorized User",
            )
                .into_response(),
            Refusal::Limited(secs) => {
                let mut res = (
                    StatusCode::FORBIDDEN,
                    html,
                    "<h1>403: Forbidden</h1><p>Too many unsuccessful login attempts. Please restart transmission-daemon.</p>",
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                    res.headers_mut().insert(header::RETRY_AFTER, v);
                }
                res
            }
            Refusal::WrongSession => {
                let mut res = (
                    StatusCode::CONFLICT,
                    html,
                    format!(
                        "<h1>409: Conflict</h1><p>Your request had an invalid session-id header.</p>\
                         <p>To fix this, follow these steps:<ol><li> When reading a response, get its \
                         X-Transmission-Session-Id header and remember it<li> Add the updated header to \
                         your outgoing requests<li> When you get this 409 error message, resend your \
                         request with the updated header</ol></p><p>This requirement has been added to \
                         help prevent <a href=\"https://en.wikipedia.org/wiki/Cross-site_request_forgery\">CSRF</a> \
                         attacks.</p><p><code>{SESSION_HEADER}: {session_id}</code></p>"
                    ),
                )
                    .into_response();
                if let Ok(v) = HeaderValue::from_str(session_id) {
                    res.headers_mut().insert(SESSION_HEADER, v);
                }
                res
            }
            Refusal::Internal(m) => {
                tracing::error!("Transmission RPC: {m}");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// The caller, once both checks pass.
pub async fn authorize(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<AuthUser, Refusal> {
    let user = authenticate(state, ip, headers).await?;
    let sent = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok());
    if sent != Some(state.compat.transmission.session_id()) {
        return Err(Refusal::WrongSession);
    }
    Ok(user)
}

async fn authenticate(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<AuthUser, Refusal> {
    let Some((name, pass)) = basic(headers) else {
        return Err(Refusal::Unauthorized);
    };
    let key: [u8; 32] = Sha256::digest(
        headers
            .get(header::AUTHORIZATION)
            .map_or(&[][..], |v| v.as_bytes()),
    )
    .into();
    let rpc = &state.compat.transmission;
    let remembered = {
        let map = rpc.known.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&key)
            .filter(|(_, _, at)| at.elapsed() < REMEMBER)
            .map(|(id, ver, _)| (*id, *ver))
    };
    if let Some((id, ver)) = remembered {
        match user_if_current(state, id, ver).await {
            Ok(Some(u)) => return Ok(u),
            Ok(None) => {}
            Err(e) => return Err(Refusal::Internal(e.to_string())),
        }
    }
    match check_login(state, ip, &name, &pass).await {
        Ok((user, ver)) => {
            let mut map = rpc.known.lock().unwrap_or_else(|e| e.into_inner());
            map.retain(|_, (_, _, at)| at.elapsed() < REMEMBER);
            if map.len() < MAX_REMEMBERED {
                map.insert(key, (user.id, ver, Instant::now()));
            }
            Ok(user)
        }
        Err(LoginError::Wrong) => Err(Refusal::Unauthorized),
        Err(LoginError::RateLimited(s)) => Err(Refusal::Limited(s)),
        Err(LoginError::Internal(m)) => Err(Refusal::Internal(m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWxpY2U6cHc6eA=="),
        );
        assert_eq!(basic(&h), Some(("alice".into(), "pw:x".into())));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(basic(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic(&h), None);
    }
}
