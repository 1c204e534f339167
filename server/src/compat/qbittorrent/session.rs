//! qBittorrent's login: `auth/login` checks a TorrentEdge username and password (under the
//! same per-address limit as the REST login) and sets a `SID` cookie; `QbitUser` accepts
//! that cookie, or a TorrentEdge bearer token (newer clients send API keys as bearers).
//! Sessions live in memory, as qBittorrent's do: a restart logs clients out, and they log
//! in again on the 403.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{text, Params, QbitError};
use crate::api::auth::ClientIp;
use crate::auth::{cookies, AuthUser};
use crate::compat::{check_login, random_hex, user_if_current, LoginError};
use crate::state::AppState;

const COOKIE: &str = "SID";
/// qBittorrent's default session timeout.
const IDLE: Duration = Duration::from_secs(3600);
/// Sessions kept at most; beyond this the least recently used one goes.
const MAX_SESSIONS: usize = 10_000;

struct Session {
    user_id: i64,
    token_version: i64,
    last_used: Instant,
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn create(&self, user_id: i64, token_version: i64) -> String {
        let sid = random_hex(16);
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(
            sid.clone(),
            Session {
                user_id,
                token_version,
                last_used: now,
            },
        );
        sid
    }

    /// The session's (user, token version), refreshing its idle timer.
    fn touch(&self, sid: &str) -> Option<(i64, i64)> {
        let now = Instant::now();
        let mut map = self.lock();
        let s = map.get_mut(sid)?;
        if now.duration_since(s.last_used) >= IDLE {
            map.remove(sid);
            return None;
        }
        s.last_used = now;
        Some((s.user_id, s.token_version))
    }

    fn remove(&self, sid: &str) {
        self.lock().remove(sid);
    }
}

/// A caller logged in through `auth/login` or carrying a TorrentEdge bearer token.
pub struct QbitUser(pub AuthUser);

impl FromRequestParts<AppState> for QbitUser {
    type Rejection = QbitError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, QbitError> {
        if let Some(sid) = cookies::get(&parts.headers, COOKIE) {
            if let Some((id, ver)) = state.compat.qbit.touch(&sid) {
                if let Some(user) = user_if_current(state, id, ver).await? {
                    return Ok(QbitUser(user));
                }
                state.compat.qbit.remove(&sid);
            }
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer "));
        if bearer {
            return AuthUser::from_request_parts(parts, state)
                .await
                .map(QbitUser)
                .map_err(|_| QbitError::Forbidden);
        }
        Err(QbitError::Forbidden)
    }
}

/// `auth/login`: `Ok.` with a `SID` cookie, or `Fails.`; 403 while the address is over the
/// login limit (qBittorrent's ban answer).
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    params: Params,
) -> Result<Response, QbitError> {
    let username = params.get("username").unwrap_or("");
    let password = params.get("password").unwrap_or("");
    match check_login(&state, ip, username, password).await {
        Ok((user, ver)) => {
            let sid = state.compat.qbit.create(user.id, ver);
            let cookie = format!("{COOKIE}={sid}; HttpOnly; SameSite=Strict; path=/");
            let mut res = text("Ok.");
            let v =
                HeaderValue::from_str(&cookie).map_err(|_| QbitError::Internal("cookie".into()))?;
            res.headers_mut().insert(header::SET_COOKIE, v);
            Ok(res)
        }
        Err(LoginError::Wrong) => Ok(text("Fails.")),
        Err(LoginError::RateLimited(_)) => Ok((
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
            "Your IP address has been banned after too many failed authentication attempts.",
        )
            .into_response()),
        Err(LoginError::Internal(m)) => Err(QbitError::Internal(m)),
    }
}

/// `auth/logout`: ends the session (a bearer caller has none to end).
pub async fn logout(
    State(state): State<AppState>,
    _user: QbitUser,
    req: axum::extract::Request,
) -> Response {
    if let Some(sid) = cookies::get(req.headers(), COOKIE) {
        state.compat.qbit.remove(&sid);
    }
    let mut res = StatusCode::OK.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("SID=; HttpOnly; SameSite=Strict; path=/; Max-Age=0"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_looked_up_and_removed() {
        let s = Sessions::default();
        let a = s.create(1, 0);
        let b = s.create(2, 3);
        assert_ne!(a, b);
        assert_eq!(s.touch(&a), Some((1, 0)));
        assert_eq!(s.touch(&b), Some((2, 3)));
        s.remove(&a);
        assert_eq!(s.touch(&a), None);
        assert_eq!(s.touch("nope"), None);
    }
}
