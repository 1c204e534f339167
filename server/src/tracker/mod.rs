//! The built-in BitTorrent tracker (`serve --tracker`): an in-memory swarm store (`store`)
//! behind two adapters, HTTP `GET /announce` and `/scrape` (`http`) and BEP 15 UDP (`udp`).
//!
//! Private mode (the default) tracks only torrents on this server; open mode tracks any
//! info-hash up to the store's caps. Users' passkeys (`passkeys`) put the user in the
//! announce URL; with `TRACKER_PASSKEYS` an announce without a valid one is refused.

pub mod bencode;
pub mod http;
pub mod packet;
pub mod passkeys;
pub mod query;
pub mod store;
pub mod udp;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use engine::InfoHash;
use tokio::sync::watch;

use crate::torrents::registry::Registry;
use store::{Announce, Counts, Reply, Store, StoreError};

/// Which info-hashes the tracker serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only torrents on this server.
    Private,
    /// Any info-hash.
    Open,
}

/// Resolved `--tracker*` settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub mode: Mode,
    /// BEP 15 port; `None`: HTTP only.
    pub udp_port: Option<u16>,
    /// Asked of clients between announces.
    pub interval: Duration,
    /// Announces without a known user's passkey are refused.
    pub require_passkey: bool,
    pub limits: store::Limits,
}

/// Why an announce or scrape is refused (the text is the `failure reason`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("unregistered torrent")]
    Unregistered,
    #[error("passkey required")]
    PasskeyRequired,
    #[error("unknown passkey")]
    UnknownPasskey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `GET /api/tracker` shows.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub mode: Mode,
    pub udp_port: Option<u16>,
    pub interval_secs: u64,
    pub require_passkey: bool,
    pub torrents: usize,
    pub peers: usize,
    pub announces: u64,
    pub scrapes: u64,
    /// Over the last 10 seconds.
    pub announces_per_sec: f64,
}

/// The tracker: settings, swarms, who may announce, counters.
pub struct Tracker {
    pub settings: Settings,
    pub store: Store,
    registry: Arc<Registry>,
    pub passkeys: passkeys::Passkeys,
    announces: AtomicU64,
    scrapes: AtomicU64,
    /// Announces per second × 1000 over the last sampling window.
    rate_milli: AtomicU64,
    udp_addr: OnceLock<SocketAddr>,
}

/// Starts the tracker when the configuration asks for it: loads the passkeys, starts the
/// sweeper and, with a UDP port, the UDP adapter on the HTTP bind address.
pub async fn start(
    config: &crate::config::Config,
    db: &crate::db::Db,
    library: &crate::torrents::Library,
    shutdown: &watch::Sender<bool>,
) -> anyhow::Result<Option<Arc<Tracker>>> {
    use anyhow::Context;
    let Some(settings) = config.tracker.clone() else {
        return Ok(None);
    };
    let passkeys = passkeys::Passkeys::load(db)
        .await
        .context("cannot load the tracker's passkeys")?;
    let udp_port = settings.udp_port;
    let t = Arc::new(Tracker::new(settings, library.registry.clone(), passkeys));
    t.spawn_maintenance(shutdown.subscribe());
    tracing::info!(mode = ?t.settings.mode, "tracker on /announce and /scrape");
    if let Some(port) = udp_port {
        let addr = SocketAddr::new(config.bind, port);
        let bound = udp::start(t.clone(), addr, shutdown.subscribe())
            .await
            .with_context(|| format!("cannot bind the tracker's UDP port {addr}"))?;
        tracing::info!("tracker UDP on {bound}");
    }
    Ok(Some(t))
}

/// How often the counters are sampled and how often expired peers are swept.
const SAMPLE: Duration = Duration::from_secs(10);

impl Tracker {
    pub fn new(
        settings: Settings,
        registry: Arc<Registry>,
        passkeys: passkeys::Passkeys,
    ) -> Tracker {
        Tracker {
            store: Store::new(settings.limits),
            settings,
            registry,
            passkeys,
            announces: AtomicU64::new(0),
            scrapes: AtomicU64::new(0),
            rate_milli: AtomicU64::new(0),
            udp_addr: OnceLock::new(),
        }
    }

    /// Whether `passkey` lets the request in, and whether `ih` is tracked here.
    fn admit(&self, ih: &[u8; 20], passkey: Option<&[u8]>) -> Result<(), Refusal> {
        match passkey {
            Some(k) if !self.passkeys.is_known(k) => return Err(Refusal::UnknownPasskey),
            None if self.settings.require_passkey => return Err(Refusal::PasskeyRequired),
            _ => {}
        }
        if self.settings.mode == Mode::Private && self.registry.owner(&InfoHash(*ih)).is_none() {
            return Err(Refusal::Unregistered);
        }
        Ok(())
    }

    pub fn announce(&self, a: &Announce, passkey: Option<&[u8]>) -> Result<Reply, Refusal> {
        self.announces.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(peer = %a.addr, event = ?a.event, left = a.left, "tracker announce");
        self.admit(&a.info_hash, passkey)?;
        Ok(self.store.announce(a)?)
    }

    /// Counts per info-hash; a hash not tracked here scrapes as zeros.
    pub fn scrape(
        &self,
        hashes: &[[u8; 20]],
        passkey: Option<&[u8]>,
    ) -> Result<Vec<Counts>, Refusal> {
        self.scrapes.fetch_add(1, Ordering::Relaxed);
        if let Some(first) = hashes.first() {
            // Passkey rules only: unknown torrents read as empty.
            match self.admit(first, passkey) {
                Err(Refusal::Unregistered) | Ok(()) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(hashes.iter().map(|h| self.store.counts(h)).collect())
    }

    /// The counts of a torrent on this server, for the API.
    pub fn counts(&self, ih: &InfoHash) -> Counts {
        self.store.counts(&ih.0)
    }

    pub fn stats(&self) -> Stats {
        let (torrents, peers) = self.store.size();
        Stats {
            mode: self.settings.mode,
            udp_port: self.udp_addr.get().map(|a| a.port()),
            interval_secs: self.settings.interval.as_secs(),
            require_passkey: self.settings.require_passkey,
            torrents,
            peers,
            announces: self.announces.load(Ordering::Relaxed),
            scrapes: self.scrapes.load(Ordering::Relaxed),
            announces_per_sec: self.rate_milli.load(Ordering::Relaxed) as f64 / 1000.0,
        }
    }

    /// The announce URL of this server at `base` (see `web::public_base`), with the user's
    /// passkey when there is one.
    ///
    /// The passkey goes in the query (`/announce?passkey=`): the path stays `/announce`, which
    /// clients that refuse private addresses at other paths (our own SSRF rule) accept.
    pub fn announce_url(base: &str, passkey: Option<&str>) -> String {
        match passkey {
            Some(k) => format!("{base}/announce?passkey={k}"),
            None => format!("{base}/announce"),
        }
    }

    /// Samples the announce rate and sweeps expired peers until shutdown.
    pub fn spawn_maintenance(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let t = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = 0;
            let sweep_every = (t.settings.interval / 2).max(SAMPLE);
            let mut last_sweep = tokio::time::Instant::now();
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => return,
                }
                let now = t.announces.load(Ordering::Relaxed);
                let per_sec_milli = (now - last) * 1000 / SAMPLE.as_secs();
                t.rate_milli.store(per_sec_milli, Ordering::Relaxed);
                last = now;
                if last_sweep.elapsed() >= sweep_every {
                    last_sweep = tokio::time::Instant::now();
                    let dropped = t.store.sweep();
                    if dropped > 0 {
                        tracing::debug!(dropped, "tracker: expired peers");
                    }
                }
            }
        });
    }
}
