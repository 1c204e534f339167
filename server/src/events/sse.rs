//! One client's server-sent event stream: the replay (or a `resync`), then live events it
//! may see, until the server shuts down or the session it was opened with ends (token
//! expired, revoked by logout or a password change, user deleted).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event as SseEvent;
use futures_util::future::BoxFuture;
use futures_util::Stream;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::names::RESYNC;
use super::streams::Slot;
use super::{EventHub, HubEvent, Replay, Subscription};

/// Who is watching.
#[derive(Clone, Copy, Debug)]
pub struct Viewer {
    pub user_id: i64,
    pub admin: bool,
}

/// How often an open stream checks its session even without a revocation signal (catches a
/// user deleted or a token version changed behind the server's back).
const RECHECK_EVERY: Duration = Duration::from_secs(30);

/// The session a stream was opened with.
pub struct Session {
    /// When the token expires: the stream ends then.
    pub expires_at: tokio::time::Instant,
    /// User ids whose sessions may have ended (logout, password change).
    pub revocations: broadcast::Receiver<i64>,
    /// Whether the session still holds (the user exists, the token version is unchanged).
    pub still_valid: Box<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>,
    /// This stream's place in its user's cap, given back when the stream ends.
    pub _slot: Slot,
}

struct State {
    hub: EventHub,
    session: Session,
    recheck: tokio::time::Interval,
    viewer: Viewer,
    pending: VecDeque<SseEvent>,
    live: broadcast::Receiver<Arc<HubEvent>>,
    last_id: u64,
    shutdown: watch::Receiver<bool>,
}

fn sse(ev: &HubEvent) -> SseEvent {
    SseEvent::default()
        .id(ev.id.to_string())
        .event(ev.name)
        .data(ev.data.as_str())
}

fn resync(latest_id: u64, reason: &str) -> SseEvent {
    SseEvent::default()
        .id(latest_id.to_string())
        .event(RESYNC)
        .data(json!({ "reason": reason }).to_string())
}

/// The stream for `viewer`, starting with what `sub` replays.
pub fn stream(
    hub: EventHub,
    sub: Subscription,
    viewer: Viewer,
    session: Session,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + 'static {
    let mut pending = VecDeque::new();
    let mut last_id = 0;
    match sub.replay {
        Replay::Resync { latest_id } => {
            pending.push_back(resync(
                latest_id,
                "Last-Event-ID is older than the replay buffer",
            ));
            last_id = latest_id;
        }
        Replay::Events(events) => {
            for ev in events {
                last_id = ev.id;
                if ev.visible_to(viewer.user_id, viewer.admin) {
                    pending.push_back(sse(&ev));
                }
            }
        }
    }
    let start = tokio::time::Instant::now() + RECHECK_EVERY;
    let state = State {
        hub,
        session,
        recheck: tokio::time::interval_at(start, RECHECK_EVERY),
        viewer,
        pending,
        live: sub.live,
        last_id,
        shutdown,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(ev) = st.pending.pop_front() {
                return Some((Ok(ev), st));
            }
            if *st.shutdown.borrow() {
                return None;
            }
            tokio::select! {
                r = st.live.recv() => match r {
                    Ok(ev) => {
                        if ev.id <= st.last_id {
                            continue;
                        }
                        st.last_id = ev.id;
                        if ev.visible_to(st.viewer.user_id, st.viewer.admin) {
                            return Some((Ok(sse(&ev)), st));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        st.hub.count_dropped(n);
                        st.last_id = st.hub.latest_id();
                        return Some((Ok(resync(st.last_id, "this stream fell behind")), st));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                r = st.shutdown.changed() => {
                    if r.is_err() || *st.shutdown.borrow() {
                        return None;
                    }
                }
                () = tokio::time::sleep_until(st.session.expires_at) => return None,
                r = st.session.revocations.recv() => match r {
                    Ok(id) if id != st.viewer.user_id => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                    // Ours, or some were missed: check.
                    _ => {
                        if !(st.session.still_valid)().await {
                            return None;
                        }
                    }
                },
                _ = st.recheck.tick() => {
                    if !(st.session.still_valid)().await {
                        return None;
                    }
                }
            }
        }
    })
}
