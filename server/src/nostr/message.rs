//! What relays send (NIP-01 relay-to-client messages) and NIP-35 torrent events read from
//! them. A relay is untrusted: [`parse`] bounds the message and every part of an event
//! before anything else looks at it; [`torrent`] keeps only plausible torrent entries.
//! Signatures are checked elsewhere (`event.rs`). Depends on serde only, so `fuzz/`
//! compiles this file as it is.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest relay message read (also the WebSocket message and frame limit).
pub const MAX_MESSAGE: usize = 512 * 1024;
/// Tags per event at most, and strings per tag.
pub const MAX_TAGS: usize = 2048;
pub const MAX_TAG_FIELDS: usize = 16;
/// Files read from (and written to) one torrent event at most.
pub const MAX_FILES: usize = 50;
/// Trackers read from one torrent event at most.
pub const MAX_TRACKERS: usize = 16;
const MAX_TITLE: usize = 1024;
const MAX_PATH: usize = 4096;
const MAX_URL: usize = 2048;
/// Subscription ids, `OK` and `NOTICE` texts are cut to this many characters.
const MAX_TEXT: usize = 256;

/// The NIP-35 torrent kind.
pub const KIND_TORRENT: u32 = 2003;

/// A Nostr event as it travels (NIP-01).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// 32 bytes, lower-case hex: sha256 of the serialized event.
    pub id: String,
    /// 32 bytes, lower-case hex: the x-only public key.
    pub pubkey: String,
    pub created_at: u64,
    pub kind: u32,
    pub tags: Vec<Vec<String>>,
    pub content: String,
    /// 64 bytes, lower-case hex: BIP-340 signature of `id`.
    pub sig: String,
}

/// One message from a relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RelayMessage {
    /// `["EVENT", sub, event]`: a well-formed event (not yet verified).
    Event { sub: String, event: Box<Event> },
    /// `["OK", id, accepted, message]`: the answer to an `EVENT` we sent.
    Ok {
        id: String,
        accepted: bool,
        message: String,
    },
    /// `["EOSE", sub]`: the stored events have all been sent.
    Eose { sub: String },
    /// `["CLOSED", sub, message]`: the relay ended the subscription.
    Closed { sub: String, message: String },
    /// `["NOTICE", message]`.
    Notice(String),
    /// Anything else that is a JSON array starting with a string (`AUTH`, `COUNT`, …).
    Other(String),
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a relay message: {0}")]
    Shape(&'static str),
    #[error("malformed event: {0}")]
    BadEvent(&'static str),
}

/// Reads one relay message. An `EVENT` whose event is malformed (wrong field types, hex
/// fields of the wrong length, too many tags) is an error: the caller drops it.
pub fn parse(text: &str) -> Result<RelayMessage, MessageError> {
    if text.len() > MAX_MESSAGE {
        return Err(MessageError::TooLarge(text.len()));
    }
    let v: Value = serde_json::from_str(text).map_err(|e| MessageError::Json(short(&e)))?;
    let Value::Array(mut parts) = v else {
        return Err(MessageError::Shape("not an array"));
    };
    let Some(Value::String(tag)) = parts.first() else {
        return Err(MessageError::Shape("no message type"));
    };
    let text_at = |parts: &[Value], i: usize| -> Option<String> {
        parts.get(i).and_then(Value::as_str).map(cut)
    };
    Ok(match tag.as_str() {
        "EVENT" => {
            if parts.len() != 3 {
                return Err(MessageError::Shape("EVENT needs 3 elements"));
            }
            let sub = text_at(&parts, 1).ok_or(MessageError::Shape("no subscription"))?;
            let event: Event = serde_json::from_value(parts.swap_remove(2))
                .map_err(|_| MessageError::BadEvent("fields"))?;
            check_event(&event)?;
            RelayMessage::Event {
                sub,
                event: Box::new(event),
            }
        }
        "OK" => RelayMessage::Ok {
            id: text_at(&parts, 1).ok_or(MessageError::Shape("OK without id"))?,
            accepted: parts
                .get(2)
                .and_then(Value::as_bool)
                .ok_or(MessageError::Shape("OK without a boolean"))?,
            message: text_at(&parts, 3).unwrap_or_default(),
        },
        "EOSE" => RelayMessage::Eose {
            sub: text_at(&parts, 1).ok_or(MessageError::Shape("EOSE without id"))?,
        },
        "CLOSED" => RelayMessage::Closed {
            sub: text_at(&parts, 1).ok_or(MessageError::Shape("CLOSED without id"))?,
            message: text_at(&parts, 2).unwrap_or_default(),
        },
        "NOTICE" => RelayMessage::Notice(text_at(&parts, 1).unwrap_or_default()),
        other => RelayMessage::Other(cut(other)),
    })
}

fn short(e: &serde_json::Error) -> String {
    cut(&e.to_string())
}

fn cut(s: &str) -> String {
    s.chars().take(MAX_TEXT).collect()
}

/// `s` is `len` lower-case hex digits.
pub fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn check_event(e: &Event) -> Result<(), MessageError> {
    if !is_hex(&e.id, 64) {
        return Err(MessageError::BadEvent("id"));
    }
    if !is_hex(&e.pubkey, 64) {
        return Err(MessageError::BadEvent("pubkey"));
    }
    if !is_hex(&e.sig, 128) {
        return Err(MessageError::BadEvent("sig"));
    }
    if e.tags.len() > MAX_TAGS || e.tags.iter().any(|t| t.len() > MAX_TAG_FIELDS) {
        return Err(MessageError::BadEvent("too many tags"));
    }
    Ok(())
}

/// A torrent as a NIP-35 event describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Torrent {
    /// 40 lower-case hex digits (the `x` tag).
    pub info_hash: String,
    /// The `title` tag.
    pub title: String,
    /// `file` tags: path and size (at most [`MAX_FILES`]).
    pub files: Vec<(String, u64)>,
    /// `file` tags in the event (it may list more than were kept).
    pub file_count: u64,
    /// The sum of the listed files' sizes.
    pub total_bytes: u64,
    /// `tracker` tags that are http(s), udp or ws(s) URLs (at most [`MAX_TRACKERS`]).
    pub trackers: Vec<String>,
}

/// The torrent a kind-2003 event describes, or None when it is not one: no `x` tag of 40
/// hex digits, or no usable title (the `title` tag, else the first file's path).
pub fn torrent(e: &Event) -> Option<Torrent> {
    if e.kind != KIND_TORRENT {
        return None;
    }
    let mut info_hash = None;
    let mut title = None;
    let mut files = Vec::new();
    let mut file_count = 0u64;
    let mut total_bytes = 0u64;
    let mut trackers: Vec<String> = Vec::new();
    for t in &e.tags {
        match (t.first().map(String::as_str), t.get(1)) {
            (Some("x"), Some(v)) if info_hash.is_none() => {
                let v = v.to_ascii_lowercase();
                if is_hex(&v, 40) {
                    info_hash = Some(v);
                }
            }
            (Some("title"), Some(v)) if title.is_none() && clean(v, MAX_TITLE) => {
                title = Some(v.clone());
            }
            (Some("file"), Some(path)) => {
                file_count += 1;
                let size = t.get(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
                total_bytes = total_bytes.saturating_add(size);
                if files.len() < MAX_FILES && clean(path, MAX_PATH) {
                    files.push((path.clone(), size));
                }
            }
            (Some("tracker"), Some(u))
                if trackers.len() < MAX_TRACKERS && tracker_url(u) && !trackers.contains(u) =>
            {
                trackers.push(u.clone());
            }
            _ => {}
        }
    }
    let title = title.or_else(|| files.first().map(|(p, _)| p.clone()))?;
    Some(Torrent {
        info_hash: info_hash?,
        title,
        files,
        file_count,
        total_bytes,
        trackers,
    })
}

fn clean(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

/// A tracker URL worth putting in a magnet.
pub fn tracker_url(u: &str) -> bool {
    u.len() <= MAX_URL
        && ["http://", "https://", "udp://", "ws://", "wss://"]
            .iter()
            .any(|p| u.starts_with(p))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_json(kind: u32, tags: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "id": "ab".repeat(32), "pubkey": "cd".repeat(32), "created_at": 1,
            "kind": kind, "tags": tags, "content": "", "sig": "ef".repeat(64)
        })
    }

    #[test]
    fn reads_every_message_type() {
        let ev = event_json(2003, serde_json::json!([["x", "AA".repeat(20)]]));
        let m = parse(&serde_json::json!(["EVENT", "s1", ev]).to_string()).unwrap();
        let RelayMessage::Event { sub, event } = m else {
            panic!("{m:?}")
        };
        assert_eq!(sub, "s1");
        assert_eq!(event.kind, 2003);
        assert_eq!(
            parse(r#"["OK","ab",false,"duplicate: have it"]"#).unwrap(),
            RelayMessage::Ok {
                id: "ab".into(),
                accepted: false,
                message: "duplicate: have it".into()
            }
        );
        assert_eq!(
            parse(r#"["EOSE","s1"]"#).unwrap(),
            RelayMessage::Eose { sub: "s1".into() }
        );
        assert_eq!(
            parse(r#"["CLOSED","s1","error: no"]"#).unwrap(),
            RelayMessage::Closed {
                sub: "s1".into(),
                message: "error: no".into()
            }
        );
        assert_eq!(
            parse(r#"["NOTICE","hi"]"#).unwrap(),
            RelayMessage::Notice("hi".into())
        );
        assert_eq!(
            parse(r#"["AUTH","challenge"]"#).unwrap(),
            RelayMessage::Other("AUTH".into())
        );
    }

    #[test]
    fn refuses_garbage_and_malformed_events() {
        assert!(matches!(
            parse(&" ".repeat(MAX_MESSAGE + 1)),
            Err(MessageError::TooLarge(_))
        ));
        assert!(matches!(parse("[\"EVENT\""), Err(MessageError::Json(_))));
        assert!(matches!(parse("{}"), Err(MessageError::Shape(_))));
        assert!(matches!(parse("[1]"), Err(MessageError::Shape(_))));
        assert!(matches!(
            parse(r#"["OK","x","yes"]"#),
            Err(MessageError::Shape(_))
        ));
        let mut ev = event_json(1, serde_json::json!([]));
        ev["id"] = "AB".repeat(32).into();
        assert_eq!(
            parse(&serde_json::json!(["EVENT", "s", ev]).to_string()),
            Err(MessageError::BadEvent("id"))
        );
        let mut ev = event_json(1, serde_json::json!([]));
        ev["sig"] = "ab".into();
        assert!(parse(&serde_json::json!(["EVENT", "s", ev]).to_string()).is_err());
        let ev = event_json(1, serde_json::json!([[1, 2]]));
        assert!(parse(&serde_json::json!(["EVENT", "s", ev]).to_string()).is_err());
        let many: Vec<Vec<&str>> = (0..=MAX_TAGS).map(|_| vec!["t", "x"]).collect();
        let ev = event_json(1, serde_json::json!(many));
        assert_eq!(
            parse(&serde_json::json!(["EVENT", "s", ev]).to_string()),
            Err(MessageError::BadEvent("too many tags"))
        );
    }

    fn ev(kind: u32, tags: Vec<Vec<&str>>) -> Event {
        Event {
            id: String::new(),
            pubkey: String::new(),
            created_at: 0,
            kind,
            tags: tags
                .into_iter()
                .map(|t| t.into_iter().map(str::to_owned).collect())
                .collect(),
            content: String::new(),
            sig: String::new(),
        }
    }

    #[test]
    fn torrents_from_nip35_tags() {
        let hash = "AB".repeat(20);
        let t = torrent(&ev(
            2003,
            vec![
                vec!["title", "Linux ISO"],
                vec!["x", &hash],
                vec!["file", "iso/a.iso", "100"],
                vec!["file", "iso/b.txt", "not a number"],
                vec!["file", "bad\u{7}name", "5"],
                vec!["tracker", "udp://t.example:1337"],
                vec!["tracker", "javascript:alert(1)"],
                vec!["tracker", "udp://t.example:1337"],
                vec!["t", "linux"],
            ],
        ))
        .unwrap();
        assert_eq!(t.info_hash, "ab".repeat(20));
        assert_eq!(t.title, "Linux ISO");
        assert_eq!(
            t.files,
            [("iso/a.iso".to_owned(), 100), ("iso/b.txt".to_owned(), 0)]
        );
        assert_eq!((t.file_count, t.total_bytes), (3, 105));
        assert_eq!(t.trackers, ["udp://t.example:1337"]);
        // The first file names an untitled torrent; no info-hash or another kind: none.
        let untitled = torrent(&ev(2003, vec![vec!["x", &hash], vec!["file", "f", "1"]]));
        assert_eq!(untitled.unwrap().title, "f");
        assert_eq!(torrent(&ev(2003, vec![vec!["title", "a"]])), None);
        assert_eq!(
            torrent(&ev(2003, vec![vec!["title", "a"], vec!["x", "abc"]])),
            None
        );
        assert_eq!(
            torrent(&ev(1, vec![vec!["title", "a"], vec!["x", &hash]])),
            None
        );
    }
}
