//! The public entry point: owns the torrents, the listener and the event bus, and the
//! resources every torrent shares (`env`: connection cap, buffer budget, hashing threads,
//! tracker client).

pub mod bans;
mod bind;
pub(crate) mod budget;
pub(crate) mod conns;
pub(crate) mod dhts;
pub(crate) mod encryption;
pub(crate) mod env;
pub(crate) mod hashpool;
pub(crate) mod own_addrs;
pub mod ratelimit;
pub(crate) mod transports;
pub(crate) mod upload_slots;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use crate::torrent::TorrentHandle;

use crate::config::SessionConfig;
use crate::dht::{Dht, DhtConfig, DhtError, DhtStats};
use crate::events::{Event, EVENT_CAPACITY};
use crate::listener::{self, Routes};
use crate::magnet::Magnet;
use crate::metadata::Fetcher;
use crate::metainfo::{Metainfo, MetainfoError};
use crate::portmap::{PortMapper, Protocol};
use crate::selection::{FilePriority, Selection, SelectionState};
use crate::status::PeerSource;
use crate::storage::{Storage, StorageError};
use crate::torrent::slot::{Slot, Stage};
use crate::torrent::{lock, Control, Torrent};
use crate::tracker::TrackerError;
use crate::utp::UtpSocket;
use crate::InfoHash;
use dhts::{Dhts, FamilyNode};
use env::Env;
use ratelimit::RateLimits;

/// KRPC datagrams waiting for the DHT node when it shares the uTP socket.
const DHT_QUEUE: usize = 1024;

/// Largest piece we accept: each piece in flight needs a buffer this big.
const MAX_PIECE_LENGTH: u32 = 128 << 20;

/// Errors the public API returns.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("unusable metainfo: {0}")]
    Metainfo(String),
    #[error("storage error: {0}")]
    Storage(#[from] StorageError),
    #[error("torrent {0} is already added")]
    AlreadyAdded(InfoHash),
    #[error("torrent {0} not found")]
    NotFound(InfoHash),
    #[error("tracker client: {0}")]
    Tracker(#[from] TrackerError),
    #[error("the session is shut down")]
    ShutDown,
    #[error("DHT: {0}")]
    Dht(#[from] DhtError),
}

impl From<MetainfoError> for EngineError {
    fn from(e: MetainfoError) -> Self {
        EngineError::Metainfo(e.to_string())
    }
}

/// How to add a torrent.
#[derive(Clone, Debug, Default)]
pub struct AddTorrentOptions {
    /// Data lands in `save_dir/<paths from metainfo>`.
    pub save_dir: PathBuf,
    /// Start paused (existing data is still checked).
    pub paused: bool,
    /// Dial these besides tracker peers.
    pub peers: Vec<SocketAddr>,
    /// Which files to download and how (empty: every file, normal priority).
    pub selection: SelectionState,
    /// This process made the metainfo by hashing the files in `save_dir`, starting at this
    /// time: when no resume record exists, files of the torrent's size not modified since
    /// are trusted without hashing them a second time; any other file is hashed.
    pub created_at: Option<std::time::SystemTime>,
}

/// A running engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    env: Arc<Env>,
    routes: Routes,
    /// The TCP and uTP accept loops and local discovery, aborted at shutdown.
    background: Mutex<Vec<JoinHandle<()>>>,
    /// Router port mappings, when asked for; removed at shutdown.
    portmap: Option<PortMapper>,
    closed: AtomicBool,
}

impl Session {
    /// Binds the peer listener and starts accepting.
    pub async fn start(config: SessionConfig) -> Result<Session, EngineError> {
        let (listener, v6) = bind::listeners(config.listen_addr, config.listen_v6).await?;
        let local = listener.local_addr()?;
        let local_v6 = v6.as_ref().map(TcpListener::local_addr).transpose()?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (utp, utp_v6) = if config.utp {
            // IPv4 first: an IPv6 wildcard bound first (dual-stack) would take its port.
            let v4 = bind_utp(local).await;
            let v6 = match local_v6 {
                Some(l) => bind_utp(l).await,
                None => None,
            };
            (v4, v6)
        } else {
            (None, None)
        };
        let dht = match &config.dht {
            Some(c) => Some(start_dhts(c, local, local_v6, utp.as_ref(), utp_v6.as_ref()).await?),
            None => None,
        };
        let env = match Env::new(config, local, local_v6, events, dht.clone()) {
            Ok(mut env) => {
                env.utp = utp.clone();
                env.utp_v6 = utp_v6.clone();
                Arc::new(env)
            }
            Err(e) => {
                if let Some(d) = dht {
                    d.shutdown().await;
                }
                return Err(e.into());
            }
        };
        let routes = Routes::default();
        let mut tasks = vec![tokio::spawn(listener::run(
            listener,
            routes.clone(),
            env.clone(),
        ))];
        if let Some(l) = v6 {
            tasks.push(tokio::spawn(listener::run(l, routes.clone(), env.clone())));
        }
        if let Some(cfg) = env.config.lsd.clone() {
            match crate::lsd::bind(&cfg) {
                Ok(sock) => tasks.push(tokio::spawn(crate::lsd::run(
                    sock,
                    cfg,
                    routes.clone(),
                    local.port(),
                ))),
                // Not fatal: a host without multicast still serves every other peer source.
                Err(e) => tracing::warn!("local service discovery is off: {e}"),
            }
        }
        // The UDP port: uTP's socket, which the DHT shares, else the DHT's own.
        let udp_port = match &utp {
            Some(u) => u.local_addr().ok().map(|a| a.port()),
            None => env.dht.as_ref().map(|d| d.primary().local_addr().port()),
        };
        let portmap = env.config.port_mapping.clone().and_then(|cfg| {
            let mut ports = vec![(Protocol::Tcp, local.port())];
            if let Some(udp) = udp_port {
                ports.push((Protocol::Udp, udp));
            }
            PortMapper::start(cfg, ports)
                .map_err(|e| tracing::warn!("port mapping is off: {e}"))
                .ok()
        });
        for u in [utp, utp_v6].into_iter().flatten() {
            tasks.push(tokio::spawn(listener::run_utp(
                u,
                routes.clone(),
                env.clone(),
            )));
        }
        tracing::info!(%local, ?local_v6, "session started");
        Ok(Session {
            inner: Arc::new(Inner {
                env,
                routes,
                background: Mutex::new(tasks),
                portmap,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// Where peers can reach us (the resolved port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.env.listen_addr
    }

    /// The ports the router forwards to us now (empty without port mapping or before the
    /// gateway answered).
    pub fn port_mappings(&self) -> Vec<crate::portmap::Mapping> {
        self.inner
            .portmap
            .as_ref()
            .map_or_else(Vec::new, PortMapper::mappings)
    }

    /// Where IPv6 peers can reach us, when [`SessionConfig::listen_v6`] asked for a listener.
    pub fn local_addr_v6(&self) -> Option<SocketAddr> {
        self.inner.env.listen_v6
    }

    /// Where our DHT node listens (UDP), if one runs: the node of the main listener's
    /// family ([`Session::dht_addr_v6`] is the IPv6 one beside an IPv4 listener).
    pub fn dht_addr(&self) -> Option<SocketAddr> {
        self.inner
            .env
            .dht
            .as_ref()
            .map(|d| d.primary().local_addr())
    }

    /// Where the IPv6 DHT node listens (BEP 32), if one runs: beside the IPv6 listener of
    /// [`SessionConfig::listen_v6`], or as the only node when the main listener is IPv6.
    pub fn dht_addr_v6(&self) -> Option<SocketAddr> {
        self.inner
            .env
            .dht
            .as_ref()?
            .family(true)
            .map(Dht::local_addr)
    }

    /// The counters (routing table size first of all) of the node [`Session::dht_addr`]
    /// names; `None` without a node or once it stopped.
    pub async fn dht_stats(&self) -> Option<DhtStats> {
        self.inner.env.dht.as_ref()?.primary().stats().await.ok()
    }

    /// The IPv6 node's counters (see [`Session::dht_addr_v6`]).
    pub async fn dht_stats_v6(&self) -> Option<DhtStats> {
        self.inner.env.dht.as_ref()?.stats(true).await
    }

    /// The routing tables (every family's, in one blob) as bytes to store and pass back as
    /// [`DhtConfig::saved_table`], so a restart rejoins without the bootstrap routers.
    /// Take it before [`Session::shutdown`], which stops the nodes.
    pub async fn dht_state(&self) -> Option<Vec<u8>> {
        self.inner.env.dht.as_ref()?.save().await.ok()
    }

    /// Sets the session-wide limits in bytes per second (0 = unlimited). They apply at once
    /// to every connection, without reconnecting; each torrent's own limits apply too.
    pub fn set_rate_limits(&self, download: u64, upload: u64) {
        self.inner.env.limits.set(download, upload);
    }

    /// The session-wide `(download, upload)` limits, bytes per second, 0 = unlimited.
    pub fn rate_limits(&self) -> (u64, u64) {
        self.inner.env.limits.get()
    }

    /// Waits until `n` bytes sent outside the peer wire (web seed answers) fit the
    /// session's upload limit, so they share it with peers; at once when unlimited.
    pub async fn acquire_upload(&self, n: u64) {
        let up = &self.inner.env.limits.up;
        if up.is_limited() {
            up.acquire(n).await;
        }
    }

    /// Bans `ip` for the session by hand: its connections end within a second and it is
    /// refused from then on. False if it was banned already.
    pub fn ban(&self, ip: std::net::IpAddr) -> bool {
        let Some(ban) = self.inner.env.bans.ban(ip, bans::BanReason::Manual) else {
            return false;
        };
        self.inner.env.emit(Event::PeerBanned {
            ip: ban.ip,
            reason: ban.reason,
            info_hash: None,
        });
        true
    }

    /// Lifts a ban (and forgets the address's strikes); false if it was not banned.
    pub fn unban(&self, ip: std::net::IpAddr) -> bool {
        self.inner.env.bans.unban(ip)
    }

    /// Upload slots per torrent and for the whole session (0 = no session cap); applied
    /// at each torrent's next rechoke.
    pub fn set_upload_slots(&self, per_torrent: usize, total: usize) {
        self.inner.env.upload_slots.set(per_torrent, total);
    }

    /// uTP on or off for connections made or accepted from now on (the socket stays bound
    /// while the session runs, for the DHT and so that turning it on again needs no port).
    pub fn set_utp(&self, on: bool) {
        self.inner.env.transports.set_utp(on);
    }

    /// Where uTP connections are accepted (UDP), if a uTP socket is bound.
    pub fn utp_addr(&self) -> Option<SocketAddr> {
        self.inner
            .env
            .utp
            .as_ref()
            .and_then(|u| u.local_addr().ok())
    }

    /// Where IPv6 uTP connections are accepted, if a socket is bound beside the IPv6
    /// listener.
    pub fn utp_addr_v6(&self) -> Option<SocketAddr> {
        self.inner
            .env
            .utp_v6
            .as_ref()
            .and_then(|u| u.local_addr().ok())
    }

    /// The message stream encryption policy for connections made or accepted from now on
    /// (established ones keep what they negotiated).
    pub fn set_encryption(&self, policy: crate::config::Encryption) {
        self.inner.env.encryption.set(policy);
    }

    /// The encryption policy in force.
    pub fn encryption(&self) -> crate::config::Encryption {
        self.inner.env.encryption.policy()
    }

    /// `(per torrent, session)` upload slots.
    pub fn upload_slots(&self) -> (usize, usize) {
        let s = &self.inner.env.upload_slots;
        (s.per_torrent(), s.cap())
    }

    /// Every banned address, oldest first.
    pub fn bans(&self) -> Vec<bans::Ban> {
        self.inner.env.bans.list()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.env.events.subscribe()
    }

    /// Adds a torrent, checks data already in `save_dir`, then starts (or stays paused).
    pub async fn add_torrent(
        &self,
        meta: Metainfo,
        opts: AddTorrentOptions,
    ) -> Result<TorrentHandle, EngineError> {
        self.check_open()?;
        validate(&meta)?;
        let ih = meta.info_hash;
        if self.routes_read().contains_key(&ih) {
            return Err(EngineError::AlreadyAdded(ih));
        }
        let peers: Vec<_> = opts.peers.iter().map(|a| (*a, PeerSource::User)).collect();
        let control = Slot::control(opts.paused);
        let limits = RateLimits::default();
        let selection = Selection::new(opts.selection.clone());
        let name = meta.name.clone();
        let t = build_torrent(
            &self.inner.env,
            meta,
            &opts.save_dir,
            &peers,
            control.clone(),
            limits.clone(),
            selection.clone(),
        )
        .await?;
        t.trust_created(opts.created_at);
        let slot = Slot::new(
            ih,
            name.clone(),
            Stage::Live(t.clone()),
            control,
            limits,
            selection,
        );
        self.insert(slot.clone())?;
        self.inner.env.emit(Event::TorrentAdded {
            info_hash: ih,
            name,
        });
        t.start();
        Ok(TorrentHandle { slot })
    }

    /// Adds a magnet link: peers come from its trackers, its `x.pe` addresses,
    /// `opts.peers` and the DHT (when the session runs a node); once the info dictionary is fetched and verified the torrent checks
    /// `save_dir` and downloads like any other ([`Event::MetadataReceived`] says when).
    pub fn add_magnet(
        &self,
        magnet: &Magnet,
        opts: AddTorrentOptions,
    ) -> Result<TorrentHandle, EngineError> {
        self.check_open()?;
        let ih = magnet.info_hash;
        let mut peers: Vec<_> = magnet
            .peers
            .iter()
            .map(|a| (*a, PeerSource::User))
            .collect();
        peers.extend(opts.peers.iter().map(|a| (*a, PeerSource::User)));
        let trackers: Vec<Vec<String>> = magnet.trackers.iter().map(|t| vec![t.clone()]).collect();
        let limits = RateLimits::default();
        let fetcher = Fetcher::new(
            ih,
            self.inner.env.clone(),
            trackers.clone(),
            &peers,
            limits.clone(),
        );
        let control = Slot::control(opts.paused);
        let name = magnet.name.clone().unwrap_or_else(|| ih.to_hex());
        let slot = Slot::new(
            ih,
            name.clone(),
            Stage::Metadata(fetcher.clone()),
            control,
            limits,
            Selection::new(opts.selection.clone()),
        );
        self.insert(slot.clone())?;
        self.inner.env.emit(Event::TorrentAdded {
            info_hash: ih,
            name,
        });
        let env = self.inner.env.clone();
        let driver = tokio::spawn(magnet_stage(
            env,
            slot.clone(),
            fetcher,
            trackers,
            magnet.web_seeds.clone(),
            opts.save_dir,
        ));
        slot.set_driver(driver);
        Ok(TorrentHandle { slot })
    }

    fn check_open(&self) -> Result<(), EngineError> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(EngineError::ShutDown);
        }
        Ok(())
    }

    fn insert(&self, slot: Arc<Slot>) -> Result<(), EngineError> {
        let mut routes = self.inner.routes.write().unwrap_or_else(|e| e.into_inner());
        if routes.contains_key(&slot.info_hash) {
            return Err(EngineError::AlreadyAdded(slot.info_hash));
        }
        routes.insert(slot.info_hash, slot);
        Ok(())
    }

    pub fn get(&self, ih: &InfoHash) -> Option<TorrentHandle> {
        self.routes_read()
            .get(ih)
            .map(|slot| TorrentHandle { slot: slot.clone() })
    }

    pub fn list(&self) -> Vec<TorrentHandle> {
        self.routes_read()
            .values()
            .map(|slot| TorrentHandle { slot: slot.clone() })
            .collect()
    }

    /// Stops the torrent (announcing `stopped`, bounded), optionally deleting its data.
    pub async fn remove(&self, ih: &InfoHash, delete_files: bool) -> Result<(), EngineError> {
        let t = self
            .inner
            .routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(ih)
            .ok_or(EngineError::NotFound(*ih))?;
        t.stop().await;
        if let Some(store) = &self.inner.env.resume {
            store.remove(ih);
        }
        if let (true, Stage::Live(t)) = (delete_files, t.stage()) {
            let storage = t.storage.clone();
            tokio::task::spawn_blocking(move || storage.delete_files())
                .await
                .map_err(|e| EngineError::Io(std::io::Error::other(e)))??;
        }
        self.inner
            .env
            .emit(Event::TorrentRemoved { info_hash: *ih });
        Ok(())
    }

    /// Stops accepting, stops every torrent (each announces `stopped`, bounded), closes all
    /// peer connections and stops the DHT node.
    pub async fn shutdown(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for task in lock(&self.inner.background).drain(..) {
            task.abort();
        }
        if let Some(p) = &self.inner.portmap {
            p.shutdown().await;
        }
        let torrents: Vec<Arc<Slot>> = self
            .inner
            .routes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, t)| t)
            .collect();
        let stops: Vec<_> = torrents
            .into_iter()
            .map(|t| tokio::spawn(async move { t.stop().await }))
            .collect();
        for s in stops {
            let _ = s.await;
        }
        if let Some(dht) = &self.inner.env.dht {
            dht.shutdown().await;
        }
        for utp in [&self.inner.env.utp, &self.inner.env.utp_v6]
            .into_iter()
            .flatten()
        {
            utp.close();
        }
        tracing::info!("session shut down");
    }

    fn routes_read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, std::collections::HashMap<InfoHash, Arc<Slot>>> {
        self.inner.routes.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The uTP socket on the listener's address, else (that UDP port is taken) on any port,
/// which still dials out.
async fn bind_utp(listen: SocketAddr) -> Option<UtpSocket> {
    match UtpSocket::bind(listen).await {
        Ok(s) => return Some(s),
        Err(e) => tracing::warn!(%listen, "uTP cannot bind the listener's port ({e}); any port"),
    }
    let mut any = listen;
    any.set_port(0);
    match UtpSocket::bind(any).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!(%any, "uTP off: cannot bind ({e})");
            None
        }
    }
}

/// The session's DHT nodes: one on the main listener's family per `config`, and (BEP 32)
/// an IPv6 one beside the IPv6 listener, with the same node id, the same bootstrap names
/// (each node keeps the addresses of its family) and the same saved table (each reads
/// back its family's nodes). The second node is not essential: if it cannot start, the
/// session runs with the first alone.
async fn start_dhts(
    config: &DhtConfig,
    listen: SocketAddr,
    listen_v6: Option<SocketAddr>,
    utp: Option<&UtpSocket>,
    utp_v6: Option<&UtpSocket>,
) -> Result<Dhts, DhtError> {
    let first = start_dht(config.clone(), listen, utp).await?;
    let primary = FamilyNode {
        announce_port: listen.port(),
        dht: first.clone(),
    };
    let second = match listen_v6 {
        Some(l6) if listen.is_ipv4() => {
            let mut c = config.clone();
            c.bind = SocketAddr::new(l6.ip(), config.bind.port());
            c.node_id = Some(first.node_id());
            match start_dht(c, l6, utp_v6).await {
                Ok(d) => Some(FamilyNode {
                    announce_port: l6.port(),
                    dht: d,
                }),
                Err(e) => {
                    tracing::warn!(%l6, "no IPv6 DHT node: {e}");
                    None
                }
            }
        }
        _ => None,
    };
    Ok(Dhts::new(primary, second))
}

/// Starts one DHT node; bind port 0 tries the TCP listener's port first, so one port
/// (TCP and UDP) is all a user forwards. It runs on the uTP socket when it asks for that
/// address (port 0: the listener's), else on its own socket.
async fn start_dht(
    config: DhtConfig,
    listen: SocketAddr,
    utp: Option<&UtpSocket>,
) -> Result<Dht, DhtError> {
    if let Some(u) = utp {
        // Port 0 shares the uTP socket wherever it bound: on the listener's port, or on
        // the one it fell back to (then the DHT could not have that port either; an IPv6
        // wildcard, for one, cannot bind beside the IPv4 wildcard's UDP port).
        let shares = u.local_addr().is_ok_and(|at| {
            at.ip() == config.bind.ip()
                && (config.bind.port() == 0 || at.port() == config.bind.port())
        });
        if shares {
            if let Some(incoming) = u.other_datagrams(DHT_QUEUE) {
                return Dht::start_shared(config, u.udp(), incoming);
            }
        }
    }
    if config.bind.port() == 0 {
        let mut same = config.clone();
        same.bind.set_port(listen.port());
        match Dht::start(same).await {
            Ok(d) => return Ok(d),
            Err(DhtError::Bind { addr, source }) => {
                tracing::debug!(%addr, "DHT cannot share the listener's port ({source}); any port");
            }
            Err(e) => return Err(e),
        }
    }
    Dht::start(config).await
}

/// Opens (creating) a torrent's files and makes the torrent, not started.
async fn build_torrent(
    env: &Arc<Env>,
    meta: Metainfo,
    save_dir: &std::path::Path,
    peers: &[(SocketAddr, PeerSource)],
    control: Arc<tokio::sync::watch::Sender<Control>>,
    limits: RateLimits,
    selection: Selection,
) -> Result<Arc<Torrent>, EngineError> {
    let files: Vec<(PathBuf, u64)> = meta
        .files
        .iter()
        .map(|f| (f.path.clone(), f.length))
        .collect();
    let root = save_dir.to_path_buf();
    let piece_length = meta.piece_length;
    // qBittorrent's convention: one hidden side file per torrent beside its data.
    let parts = PathBuf::from(format!(".{}.parts", meta.info_hash.to_hex()));
    let chosen = selection.get();
    let storage = tokio::task::spawn_blocking(move || {
        let storage = Storage::new(&root, &files, piece_length)?.with_parts_file(parts);
        // Before the check, so reads of skipped files' bytes find the parts file.
        for i in 0..files.len() {
            if chosen.priority(i) == FilePriority::Skip {
                storage.set_skipped(i, true)?;
            }
        }
        Ok::<_, StorageError>(storage)
    })
    .await
    .map_err(|e| EngineError::Io(std::io::Error::other(e)))??;
    Ok(Torrent::new(
        Arc::new(meta),
        Arc::new(storage),
        env.clone(),
        peers,
        control,
        limits,
        selection,
    ))
}

/// A magnet's life before its torrent exists: fetch and verify the info dictionary, then
/// set up the torrent in its place and start it (or leave it paused).
async fn magnet_stage(
    env: Arc<Env>,
    slot: Arc<Slot>,
    fetcher: Arc<Fetcher>,
    trackers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    save_dir: PathBuf,
) {
    let Some(info) = fetcher.run(slot.control.subscribe()).await else {
        return;
    };
    let ih = slot.info_hash;
    let built = match Metainfo::from_info_bytes(&info, trackers) {
        // The magnet's `ws=` (bounded like a `url-list` by the magnet parser).
        Ok(meta) => match validate(&meta).map(|()| Metainfo { web_seeds, ..meta }) {
            Ok(meta) => {
                let peers = fetcher.learned_peers();
                build_torrent(
                    &env,
                    meta,
                    &save_dir,
                    &peers,
                    slot.control.clone(),
                    slot.limits.clone(),
                    slot.selection.clone(),
                )
                .await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e.into()),
    };
    match built {
        Ok(t) => {
            if *slot.control.borrow() == Control::Stop {
                return;
            }
            slot.set_stage(Stage::Live(t.clone()));
            env.emit(Event::MetadataReceived {
                info_hash: ih,
                name: t.meta.name.clone(),
            });
            t.start();
        }
        Err(e) => {
            let message = format!("metadata received but unusable: {e}");
            tracing::warn!(torrent = %ih, %message);
            slot.set_stage(Stage::Failed(message.clone()));
            env.emit(Event::StateChanged {
                info_hash: ih,
                state: crate::status::TorrentState::Error,
            });
            env.emit(Event::Error {
                info_hash: ih,
                message,
            });
        }
    }
}

/// Rejects metainfo whose geometry the engine cannot safely work with.
fn validate(meta: &Metainfo) -> Result<(), EngineError> {
    let bad = |why: &str| Err(EngineError::Metainfo(why.into()));
    if meta.piece_length == 0 || meta.piece_length > MAX_PIECE_LENGTH {
        return bad("piece length out of range");
    }
    if meta.total_length == 0 {
        return bad("torrent has no data");
    }
    if meta.total_length.div_ceil(u64::from(meta.piece_length)) != meta.piece_hashes.len() as u64 {
        return bad("piece count does not match the total length");
    }
    Ok(())
}
