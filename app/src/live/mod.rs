//! Live state: the signed-in user, their torrents, notifications and the chat room, kept
//! current by the event stream (`GET /api/events`), never by polling.

mod stream;
mod torrents;

use leptos::prelude::*;

use crate::client::{self, ApiResult};
use crate::types::{ChatMessage, Notification, NotificationList, TorrentSummary, User};
pub use torrents::TorrentStore;

/// A passing message in the corner of the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub error: bool,
}

/// Everything live, provided once at the root.
#[derive(Clone, Copy)]
pub struct Live {
    /// `GET /api/users/me`; an error (401) means nobody is logged in.
    pub me: Resource<ApiResult<User>>,
    /// `GET /api/torrents` with the `version` it was fetched for; refetched on `resync` and
    /// when the user changes.
    pub list: Resource<(u64, ApiResult<Vec<TorrentSummary>>)>,
    /// The `version` whose list is in the store: a page that mounts later must not re-seed
    /// the store from that (by now stale) list.
    seeded: StoredValue<Option<u64>>,
    pub notices: Resource<ApiResult<NotificationList>>,
    pub torrents: TorrentStore,
    /// Notifications that arrived live, newest first (the resource holds the earlier ones).
    pub fresh_notices: RwSignal<Vec<Notification>>,
    pub unread: RwSignal<usize>,
    pub chat: RwSignal<Vec<ChatMessage>>,
    pub toasts: RwSignal<Vec<Toast>>,
    /// The event stream is open.
    pub connected: RwSignal<bool>,
    /// Bumped to make every list refetch (after `resync`, login, logout).
    pub version: RwSignal<u64>,
}

impl Live {
    pub fn provide() -> Live {
        let version = RwSignal::new(0u64);
        let me = Resource::new(
            move || version.get(),
            |_| client::get("/api/users/me".into()),
        );
        let list = Resource::new(
            move || version.get(),
            |v| {
                let fetch = client::get("/api/torrents".into());
                async move { (v, fetch.await) }
            },
        );
        let notices = Resource::new(
            move || version.get(),
            |_| client::get("/api/notifications?limit=50".into()),
        );
        let live = Live {
            me,
            list,
            seeded: StoredValue::new(None),
            notices,
            torrents: TorrentStore::default(),
            fresh_notices: RwSignal::new(Vec::new()),
            unread: RwSignal::new(0),
            chat: RwSignal::new(Vec::new()),
            toasts: RwSignal::new(Vec::new()),
            connected: RwSignal::new(false),
            version,
        };
        provide_context(live);
        // In the browser, a fetched list goes into the store as soon as it arrives, so events
        // after it apply on top; pages that mount later find it seeded and leave it alone.
        // (While rendering on the server, and during hydration, `WithTorrents` seeds.)
        Effect::new(move |_| {
            if let Some((version, Ok(list))) = live.list.get() {
                live.seed(version, list);
            }
        });
        stream::run(live);
        live
    }

    /// The signed-in user, once `me` has loaded.
    pub fn user(&self) -> Option<User> {
        self.me.get().and_then(Result::ok)
    }

    /// Puts a freshly fetched list into the store, once per fetch.
    pub fn seed(&self, version: u64, list: Vec<TorrentSummary>) {
        if self.seeded.get_value() != Some(version) {
            self.seeded.set_value(Some(version));
            self.torrents.seed(list);
        }
    }

    /// Puts a list read just now into the store: a list fetched earlier for the current
    /// version, should it arrive later, must not replace it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn seed_latest(&self, list: Vec<TorrentSummary>) {
        self.seeded.set_value(Some(self.version.get_untracked()));
        self.torrents.seed(list);
    }

    /// Reload every list (and who is signed in) from the server.
    pub fn refresh(&self) {
        // The refetched notification list counts these again.
        self.fresh_notices.set(Vec::new());
        self.unread.set(0);
        self.version.update(|v| *v += 1);
    }

    /// Shows `text` for a few seconds.
    pub fn toast(&self, text: impl Into<String>, error: bool) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let toasts = self.toasts;
        toasts.update(|t| {
            t.push(Toast {
                id,
                text: text.into(),
                error,
            });
            // A burst (many torrents finishing at once) shows the newest few.
            let excess = t.len().saturating_sub(4);
            t.drain(..excess);
        });
        #[cfg(feature = "hydrate")]
        set_timeout(
            move || toasts.update(|t| t.retain(|x| x.id != id)),
            std::time::Duration::from_secs(6),
        );
    }
}

pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// Milliseconds since the Unix epoch, in the browser and on the server.
pub fn js_now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64)
    }
}
