//! The server's torrents: the engine runs them, the database remembers them, the registry
//! knows who owns each. Every operation is scoped to the calling user (admins see all);
//! someone else's torrent is "not found".

pub mod bans;
pub mod categories;
pub mod create;
mod goals;
pub mod labels;
pub mod notify;
pub mod paths;
pub mod public;
mod queue;
mod quota;
pub mod registry;
mod restore;
pub mod selection;
mod stream;
pub mod tags;
pub mod view;
mod watch;
mod webseed;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use app::types::{
    AddOptions, PeerInfo, PiecesInfo, Priority, TorrentDetail, TorrentRef, TorrentSummary,
};
use engine::magnet::Magnet;
use engine::metainfo::Metainfo;
use engine::session::{AddTorrentOptions, EngineError, Session};
use engine::InfoHash;

use crate::auth::AuthUser;
use crate::db::torrents::{self as store, TorrentRow};
use crate::db::{now_ms, Db, DbError};
use crate::events::{names, EventHub};
use registry::{Entry, Registry, Runner};

pub use goals::spawn as spawn_goals;
pub use watch::spawn as spawn_watcher;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("invalid torrent: {0}")]
    InvalidTorrent(String),
    #[error("invalid magnet link: {0}")]
    InvalidMagnet(#[from] engine::magnet::MagnetError),
    #[error("{0}")]
    Path(#[from] paths::PathError),
    #[error("invalid peer address {0:?} (expected IP:PORT)")]
    BadPeer(String),
    #[error("this torrent is already added")]
    Duplicate,
    #[error("no such torrent")]
    NotFound,
    #[error("the torrent's metadata is not known yet")]
    NoMetadataYet,
    #[error("{0}")]
    Create(String),
    #[error("{0} already exists")]
    Exists(String),
    #[error("upload is larger than {0} bytes")]
    TooLarge(u64),
    #[error("cannot prepare the torrent's files: {0}")]
    Storage(String),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Label(#[from] labels::LabelError),
    #[error("quota: {0}")]
    Quota(String),
    #[error("the torrent is not running (it failed)")]
    NotRunning,
    #[error("{0}")]
    BadSelection(String),
    #[error("the torrent has no file {0}")]
    NoSuchFile(usize),
    #[error("the file is not complete here yet")]
    NotComplete,
}

impl From<EngineError> for LibraryError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Metainfo(m) => LibraryError::InvalidTorrent(m),
            EngineError::AlreadyAdded(_) => LibraryError::Duplicate,
            EngineError::NotFound(_) => LibraryError::NotFound,
            EngineError::Storage(s) => LibraryError::Storage(s.to_string()),
            EngineError::Io(e) => LibraryError::Storage(e.to_string()),
            other => LibraryError::Engine(other.to_string()),
        }
    }
}

/// All torrents of the server.
pub struct Library {
    session: Session,
    db: Db,
    hub: EventHub,
    pub registry: Arc<Registry>,
    download_path: PathBuf,
    /// What was last written per torrent, so unchanged torrents are not written again.
    saved: std::sync::Mutex<std::collections::HashMap<InfoHash, store::Progress>>,
    /// Torrents added during this run that have neither downloaded nor seeded yet: one
    /// that starts seeding straight away was complete when added (see `notify`).
    fresh: std::sync::Mutex<std::collections::HashSet<InfoHash>>,
    /// `MAX_CONCURRENT_TORRENTS`; 0 = no cap (see `queue`).
    max_active: std::sync::atomic::AtomicU32,
    /// Held while the queue's or the owner's flags change and the engine is made to follow.
    queue_lock: std::sync::Mutex<()>,
    /// Categories, tags and numeric ids (see `categories`, `tags`).
    labels: labels::Labels,
    /// Per-user limits (see `quota`).
    quotas: quota::Quotas,
    /// Seeding goals, global and per torrent, and the clocks they are measured with.
    goals: goals::Goals,
    /// Torrents their owners marked public (see `public`).
    public: public::PublicSet,
}

impl Library {
    pub fn new(session: Session, db: Db, hub: EventHub, download_path: PathBuf) -> Library {
        Library {
            session,
            db,
            hub,
            registry: Arc::new(Registry::default()),
            download_path,
            saved: Default::default(),
            fresh: Default::default(),
            max_active: Default::default(),
            queue_lock: Default::default(),
            labels: Default::default(),
            quotas: Default::default(),
            goals: Default::default(),
            public: Default::default(),
        }
    }

    fn fresh(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<InfoHash>> {
        self.fresh.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `ih` was still fresh (added this run, not yet downloading or seeding); it is
    /// not any more.
    pub(crate) fn take_fresh(&self, ih: &InfoHash) -> bool {
        self.fresh().remove(ih)
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The folder `user`'s save paths are relative to.
    pub fn user_root(&self, user: &AuthUser) -> PathBuf {
        paths::user_root(&self.download_path, user.id, user.is_admin())
    }

    /// Resolves (and creates) a save folder inside the user's root.
    pub fn save_dir(
        &self,
        user: &AuthUser,
        requested: Option<&str>,
    ) -> Result<PathBuf, LibraryError> {
        let root = self.user_root(user);
        let rel = paths::relative_inside(&root, requested.unwrap_or(""))?;
        Ok(paths::ensure_dir_inside(&root, &rel)?)
    }

    /// The entry `user` may see, else NotFound.
    pub fn entry_for(&self, user: &AuthUser, ih: &InfoHash) -> Result<Entry, LibraryError> {
        self.registry
            .get(ih)
            .filter(|e| user.can_access(e.owner_id) && !matches!(e.runner, Runner::Adding))
            .ok_or(LibraryError::NotFound)
    }

    /// Adds a `.torrent` file.
    pub async fn add_torrent_file(
        &self,
        user: &AuthUser,
        bytes: &[u8],
        opts: &AddOptions,
    ) -> Result<TorrentSummary, LibraryError> {
        let meta =
            Metainfo::from_bytes(bytes).map_err(|e| LibraryError::InvalidTorrent(e.to_string()))?;
        let peers = parse_peers(&opts.peers)?;
        self.check_quota(user, meta.total_length)?;
        let selection = selection::initial(opts, Some(meta.files.len()))?;
        let save_dir = self.save_dir(user, opts.save_path.as_deref())?;
        self.add_metainfo(
            user.id,
            meta,
            save_dir,
            opts.paused,
            opts.priority,
            peers,
            selection,
            None,
        )
        .await
    }

    /// Adds parsed metainfo for `owner` (uploads and `create`). `created_at`: this server
    /// just made the metainfo from the data in `save_dir`, hashing from then (the engine then
    /// does not hash it again).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_metainfo(
        &self,
        owner: i64,
        meta: Metainfo,
        save_dir: PathBuf,
        paused: bool,
        priority: Priority,
        peers: Vec<SocketAddr>,
        selection: engine::selection::SelectionState,
        created_at: Option<std::time::SystemTime>,
    ) -> Result<TorrentSummary, LibraryError> {
        if let Some(first) = meta.files.first() {
            paths::check_not_reserved(&self.download_path, &save_dir, &first.path)?;
        }
        let ih = meta.info_hash;
        let ms = now_ms();
        // Under a cap, the engine starts it paused and the queue decides when it runs.
        let hold = !paused && self.max_active() > 0;
        let entry = Entry {
            info_hash: ih,
            owner_id: owner,
            name: meta.name.clone(),
            save_path: save_dir.clone(),
            priority,
            paused,
            added_at: ms / 1000,
            added_ms: ms,
            completed_at: None,
            base_uploaded: 0,
            base_downloaded: 0,
            saved_bytes_done: 0,
            saved_total_bytes: meta.total_length,
            runner: Runner::Adding,
            magnet: None,
            queued: hold,
        };
        if !self.registry.reserve(entry.clone()) {
            return Err(LibraryError::Duplicate);
        }
        let row = TorrentRow {
            info_hash: ih.to_hex(),
            owner_id: owner,
            name: meta.name.clone(),
            metainfo: Some(meta.to_torrent_bytes()),
            magnet: None,
            save_path: save_dir.display().to_string(),
            state: "checking".into(),
            paused,
            priority: priority.as_str().into(),
            added_at: ms / 1000,
            added_ms: ms,
            completed_at: None,
            uploaded: 0,
            downloaded: 0,
            bytes_done: 0,
            total_bytes: clamp_i64(meta.total_length),
            error: None,
        };
        let result = async {
            if !store::insert(&self.db, &row).await? {
                return Err(LibraryError::Duplicate);
            }
            self.store_initial_selection(&ih, &selection).await?;
            let opts = AddTorrentOptions {
                save_dir,
                paused: paused || hold,
                peers,
                selection,
                created_at,
            };
            // Before the engine has it: its first state change may come at once.
            self.fresh().insert(ih);
            match self.session.add_torrent(meta, opts).await {
                Ok(h) => Ok(h),
                Err(e) => {
                    self.take_fresh(&ih);
                    store::delete(&self.db, &row.info_hash).await?;
                    Err(LibraryError::from(e))
                }
            }
        }
        .await;
        let handle = match result {
            Ok(h) => h,
            Err(e) => {
                self.registry.remove(&ih);
                return Err(e);
            }
        };
        self.registry
            .update(&ih, |e| e.runner = Runner::Engine(handle.clone()));
        let entry = Entry {
            runner: Runner::Engine(handle.clone()),
            ..entry
        };
        self.publish_added(owner, &view::summary(&entry, Some(&handle.status())));
        self.update_queue();
        let entry = self.registry.get(&ih).unwrap_or(entry);
        Ok(view::summary(&entry, Some(&handle.status())))
    }

    /// Adds a magnet link: the engine fetches the metadata from peers (the torrent shows as
    /// fetching metadata meanwhile), then checks and downloads; the metainfo is stored when it
    /// arrives ([`Self::on_metadata`]).
    pub async fn add_magnet(
        &self,
        user: &AuthUser,
        uri: &str,
        opts: &AddOptions,
    ) -> Result<TorrentSummary, LibraryError> {
        let m = Magnet::parse(uri)?;
        let peers = parse_peers(&opts.peers)?;
        let selection = selection::initial(opts, None)?;
        self.check_quota(user, 0)?;
        let save_dir = self.save_dir(user, opts.save_path.as_deref())?;
        let ih = m.info_hash;
        let ms = now_ms();
        let name = m.name.clone().unwrap_or_else(|| ih.to_hex());
        let uri = uri.trim().to_owned();
        let hold = !opts.paused && self.max_active() > 0;
        let entry = Entry {
            info_hash: ih,
            owner_id: user.id,
            name: name.clone(),
            save_path: save_dir.clone(),
            priority: opts.priority,
            paused: opts.paused,
            added_at: ms / 1000,
            added_ms: ms,
            completed_at: None,
            base_uploaded: 0,
            base_downloaded: 0,
            saved_bytes_done: 0,
            saved_total_bytes: 0,
            runner: Runner::Adding,
            magnet: Some(uri.clone()),
            queued: hold,
        };
        if !self.registry.reserve(entry.clone()) {
            return Err(LibraryError::Duplicate);
        }
        let row = TorrentRow {
            info_hash: ih.to_hex(),
            owner_id: user.id,
            name,
            metainfo: None,
            magnet: Some(uri),
            save_path: save_dir.display().to_string(),
            state: app::types::TorrentState::FetchingMetadata.as_str().into(),
            paused: opts.paused,
            priority: opts.priority.as_str().into(),
            added_at: ms / 1000,
            added_ms: ms,
            completed_at: None,
            uploaded: 0,
            downloaded: 0,
            bytes_done: 0,
            total_bytes: 0,
            error: None,
        };
        match store::insert(&self.db, &row).await {
            Ok(true) => {}
            Ok(false) => {
                self.registry.remove(&ih);
                return Err(LibraryError::Duplicate);
            }
            Err(e) => {
                self.registry.remove(&ih);
                return Err(e.into());
            }
        }
        if let Err(e) = self.store_initial_selection(&ih, &selection).await {
            self.registry.remove(&ih);
            let _ = store::delete(&self.db, &ih.to_hex()).await;
            return Err(e);
        }
        let engine_opts = AddTorrentOptions {
            save_dir,
            paused: opts.paused || hold,
            peers,
            selection,
            created_at: None,
        };
        let handle = match self.session.add_magnet(&m, engine_opts) {
            Ok(h) => h,
            Err(e) => {
                self.registry.remove(&ih);
                let _ = store::delete(&self.db, &ih.to_hex()).await;
                return Err(e.into());
            }
        };
        self.registry
            .update(&ih, |e| e.runner = Runner::Engine(handle.clone()));
        let entry = self.registry.get(&ih).unwrap_or(entry);
        self.publish_added(user.id, &view::summary(&entry, Some(&handle.status())));
        self.update_queue();
        // After the queue's decision (under a cap it starts held until then).
        let entry = self.registry.get(&ih).unwrap_or(entry);
        Ok(view::summary(&entry, Some(&handle.status())))
    }

    /// A magnet's metadata arrived: store the metainfo (so a restart needs no peers for it)
    /// and show the real name and size.
    pub async fn on_metadata(&self, ih: &InfoHash) -> Result<(), LibraryError> {
        let Some(entry) = self.registry.get(ih) else {
            return Ok(());
        };
        let Some(meta) = entry.handle().and_then(|h| h.metainfo()) else {
            return Ok(());
        };
        store::set_metainfo(
            &self.db,
            &ih.to_hex(),
            &meta.name,
            &meta.to_torrent_bytes(),
            meta.total_length as i64,
        )
        .await?;
        self.registry.update(ih, |e| {
            e.name = meta.name.clone();
            e.saved_total_bytes = meta.total_length;
        });
        if let Some(e) = self.registry.get(ih) {
            let st = e.handle().map(|h| h.status());
            self.publish_added(e.owner_id, &view::summary(&e, st.as_ref()));
        }
        Ok(())
    }

    fn publish_added(&self, owner: i64, summary: &TorrentSummary) {
        let summary = self.labelled(summary.clone());
        self.hub
            .publish(Some(owner), names::TORRENT_ADDED, &summary);
    }

    /// The user's torrents (an admin's: all).
    pub fn list(&self, user: &AuthUser) -> Vec<TorrentSummary> {
        self.registry
            .filtered(|e| user.can_access(e.owner_id) && !matches!(e.runner, Runner::Adding))
            .iter()
            .map(|e| self.labelled(view::summary(e, e.handle().map(|h| h.status()).as_ref())))
            .collect()
    }

    pub fn detail(&self, user: &AuthUser, ih: &InfoHash) -> Result<TorrentDetail, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let st = e.handle().map(|h| h.status());
        let meta = e.handle().and_then(|h| h.metainfo());
        let mut d = view::detail(&e, st.as_ref(), meta.as_deref());
        d.summary = self.labelled(d.summary);
        Ok(d)
    }

    pub fn peers(&self, user: &AuthUser, ih: &InfoHash) -> Result<Vec<PeerInfo>, LibraryError> {
        let e = self.entry_for(user, ih)?;
        Ok(e.handle().map_or_else(Vec::new, |h| {
            let n = h.metainfo().map_or(0, |m| m.num_pieces());
            h.peers().iter().map(|p| view::peer(p, n)).collect()
        }))
    }

    /// The `.torrent` file, once the metainfo is known (a magnet's arrives from peers).
    pub fn torrent_file(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
    ) -> Result<(TorrentSummary, Vec<u8>), LibraryError> {
        let e = self.entry_for(user, ih)?;
        let h = e.handle().ok_or(LibraryError::NotFound)?;
        let meta = h.metainfo().ok_or(LibraryError::NoMetadataYet)?;
        Ok((
            view::summary(&e, Some(&h.status())),
            meta.to_torrent_bytes(),
        ))
    }

    pub fn pieces(&self, user: &AuthUser, ih: &InfoHash) -> Result<PiecesInfo, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let live = e.handle().and_then(|h| Some((h.pieces(), h.metainfo()?)));
        Ok(match live {
            Some((have, meta)) => view::pieces(&have, &meta),
            None => PiecesInfo {
                num_pieces: 0,
                pieces_done: 0,
                piece_length: 0,
                bitfield: String::new(),
            },
        })
    }

    pub async fn set_paused(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        paused: bool,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        store::set_paused(&self.db, &ih.to_hex(), paused).await?;
        let hold = self.max_active() > 0;
        let changed = {
            let _queue = self.queue_lock();
            self.registry.update(ih, |e| {
                // A resumed download waits in the queue until the queue gives it a slot.
                e.queued = !paused && hold && e.handle().is_some() && (e.queued || e.paused);
                e.paused = paused;
            });
            self.apply_queue()
        };
        self.summary_after_change(ih, e, changed)
    }

    pub async fn set_priority(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        priority: Priority,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        store::set_priority(&self.db, &ih.to_hex(), priority.as_str()).await?;
        let changed = {
            let _queue = self.queue_lock();
            self.registry.update(ih, |e| e.priority = priority);
            self.apply_queue()
        };
        self.summary_after_change(ih, e, changed)
    }

    /// After a pause, resume or priority change: `queue:updated` for the torrent (unless the
    /// queue already published one) and its summary.
    fn summary_after_change(
        &self,
        ih: &InfoHash,
        before: Entry,
        published: std::collections::HashSet<InfoHash>,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.registry.get(ih).unwrap_or(before);
        if !published.contains(ih) {
            self.publish_state(&e);
        }
        Ok(self.labelled(view::summary(&e, e.handle().map(|h| h.status()).as_ref())))
    }

    /// Sets a torrent's own limits (bytes per second, 0 = unlimited; `None` keeps one),
    /// stored so a restart restores them.
    pub async fn set_limits(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        download: Option<u64>,
        upload: Option<u64>,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let h = e.handle().ok_or(LibraryError::NotRunning)?;
        let (down0, up0) = h.rate_limits();
        let (down, up) = (download.unwrap_or(down0), upload.unwrap_or(up0));
        crate::db::settings::set_torrent_limits(
            &self.db,
            &ih.to_hex(),
            clamp_i64(down),
            clamp_i64(up),
        )
        .await?;
        h.set_rate_limits(down, up);
        Ok(self.labelled(view::summary(&e, Some(&h.status()))))
    }

    pub fn add_peers(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        peers: &[String],
    ) -> Result<usize, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let peers = parse_peers(peers)?;
        let n = peers.len();
        if let Some(h) = e.handle() {
            h.add_peers(peers);
        }
        Ok(n)
    }

    /// Removes a torrent, and its data when `delete_files`.
    pub async fn remove(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        delete_files: bool,
    ) -> Result<(), LibraryError> {
        let e = self.entry_for(user, ih)?;
        if e.handle().is_some() {
            match self.session.remove(ih, delete_files).await {
                Ok(()) | Err(EngineError::NotFound(_)) => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.registry.remove(ih);
        self.take_fresh(ih);
        self.forget_goals(ih);
        self.forget_public(ih);
        self.saved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(ih);
        store::delete(&self.db, &ih.to_hex()).await?;
        self.forget_labels(ih).await?;
        self.hub.publish(
            Some(e.owner_id),
            names::TORRENT_REMOVED,
            &TorrentRef {
                info_hash: ih.to_hex(),
                files_deleted: Some(delete_files),
            },
        );
        // A slot may have come free.
        self.update_queue();
        Ok(())
    }

    /// Every entry with its engine status, for statistics and metrics.
    pub fn snapshot(&self) -> Vec<(Entry, TorrentSummary)> {
        self.registry
            .filtered(|e| !matches!(e.runner, Runner::Adding))
            .into_iter()
            .map(|e| {
                let s = view::summary(&e, e.handle().map(|h| h.status()).as_ref());
                (e, s)
            })
            .collect()
    }

    /// Restores every stored torrent into the engine (see `restore.rs`).
    pub async fn restore(&self) -> Result<usize, LibraryError> {
        self.load_labels().await?;
        self.load_goals().await?;
        self.load_public().await?;
        restore::restore_all(self).await
    }

    /// Saves counters and states of running torrents.
    pub async fn save_progress(&self) -> Result<(), LibraryError> {
        restore::save_progress(self, None).await
    }
}

fn parse_peers(peers: &[String]) -> Result<Vec<SocketAddr>, LibraryError> {
    peers
        .iter()
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| LibraryError::BadPeer(p.clone()))
        })
        .collect()
}

pub(crate) fn clamp_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
