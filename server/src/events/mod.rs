//! Live events for `GET /api/events`: every event gets an id and an owner, is kept in a
//! bounded ring for clients that reconnect with Last-Event-ID, and is broadcast to the
//! connected streams, which show each user only their own torrents' events.

pub mod adapter;
mod coalesce;
mod ring;
pub mod sse;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

pub use ring::Replay;

pub const TORRENT_ADDED: &str = "torrent:added";
pub const TORRENT_PROGRESS: &str = "torrent:progress";
pub const TORRENT_PIECE: &str = "torrent:piece";
pub const TORRENT_COMPLETE: &str = "torrent:complete";
pub const TORRENT_SEEDING: &str = "torrent:seeding";
pub const TORRENT_ERROR: &str = "torrent:error";
pub const TORRENT_REMOVED: &str = "torrent:removed";
pub const QUEUE_UPDATED: &str = "queue:updated";
/// Sent instead of a replay that the ring can no longer give, and to a stream that fell
/// behind: the client should reload its state.
pub const RESYNC: &str = "resync";

/// One published event.
#[derive(Debug)]
pub struct HubEvent {
    pub id: u64,
    /// The user it concerns; None for everyone (admins see every event).
    pub owner: Option<i64>,
    pub name: &'static str,
    /// JSON.
    pub data: String,
}

impl HubEvent {
    pub fn visible_to(&self, user_id: i64, admin: bool) -> bool {
        admin || self.owner.is_none_or(|o| o == user_id)
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

    /// Publishes an event; returns its id.
    pub fn publish(&self, owner: Option<i64>, name: &'static str, data: serde_json::Value) -> u64 {
        let mut ring = self.ring();
        let ev = ring.push(owner, name, data.to_string());
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

    /// Connected streams.
    pub fn subscribers(&self) -> usize {
        self.inner.live.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn live_events_follow_the_replay_without_gaps() {
        let hub = EventHub::new(8);
        let a = hub.publish(Some(1), TORRENT_ADDED, json!({"n": 1}));
        let b = hub.publish(Some(2), TORRENT_ADDED, json!({"n": 2}));
        assert_eq!(b, a + 1);
        let mut sub = hub.subscribe(Some(a));
        let Replay::Events(missed) = sub.replay else {
            panic!("expected a replay")
        };
        assert_eq!(missed.iter().map(|e| e.id).collect::<Vec<_>>(), vec![b]);
        let c = hub.publish(None, QUEUE_UPDATED, json!({}));
        assert_eq!(sub.live.recv().await.unwrap().id, c);
        assert!(missed[0].visible_to(2, false) && !missed[0].visible_to(1, false));
        assert!(missed[0].visible_to(1, true));
    }
}
