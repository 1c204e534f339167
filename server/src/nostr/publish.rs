//! Publishing the outbox to each relay: one task per relay.
//!
//! States of a relay task: *idle* (every event in the outbox is settled with this relay:
//! no connection is held) → *connecting* (when the outbox has an unsettled event) →
//! *sending* (each unsettled event sent once, waiting for its `OK`) → back to *idle* once
//! every event is settled, or *backing off* after a failure (connect error, closed
//! connection, no `OK` within [`OK_TIMEOUT`]): 1 s, doubling up to [`MAX_BACKOFF`], reset by
//! an accepted event. An event is settled when the relay accepted it (`OK true`, including
//! `duplicate:`) or refused it (`OK false`: not retried until the next start, so a relay
//! that will never take it is not asked in a loop). Invariant: at most one connection per
//! relay; the status is written only by its task.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::message::{Event, RelayMessage};
use super::relay::{self, Incoming};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const OK_TIMEOUT: Duration = Duration::from_secs(30);
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What the API shows about one relay.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayStatus {
    pub url: String,
    /// A connection is open now.
    pub connected: bool,
    /// Events this relay accepted since start (new or `duplicate`).
    pub accepted: u64,
    /// Events it refused since start.
    pub refused: u64,
    /// Events of the outbox not settled with it yet.
    pub pending: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ok: Option<LastOk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Unix milliseconds of the last accepted event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_publish_ms: Option<i64>,
}

/// The relay's last `OK`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastOk {
    pub event_id: String,
    pub accepted: bool,
    pub message: String,
}

pub type SharedStatus = Arc<Mutex<RelayStatus>>;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn update(status: &SharedStatus, f: impl FnOnce(&mut RelayStatus)) {
    f(&mut status.lock().unwrap_or_else(|e| e.into_inner()));
}

/// Runs the relay's task until `shutdown` turns true.
pub async fn run(
    url: url::Url,
    status: SharedStatus,
    mut outbox: watch::Receiver<Arc<Vec<Event>>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut settled: HashSet<String> = HashSet::new();
    let mut backoff = Duration::from_secs(1);
    loop {
        let events = outbox.borrow_and_update().clone();
        let pending: Vec<&Event> = events.iter().filter(|e| !settled.contains(&e.id)).collect();
        update(&status, |s| s.pending = pending.len() as u64);
        if pending.is_empty() {
            tokio::select! {
                r = outbox.changed() => if r.is_err() { return },
                _ = shutdown.changed() => return,
            }
            continue;
        }
        let result = tokio::select! {
            r = session(&url, &status, &pending, &mut settled) => r,
            _ = shutdown.changed() => return,
        };
        update(&status, |s| s.connected = false);
        match result {
            Ok(progress) => {
                if progress {
                    backoff = Duration::from_secs(1);
                }
            }
            Err(e) => {
                tracing::info!(relay = %url, "Nostr publishing: {e}; retrying in {backoff:?}");
                update(&status, |s| s.last_error = Some(e));
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// One connection: sends `pending` and reads `OK`s until each is settled. Ok(true) when
/// the relay accepted at least one.
async fn session(
    url: &url::Url,
    status: &SharedStatus,
    pending: &[&Event],
    settled: &mut HashSet<String>,
) -> Result<bool, String> {
    let mut conn = relay::connect(url, CONNECT_TIMEOUT)
        .await
        .map_err(|e| e.to_string())?;
    update(status, |s| s.connected = true);
    let mut waiting: HashSet<&str> = HashSet::new();
    for e in pending {
        let msg = serde_json::to_string(&("EVENT", e)).map_err(|e| e.to_string())?;
        conn.send(msg).await.map_err(|e| e.to_string())?;
        waiting.insert(e.id.as_str());
    }
    let mut progress = false;
    while !waiting.is_empty() {
        let incoming = tokio::time::timeout(OK_TIMEOUT, conn.recv())
            .await
            .map_err(|_| format!("no OK within {OK_TIMEOUT:?}"))?
            .map_err(|e| e.to_string())?;
        let Incoming::Message(RelayMessage::Ok {
            id,
            accepted,
            message,
        }) = incoming
        else {
            continue;
        };
        if !waiting.remove(id.as_str()) {
            continue;
        }
        settled.insert(id.clone());
        if accepted {
            progress = true;
        } else {
            tracing::info!(relay = %url, event = %id, "the relay refused an event: {message}");
        }
        update(status, |s| {
            if accepted {
                s.accepted += 1;
                s.last_publish_ms = Some(now_ms());
                s.last_error = None;
            } else {
                s.refused += 1;
            }
            s.pending = s.pending.saturating_sub(1);
            s.last_ok = Some(LastOk {
                event_id: id,
                accepted,
                message,
            });
        });
    }
    conn.close().await;
    Ok(progress)
}
