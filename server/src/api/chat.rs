//! `/api/chat`: the instance-wide chat room every signed-in user reads and writes. New
//! messages go out to every event stream as `chat:message`.

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use app::types::{names, ChatMessage, PostChat, CHAT_MAX_CHARS};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;

use super::errors::{ApiError, ApiJson, ApiQuery};
use crate::auth::AuthUser;
use crate::db::{chat, now_ms};
use crate::state::AppState;

/// Messages per page when `limit` is absent, and at most.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The window of `CHAT_RATE_LIMIT`.
const RATE_WINDOW: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
pub struct ChatQuery {
    /// Messages with smaller ids (older) than this.
    before: Option<i64>,
    limit: Option<i64>,
}

/// `GET /api/chat?before=ID&limit=N`: the page of messages just before `before` (the newest
/// when absent), oldest first.
pub async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiQuery(q): ApiQuery<ChatQuery>,
) -> Result<Json<Vec<ChatMessage>>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    Ok(Json(chat::page(&state.db, q.before, limit).await?))
}

/// `POST /api/chat`: stores the (trimmed) message, broadcasts it, answers with it.
pub async fn post(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<PostChat>,
) -> Result<(StatusCode, Json<ChatMessage>), ApiError> {
    let body = validate(&req.body)?;
    LIMITER
        .attempt(user.id, state.config.chat_rate_limit, Instant::now())
        .map_err(ApiError::TooManyRequests)?;
    let created_at = now_ms();
    let id = chat::insert(&state.db, user.id, body, created_at).await?;
    let msg = ChatMessage {
        id,
        user_id: user.id,
        username: user.username,
        body: body.to_owned(),
        created_at,
    };
    state.hub.publish(None, names::CHAT_MESSAGE, &msg);
    Ok((StatusCode::CREATED, Json(msg)))
}

/// The body to store: trimmed, 1 to `CHAT_MAX_CHARS` characters, no control characters
/// other than line breaks and tabs.
fn validate(body: &str) -> Result<&str, ApiError> {
    let invalid = |why: String| ApiError::Invalid("invalid_message", why);
    let body = body.trim();
    let chars = body.chars().count();
    if chars == 0 {
        return Err(invalid("the message is empty".into()));
    }
    if chars > CHAT_MAX_CHARS {
        return Err(invalid(format!(
            "the message is {chars} characters long; at most {CHAT_MAX_CHARS} are allowed"
        )));
    }
    if body
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid("the message contains control characters".into()));
    }
    Ok(body)
}

/// Messages per user in a sliding window. The server state is built outside this module
/// (`web/mod.rs`), so the one limiter of the process lives here.
static LIMITER: LazyLock<Limiter> = LazyLock::new(|| Limiter::new(RATE_WINDOW));

/// Users remembered at most; beyond this, idle ones are swept first.
const MAX_TRACKED: usize = 100_000;

struct Limiter {
    window: Duration,
    sent: Mutex<HashMap<i64, VecDeque<Instant>>>,
}

impl Limiter {
    fn new(window: Duration) -> Limiter {
        Limiter {
            window,
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a message of `user`, allowed `per_window` per window (0 = no limit);
    /// Err(seconds to wait) when over.
    fn attempt(&self, user: i64, per_window: u32, now: Instant) -> Result<(), u64> {
        if per_window == 0 {
            return Ok(());
        }
        let window = self.window;
        let recent = |t: &Instant| now.saturating_duration_since(*t) < window;
        let mut map = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, q| q.back().is_some_and(recent));
        }
        let q = map.entry(user).or_default();
        while q.front().is_some_and(|t| !recent(t)) {
            q.pop_front();
        }
        if q.len() >= per_window as usize {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.saturating_duration_since(oldest));
            return Err(wait.as_secs_f64().ceil().max(1.0) as u64);
        }
        q.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_bounded() {
        assert_eq!(validate("  hi there \n").unwrap(), "hi there");
        assert_eq!(validate("two\nlines").unwrap(), "two\nlines");
        assert!(validate(" \n\t ").is_err());
        assert!(validate("nul \0 inside").is_err());
        let max = "é".repeat(CHAT_MAX_CHARS);
        assert_eq!(validate(&max).unwrap(), max, "characters, not bytes");
        let err = validate(&format!("{max}x")).unwrap_err();
        assert_eq!(err.code(), "invalid_message");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_sliding_window_per_user() {
        let l = Limiter::new(Duration::from_secs(5));
        let t = Instant::now();
        for i in 0..3 {
            assert!(l.attempt(1, 3, t + Duration::from_secs(i)).is_ok());
        }
        assert_eq!(l.attempt(1, 3, t + Duration::from_secs(3)), Err(2));
        assert!(l.attempt(2, 3, t).is_ok(), "other users are not affected");
        // The first message leaves the window after 5 s: one more is allowed.
        assert!(l.attempt(1, 3, t + Duration::from_secs(5)).is_ok());
        assert!(l.attempt(1, 3, t + Duration::from_secs(5)).is_err());
        assert!(l.attempt(1, 0, t).is_ok(), "0 = no limit");
    }
}
