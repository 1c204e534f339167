//! Live events for `GET /api/events`: every event gets an id and an owner, is kept in a
//! bounded ring for clients that reconnect with Last-Event-ID, and is broadcast to the
//! connected streams, which show each user only their own torrents' events.

pub mod adapter;
mod coalesce;
mod ring;
pub mod sse;
pub mod streams;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use serde::Serialize;

pub use app::types::names;
pub use ring::Replay;

/// One published event.
#[derive(Debug)]
pub struct HubEvent {
    pub id: u64,
    /// The user it concerns; None for everyone.
    pub owner: Option<i64>,
    /// Only the owner sees it (notifications); otherwise admins see it too.
    pub private: bool,
    pub name: &'static str,
    /// JSON.
    pub data: String,
    /// Came from another server through Kafka (`KAFKA_CONSUME`): not sent back out.
    pub relayed: bool,
}

impl HubEvent {
    pub fn visible_to(&self, user_id: i64, admin: bool) -> bool {
        match self.owner {
            None => true,
            Some(owner) => owner == user_id || (admin && !self.private),
        }
    }
}

/// `data` as the JSON text of an event. Through `Value`, so object keys come out in the
/// same (sorted) order whether a payload is a typed struct or a `json!` literal.
fn to_data<T: Serialize + ?Sized>(name: &str, data: &T) -> String {
    match serde_json::to_value(data) {
        Ok(v) => v.to_string(),
        Err(e) => {
            tracing::error!("cannot serialize the data of a {name} event: {e}");
            "null".to_owned()
        }
    }
}

/// What a new stream starts with.
pub struct Subscription {
    pub replay: Replay,
    pub live: broadcast::Receiver<Arc<HubEvent>>,
}

/// The event hub. Cheap to clone.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    ring: Mutex<ring::Ring>,
    live: broadcast::Sender<Arc<HubEvent>>,
    published: AtomicU64,
    dropped: AtomicU64,
}

impl EventHub {
    /// A hub remembering `capacity` events. Ids start at the current time in microseconds,
    /// so ids from before a restart are recognised as too old.
    pub fn new(capacity: usize) -> EventHub {
        let first_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_micros() as u64);
        let (live, _) = broadcast::channel(capacity.max(256));
        EventHub {
            inner: Arc::new(Inner {
                ring: Mutex::new(ring::Ring::new(capacity, first_id)),
                live,
                published: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
            }),
        }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, ring::Ring> {
        self.inner.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Publishes an event about something `owner` owns (admins see it too), or for every
    /// user when `owner` is None; returns its id.
    pub fn publish<T: Serialize + ?Sized>(
        &self,
        owner: Option<i64>,
        name: &'static str,
        data: &T,
    ) -> u64 {
        self.push(owner, false, name, to_data(name, data))
    }

    /// Publishes an event that only `user` sees (not even admins); returns its id.
    pub fn publish_private<T: Serialize + ?Sized>(
        &self,
        user: i64,
        name: &'static str,
        data: &T,
    ) -> u64 {
        self.push(Some(user), true, name, to_data(name, data))
    }

    /// Publishes an event another server published (its `data` already JSON), marked as
    /// relayed so the Kafka producer does not send it back; returns its id.
    pub fn publish_relayed(
        &self,
        owner: Option<i64>,
        private: bool,
        name: &'static str,
        data: String,
    ) -> u64 {
        self.push_event(owner, private, name, data, true)
    }

    fn push(&self, owner: Option<i64>, private: bool, name: &'static str, data: String) -> u64 {
        self.push_event(owner, private, name, data, false)
    }

    fn push_event(
        &self,
        owner: Option<i64>,
        private: bool,
        name: &'static str,
        data: String,
        relayed: bool,
    ) -> u64 {
        let mut ring = self.ring();
        let ev = ring.push(owner, private, name, data, relayed);
        // Sent under the ring's lock so subscribers see ids in order without gaps.
        let _ = self.inner.live.send(ev.clone());
        self.inner.published.fetch_add(1, Ordering::Relaxed);
        ev.id
    }

    /// A stream's start: what it missed since `last_id` (if given), then live events.
    pub fn subscribe(&self, last_id: Option<u64>) -> Subscription {
        let ring = self.ring();
        let live = self.inner.live.subscribe();
        let replay = match last_id {
            Some(id) => ring.since(id),
            None => Replay::Events(Vec::new()),
        };
        Subscription { replay, live }
    }

    /// The newest id handed out so far (0 before any).
    pub fn latest_id(&self) -> u64 {
        self.ring().latest_id()
    }

    /// Counts events a consumer lost (engine bus lag or a slow stream).
    pub fn count_dropped(&self, n: u64) {
        self.inner.dropped.fetch_add(n, Ordering::Relaxed);
    }

    pub fn published(&self) -> u64 {
        self.inner.published.load(Ordering::Relaxed)
    }

    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn live_events_follow_the_replay_without_gaps() {
        let hub = EventHub::new(8);
        let a = hub.publish(Some(1), names::TORRENT_ADDED, &json!({"n": 1}));
        let b = hub.publish(Some(2), names::TORRENT_ADDED, &json!({"n": 2}));
        assert_eq!(b, a + 1);
        let mut sub = hub.subscribe(Some(a));
        let Replay::Events(missed) = sub.replay else {
            panic!("expected a replay")
        };
        assert_eq!(missed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![b]);
        let c = hub.publish(None, names::QUEUE_UPDATED, &json!({}));
        assert_eq!(sub.live.recv().await.unwrap().id, c);
        assert!(missed[0].visible_to(2, false) && !missed[0].visible_to(1, false));
        assert!(missed[0].visible_to(1, true));
    }

    #[tokio::test]
    async fn audiences() {
        let hub = EventHub::new(8);
        let mut sub = hub.subscribe(None);
        hub.publish(None, names::CHAT_MESSAGE, &json!({"body": "hi"}));
        hub.publish_private(3, names::NOTIFICATION, &json!({"id": 1}));
        let everyone = sub.live.recv().await.unwrap();
        assert!(everyone.visible_to(1, false) && everyone.visible_to(3, true));
        let private = sub.live.recv().await.unwrap();
        assert!(private.visible_to(3, false) && private.visible_to(3, true));
        assert!(
            !private.visible_to(1, true),
            "admins do not see others' notifications"
        );
        assert!(!private.visible_to(1, false));
    }

    #[test]
    fn typed_payloads_serialize_like_json_literals() {
        let typed = app::types::StateUpdate {
            info_hash: "ab".into(),
            state: app::types::TorrentState::Queued,
            paused: Some(false),
            priority: Some(app::types::Priority::High),
        };
        assert_eq!(
            to_data("x", &typed),
            json!({ "infoHash": "ab", "state": "queued", "paused": false, "priority": "high" })
                .to_string()
        );
    }
}
