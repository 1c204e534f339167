//! What one Kafka message holds: a hub event (the same `data` the SSE stream sends) in an
//! envelope with a schema version, the publishing server and the event's audience.
//!
//! ```json
//! {"schemaVersion":1,"id":1764600000000001,"event":"torrent:progress","server":"3f…",
//!  "owner":2,"private":false,"timeMs":1764600000123,"data":{"infoHash":"…",…}}
//! ```
//!
//! Compiled without the feature too, so its tests run in every `cargo test`.
#![cfg_attr(not(feature = "kafka"), allow(dead_code))]

use serde::Deserialize;
use std::fmt::Write;

use crate::events::{names, HubEvent};

/// Bumped when a field changes meaning or goes away (new fields do not bump it).
pub const SCHEMA_VERSION: u32 = 1;

/// The topics (after `KAFKA_TOPIC_PREFIX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// `torrents`: every `torrent:*` event, `queue:updated` and `peer:banned`, keyed by
    /// info-hash.
    Torrents,
    /// `chat`: `chat:message`, keyed `chat`.
    Chat,
    /// `notifications`: `notification`, keyed by the user id.
    Notifications,
}

impl Topic {
    pub const ALL: [Topic; 3] = [Topic::Torrents, Topic::Chat, Topic::Notifications];

    pub fn suffix(self) -> &'static str {
        match self {
            Topic::Torrents => "torrents",
            Topic::Chat => "chat",
            Topic::Notifications => "notifications",
        }
    }

    /// Where an event goes; None for events that only mean something on this server
    /// (`resync`: this server's own stream fell behind).
    pub fn of(name: &str) -> Option<Topic> {
        match name {
            names::CHAT_MESSAGE => Some(Topic::Chat),
            names::NOTIFICATION => Some(Topic::Notifications),
            names::QUEUE_UPDATED | names::PEER_BANNED => Some(Topic::Torrents),
            n if n.starts_with("torrent:") => Some(Topic::Torrents),
            _ => None,
        }
    }
}

/// The hub's name for an event read back from Kafka; None for names this server does not know.
pub fn known_name(name: &str) -> Option<&'static str> {
    use names::*;
    [
        TORRENT_ADDED,
        TORRENT_PROGRESS,
        TORRENT_PIECE,
        TORRENT_COMPLETE,
        TORRENT_SEEDING,
        TORRENT_ERROR,
        TORRENT_REMOVED,
        QUEUE_UPDATED,
        PEER_BANNED,
        CHAT_MESSAGE,
        NOTIFICATION,
    ]
    .into_iter()
    .find(|n| *n == name)
}

/// The message key: the info-hash for torrent events (so one torrent's events stay in one
/// partition, in order), `chat`, or the notified user's id.
pub fn key(topic: Topic, ev: &HubEvent) -> String {
    #[derive(Deserialize)]
    struct Hash<'a> {
        #[serde(rename = "infoHash", borrow)]
        info_hash: Option<&'a str>,
    }
    match topic {
        Topic::Torrents => serde_json::from_str::<Hash>(&ev.data)
            .ok()
            .and_then(|h| h.info_hash.map(str::to_owned))
            .unwrap_or_default(),
        Topic::Chat => "chat".to_owned(),
        Topic::Notifications => ev.owner.map(|o| o.to_string()).unwrap_or_default(),
    }
}

/// The message's JSON. `server_json` is the server id already as a JSON string.
pub fn encode(ev: &HubEvent, server_json: &str, time_ms: u64) -> String {
    let mut out = String::with_capacity(ev.data.len() + 160);
    let _ = write!(
        out,
        "{{\"schemaVersion\":{SCHEMA_VERSION},\"id\":{},\"event\":\"{}\",\"server\":{server_json},\"owner\":",
        ev.id, ev.name
    );
    match ev.owner {
        Some(o) => {
            let _ = write!(out, "{o}");
        }
        None => out.push_str("null"),
    }
    let _ = write!(
        out,
        ",\"private\":{},\"timeMs\":{time_ms},\"data\":{}}}",
        ev.private, ev.data
    );
    out
}

/// A message read back.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub schema_version: u32,
    pub id: u64,
    pub event: String,
    pub server: String,
    pub owner: Option<i64>,
    pub private: bool,
    pub time_ms: u64,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not an event envelope: {0}")]
    Json(#[from] serde_json::Error),
    #[error("schema version {0} is newer than this server's ({SCHEMA_VERSION})")]
    Version(u32),
}

impl Envelope {
    pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
        let env: Envelope = serde_json::from_slice(bytes)?;
        if env.schema_version > SCHEMA_VERSION {
            return Err(DecodeError::Version(env.schema_version));
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &'static str, owner: Option<i64>, data: &str) -> HubEvent {
        HubEvent {
            id: 42,
            owner,
            private: name == names::NOTIFICATION,
            name,
            data: data.into(),
            relayed: false,
        }
    }

    #[test]
    fn encodes_what_decode_reads() {
        let e = ev(
            names::TORRENT_PROGRESS,
            Some(7),
            r#"{"bytesDone":1,"infoHash":"ab12","progress":0.5}"#,
        );
        let text = encode(&e, "\"srv \\\"1\\\"\"", 99);
        let back = Envelope::decode(text.as_bytes()).unwrap();
        assert_eq!(back.schema_version, SCHEMA_VERSION);
        assert_eq!((back.id, back.owner, back.private), (42, Some(7), false));
        assert_eq!(back.event, "torrent:progress");
        assert_eq!(back.server, "srv \"1\"");
        assert_eq!(back.time_ms, 99);
        assert_eq!(back.data["infoHash"], "ab12");
        let none = encode(&ev(names::CHAT_MESSAGE, None, "{}"), "\"s\"", 1);
        assert_eq!(Envelope::decode(none.as_bytes()).unwrap().owner, None);
    }

    #[test]
    fn topics_and_keys() {
        let t = ev(
            names::QUEUE_UPDATED,
            Some(1),
            r#"{"infoHash":"cd","state":"queued"}"#,
        );
        assert_eq!(Topic::of(t.name), Some(Topic::Torrents));
        assert_eq!(key(Topic::Torrents, &t), "cd");
        let n = ev(names::NOTIFICATION, Some(5), r#"{"id":1}"#);
        assert_eq!(Topic::of(n.name), Some(Topic::Notifications));
        assert_eq!(key(Topic::Notifications, &n), "5");
        assert_eq!(Topic::of(names::CHAT_MESSAGE), Some(Topic::Chat));
        assert_eq!(Topic::of(names::RESYNC), None);
        assert_eq!(known_name("torrent:seeding"), Some(names::TORRENT_SEEDING));
        assert_eq!(known_name("torrent:bogus"), None);
    }

    #[test]
    fn refuses_garbage_and_newer_schemas() {
        assert!(Envelope::decode(b"not json").is_err());
        assert!(Envelope::decode(br#"{"schemaVersion":1}"#).is_err());
        let newer = encode(&ev(names::CHAT_MESSAGE, None, "{}"), "\"s\"", 1)
            .replace("\"schemaVersion\":1", "\"schemaVersion\":2");
        assert!(matches!(
            Envelope::decode(newer.as_bytes()),
            Err(DecodeError::Version(2))
        ));
    }
}
