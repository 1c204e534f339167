//! Searching relays for NIP-35 torrents, one more source of `/api/search`.
//!
//! Per relay, all under the search timeout: its NIP-11 document (cached) says whether it
//! does NIP-50 `search`; the query is one `REQ` for kind 2003 with `search` when it does, or
//! the latest [`MAX_EVENTS`] torrents otherwise, which `search::rank` then matches by name
//! like every other source. Reading stops at `EOSE`, after [`MAX_EVENTS`] events or
//! [`MAX_BYTES`], or at the deadline (what arrived is kept). Every event's id and signature
//! are checked; bad ones are dropped and counted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::types::SourceState;
use serde_json::json;

use super::event;
use super::message::{self, RelayMessage, KIND_TORRENT};
use super::relay::{self, Incoming};
use crate::search::wire::{CatalogFile, CatalogItem};

/// Events read from one relay per search at most.
pub const MAX_EVENTS: usize = 200;
/// Message bytes read from one relay per search at most.
pub const MAX_BYTES: usize = 8 << 20;
/// The largest NIP-11 document read.
const MAX_INFO: usize = 64 << 10;
/// How long a relay's NIP-11 answer is trusted.
const INFO_TTL: Duration = Duration::from_secs(600);

/// What one relay answered.
pub struct Outcome {
    pub state: SourceState,
    pub message: Option<String>,
    pub items: Vec<CatalogItem>,
    pub elapsed: Duration,
}

/// Whether each relay does NIP-50, as of when it was asked.
#[derive(Default)]
pub struct InfoCache(Mutex<HashMap<String, (bool, Instant)>>);

impl InfoCache {
    fn get(&self, relay: &str) -> Option<bool> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(relay)
            .filter(|(_, at)| at.elapsed() < INFO_TTL)
            .map(|(s, _)| *s)
    }

    fn put(&self, relay: &str, search: bool) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(relay.to_owned(), (search, Instant::now()));
    }
}

/// Asks one relay for `q`'s torrents, under `timeout` for the whole exchange.
pub async fn ask(
    client: &reqwest::Client,
    cache: &InfoCache,
    url: &url::Url,
    q: &str,
    timeout: Duration,
) -> Outcome {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut out = Outcome {
        state: SourceState::Ok,
        message: None,
        items: Vec::new(),
        elapsed: Duration::ZERO,
    };
    let search = match cache.get(url.as_str()) {
        Some(s) => s,
        None => {
            // At most a third of the time: the query itself must still fit.
            let s = supports_search(client, url, timeout / 3).await;
            cache.put(url.as_str(), s);
            s
        }
    };
    let result = tokio::time::timeout_at(deadline, relay::connect(url, timeout)).await;
    match result {
        Err(_) => {
            out.state = SourceState::Timeout;
            out.message = Some(format!("no connection within {} ms", timeout.as_millis()));
        }
        Ok(Err(e)) => {
            out.state = SourceState::Error;
            out.message = Some(e.to_string());
        }
        Ok(Ok(mut conn)) => {
            let (state, message) = query(&mut conn, q, search, deadline, &mut out.items).await;
            out.state = state;
            out.message = message;
            conn.close().await;
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// The `REQ` filter: kind 2003, bounded, with NIP-50 `search` when the relay does it.
pub fn filter(q: &str, search: bool) -> serde_json::Value {
    let mut f = json!({ "kinds": [KIND_TORRENT], "limit": MAX_EVENTS });
    if search {
        f["search"] = q.into();
    }
    f
}

async fn query(
    conn: &mut relay::Conn,
    q: &str,
    search: bool,
    deadline: tokio::time::Instant,
    items: &mut Vec<CatalogItem>,
) -> (SourceState, Option<String>) {
    let sub = format!("te{:016x}", rand::random::<u64>());
    let req = json!(["REQ", sub, filter(q, search)]).to_string();
    if let Err(e) = conn.send(req).await {
        return (SourceState::Error, Some(e.to_string()));
    }
    let (mut events, mut dropped, mut bytes) = (0usize, 0u32, 0usize);
    let state = loop {
        if events >= MAX_EVENTS || bytes >= MAX_BYTES {
            break SourceState::Ok;
        }
        let incoming = match tokio::time::timeout_at(deadline, conn.recv()).await {
            Err(_) => break SourceState::Timeout,
            Ok(Err(e)) => {
                if items.is_empty() {
                    return (SourceState::Error, Some(e.to_string()));
                }
                break SourceState::Ok;
            }
            Ok(Ok(i)) => i,
        };
        match incoming {
            Incoming::Bad(e) => {
                tracing::debug!("a relay sent a bad message: {e}");
                dropped += 1;
            }
            Incoming::Message(RelayMessage::Event { sub: s, event }) if s == sub => {
                events += 1;
                bytes += event.content.len()
                    + event.tags.iter().flatten().map(String::len).sum::<usize>();
                match accept(&event) {
                    Some(item) => items.push(item),
                    None => dropped += 1,
                }
            }
            Incoming::Message(RelayMessage::Eose { sub: s }) if s == sub => break SourceState::Ok,
            Incoming::Message(RelayMessage::Closed { sub: s, message }) if s == sub => {
                if items.is_empty() {
                    return (SourceState::Error, Some(format!("closed: {message}")));
                }
                break SourceState::Ok;
            }
            Incoming::Message(_) => {}
        }
    };
    let _ = conn.send(json!(["CLOSE", sub]).to_string()).await;
    let mut notes = Vec::new();
    if state == SourceState::Timeout {
        notes.push(format!("{} events before the deadline", items.len()));
    }
    if dropped > 0 {
        notes.push(format!("{dropped} bad events dropped"));
    }
    if !search {
        notes.push("no NIP-50: latest torrents matched here".into());
    }
    (state, (!notes.is_empty()).then(|| notes.join("; ")))
}

/// The catalog entry of a verified torrent event; None for a bad or foreign one.
fn accept(e: &message::Event) -> Option<CatalogItem> {
    if e.kind != KIND_TORRENT {
        return None;
    }
    event::verify(e).ok()?;
    let t = message::torrent(e)?;
    Some(CatalogItem {
        info_hash: t.info_hash,
        name: t.title,
        total_bytes: t.total_bytes,
        file_count: t.file_count,
        files: t
            .files
            .into_iter()
            .map(|(path, length)| CatalogFile { path, length })
            .collect(),
        seeders: 0,
        complete: false,
        web_seed: None,
        magnet: None,
        trackers: t.trackers,
    })
}

/// Asks the relay's NIP-11 document whether 50 is among its `supported_nips`; no answer
/// within `timeout` (or any failure) is "no".
async fn supports_search(client: &reqwest::Client, url: &url::Url, timeout: Duration) -> bool {
    let fetch = async {
        let mut res = client
            .get(relay::http_url(url))
            .header("Accept", "application/nostr+json")
            .send()
            .await
            .ok()?;
        if !res.status().is_success() {
            return None;
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_INFO {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        let doc: serde_json::Value = serde_json::from_slice(&body).ok()?;
        Some(
            doc["supported_nips"]
                .as_array()?
                .iter()
                .any(|n| n.as_u64() == Some(50)),
        )
    };
    matches!(tokio::time::timeout(timeout, fetch).await, Ok(Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_asks_for_search_only_where_it_is_supported() {
        assert_eq!(
            filter("linux iso", true),
            json!({ "kinds": [2003], "limit": MAX_EVENTS, "search": "linux iso" })
        );
        assert_eq!(
            filter("linux iso", false),
            json!({ "kinds": [2003], "limit": MAX_EVENTS })
        );
    }

    #[test]
    fn only_verified_torrent_events_become_entries() {
        let key = k256::schnorr::SigningKey::from_bytes(&[9u8; 32]).unwrap();
        let tags = vec![
            vec!["title".to_owned(), "Linux ISO".to_owned()],
            vec!["x".to_owned(), "ab".repeat(20)],
            vec!["tracker".to_owned(), "udp://t:1".to_owned()],
        ];
        let good = event::sign(&key, 1, KIND_TORRENT, tags.clone(), String::new(), &[0; 32]);
        let item = accept(&good).unwrap();
        assert_eq!(item.name, "Linux ISO");
        assert_eq!(item.trackers, ["udp://t:1"]);
        let mut tampered = good.clone();
        tampered.tags[0][1] = "Other".into();
        assert!(accept(&tampered).is_none(), "id no longer matches");
        let mut resigned = tampered.clone();
        resigned.id = event::hex(&event::id(
            &resigned.pubkey,
            resigned.created_at,
            resigned.kind,
            &resigned.tags,
            &resigned.content,
        ));
        assert!(accept(&resigned).is_none(), "signature of another id");
        let note = event::sign(&key, 1, 1, tags, String::new(), &[0; 32]);
        assert!(accept(&note).is_none(), "not a torrent");
    }
}
