//! `AppState`: what every handler can reach. Cheap to clone.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use tokio::sync::watch;

use crate::auth::jwt::Keys;
use crate::auth::ratelimit::LoginLimiter;
use crate::config::Config;
use crate::db::Db;
use crate::events::EventHub;
use crate::metrics::Metrics;
use crate::torrents::Library;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub db: Db,
    pub library: Arc<Library>,
    pub hub: EventHub,
    pub keys: Keys,
    pub limiter: LoginLimiter,
    /// Registrations per client address (`REGISTER_RATE_LIMIT` per hour).
    pub register_limiter: LoginLimiter,
    pub metrics: Metrics,
    pub leptos: LeptosOptions,
    pub started: Instant,
    /// Registrations one at a time, so exactly one first user becomes admin.
    pub register_lock: tokio::sync::Mutex<()>,
    /// Open event streams per user, and the signal that ends a revoked session's streams.
    pub streams: crate::events::streams::Streams,
    /// Flips to true when the server shuts down: event streams end.
    pub shutdown: watch::Sender<bool>,
    /// The qBittorrent and Transmission adapters' sessions.
    pub compat: crate::compat::CompatState,
    /// The Kafka adapter, when KAFKA_BROKERS is set.
    pub kafka: Option<crate::kafka::Kafka>,
    /// Global and alternative rate limits, the schedule and the toggle.
    pub speed: Arc<crate::speed::Speed>,
    /// The built-in tracker, with `--tracker`.
    pub tracker: Option<Arc<crate::tracker::Tracker>>,
    /// Watch folders and shared folders.
    pub folders: Arc<crate::folders::Folders>,
    /// Search across servers: federation settings, client, catalog rate limit, and the
    /// Nostr adapter (`search.nostr`) when `NOSTR_RELAYS` is set.
    pub search: crate::search::Search,
}

impl AppState {
    pub fn new(inner: Inner) -> AppState {
        AppState(Arc::new(inner))
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos.clone()
    }
}
