//! The public entry point: owns the torrents, the listener and the event bus, and the
//! resources every torrent shares (`env`: connection cap, buffer budget, hashing threads,
//! tracker client).

pub(crate) mod budget;
pub(crate) mod conns;
pub(crate) mod env;
pub(crate) mod hashpool;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use crate::torrent::TorrentHandle;

use crate::config::SessionConfig;
use crate::events::{Event, EVENT_CAPACITY};
use crate::listener::{self, Routes};
use crate::metainfo::{Metainfo, MetainfoError};
use crate::storage::{Storage, StorageError};
use env::Env;
use crate::torrent::{lock, Torrent};
use crate::tracker::TrackerError;
use crate::InfoHash;

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
}

/// A running engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    env: Arc<Env>,
    routes: Routes,
    listener: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl Session {
    /// Binds the peer listener and starts accepting.
    pub async fn start(config: SessionConfig) -> Result<Session, EngineError> {
        let listener = TcpListener::bind(config.listen_addr).await?;
        let local = listener.local_addr()?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let env = Arc::new(Env::new(config, local, events)?);
        let routes = Routes::default();
        let task = tokio::spawn(listener::run(listener, routes.clone(), env.conns.clone()));
        tracing::info!(%local, "session started");
        Ok(Session {
            inner: Arc::new(Inner {
                env,
                routes,
                listener: Mutex::new(Some(task)),
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// Where peers can reach us (the resolved port when configured with 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.env.listen_addr
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
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(EngineError::ShutDown);
        }
        validate(&meta)?;
        let ih = meta.info_hash;
        if self.routes_read().contains_key(&ih) {
            return Err(EngineError::AlreadyAdded(ih));
        }
        let files: Vec<(PathBuf, u64)> = meta
            .files
            .iter()
            .map(|f| (f.path.clone(), f.length))
            .collect();
        let root = opts.save_dir.clone();
        let piece_length = meta.piece_length;
        let storage =
            tokio::task::spawn_blocking(move || Storage::new(&root, &files, piece_length))
                .await
                .map_err(|e| EngineError::Io(std::io::Error::other(e)))??;
        let meta = Arc::new(meta);
        let t = Torrent::new(
            meta.clone(),
            Arc::new(storage),
            self.inner.env.clone(),
            &opts.peers,
            opts.paused,
        );
        {
            let mut routes = self.inner.routes.write().unwrap_or_else(|e| e.into_inner());
            if routes.contains_key(&ih) {
                return Err(EngineError::AlreadyAdded(ih));
            }
            routes.insert(ih, t.clone());
        }
        self.inner.env.emit(Event::TorrentAdded {
            info_hash: ih,
            name: meta.name.clone(),
        });
        t.start();
        Ok(TorrentHandle { t })
    }

    pub fn get(&self, ih: &InfoHash) -> Option<TorrentHandle> {
        self.routes_read()
            .get(ih)
            .map(|t| TorrentHandle { t: t.clone() })
    }

    pub fn list(&self) -> Vec<TorrentHandle> {
        self.routes_read()
            .values()
            .map(|t| TorrentHandle { t: t.clone() })
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
        if delete_files {
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

    /// Stops accepting, stops every torrent (each announces `stopped`, bounded) and
    /// closes all peer connections.
    pub async fn shutdown(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(task) = lock(&self.inner.listener).take() {
            task.abort();
        }
        let torrents: Vec<Arc<Torrent>> = self
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
        tracing::info!("session shut down");
    }

    fn routes_read(
        &self,
    ) -> std::sync::RwLockReadGuard<'_, std::collections::HashMap<InfoHash, Arc<Torrent>>> {
        self.inner.routes.read().unwrap_or_else(|e| e.into_inner())
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
