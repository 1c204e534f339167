//! Watch folders and shared folders (see `STATE.md`): per user, stored in the database, each
//! run by one task. A watch folder adds the `.torrent` and `.magnet` files dropped into it
//! (`watch.rs`); a shared folder turns each file or subfolder into a torrent seeded where it
//! lies (`share.rs`). Both look at their folder on inotify events and on a periodic rescan
//! (`scan.rs`). This module is the domain side; `api/folders.rs` is its HTTP adapter.

pub mod magnet_file;
pub mod paths;
pub mod scan;
mod share;
mod wake;
mod watch;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::types::{FolderInfo, FolderKind, NewFolder, ShareMode};
use tokio::sync::{watch as signal, Semaphore};
use tokio::task::JoinHandle;

use crate::auth::{role_of, AuthUser};
use crate::db::folders::{self as store, FolderRow};
use crate::db::{users, Db, DbError};
use crate::torrents::Library;

/// `SHARE_ROOTS`, `FOLDER_RESCAN`, `WATCH_DIR`, and the upload limit `.torrent` files obey.
#[derive(Clone, Debug)]
pub struct Settings {
    pub share_roots: Vec<PathBuf>,
    /// How often every folder is looked at even without an inotify event.
    pub rescan: Duration,
    /// A watch folder for the admin (the first user).
    pub watch_dir: Option<PathBuf>,
    pub max_torrent_size: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            share_roots: Vec::new(),
            rescan: Duration::from_secs(60),
            watch_dir: None,
            max_torrent_size: 8 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("{0}")]
    Path(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0}")]
    Invalid(String),
    #[error("this folder is already watched or shared")]
    Exists,
    #[error("no such folder")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A running folder: its record, its task, and what it shows.
struct Running {
    row: FolderRow,
    task: JoinHandle<()>,
    /// Why the folder cannot be looked at right now.
    error: Arc<Mutex<Option<String>>>,
    share: Option<Arc<share::ShareState>>,
}

/// What a folder's task needs.
#[derive(Clone)]
pub(crate) struct Ctx {
    library: Arc<Library>,
    db: Db,
    settings: Arc<Settings>,
    /// One item hashed at a time across all shares: hashing reads at disk speed on blocking
    /// workers, and two at once would only make both slower.
    hashing: Arc<Semaphore>,
    shutdown: signal::Receiver<bool>,
}

/// Every folder of the server.
pub struct Folders {
    ctx: Ctx,
    running: Mutex<HashMap<i64, Running>>,
}

impl Folders {
    /// Starts every stored folder (after the library restored its torrents, so shares find
    /// theirs), and `WATCH_DIR` for the admin.
    pub async fn start(
        library: Arc<Library>,
        db: Db,
        settings: Settings,
        shutdown: signal::Receiver<bool>,
    ) -> Result<Arc<Folders>, FolderError> {
        let folders = Arc::new(Folders {
            ctx: Ctx {
                library,
                db: db.clone(),
                settings: Arc::new(settings),
                hashing: Arc::new(Semaphore::new(1)),
                shutdown,
            },
            running: Mutex::default(),
        });
        for row in store::all(&db).await? {
            folders.run(row).await;
        }
        if let Some(dir) = folders.ctx.settings.watch_dir.clone() {
            tokio::spawn(admin_watch(folders.clone(), dir));
        }
        Ok(folders)
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the task of a stored folder.
    async fn run(&self, row: FolderRow) {
        let error = Arc::new(Mutex::new(None));
        let (task, share) = match FolderKind::parse(&row.kind) {
            Some(FolderKind::Share) => {
                let state = share::ShareState::load(&self.ctx, &row).await;
                let task = tokio::spawn(share::run(
                    self.ctx.clone(),
                    row.clone(),
                    state.clone(),
                    error.clone(),
                ));
                (task, Some(state))
            }
            _ => (
                tokio::spawn(watch::run(self.ctx.clone(), row.clone(), error.clone())),
                None,
            ),
        };
        let old = self.running().insert(
            row.id,
            Running {
                row,
                task,
                error,
                share,
            },
        );
        if let Some(old) = old {
            old.task.abort();
        }
    }

    /// The user's folders (an admin's: all).
    pub fn list(&self, user: &AuthUser) -> Vec<FolderInfo> {
        let running = self.running();
        let mut out: Vec<FolderInfo> = running
            .values()
            .filter(|r| user.can_access(r.row.user_id))
            .map(|r| self.info(r))
            .collect();
        out.sort_by_key(|f| f.id);
        out
    }

    fn info(&self, r: &Running) -> FolderInfo {
        let kind = FolderKind::parse(&r.row.kind).unwrap_or_default();
        FolderInfo {
            id: r.row.id,
            kind,
            path: r.row.path.clone(),
            category: r.row.category.clone(),
            save_path: r.row.save_path.clone(),
            paused: r.row.paused,
            mode: r.row.mode.as_deref().and_then(ShareMode::parse),
            items: r
                .share
                .as_ref()
                .map(|s| s.items(&self.ctx.library))
                .unwrap_or_default(),
            error: r.error.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// One folder, if `user` may see it.
    pub fn get(&self, user: &AuthUser, id: i64) -> Result<FolderInfo, FolderError> {
        let running = self.running();
        running
            .get(&id)
            .filter(|r| user.can_access(r.row.user_id))
            .map(|r| self.info(r))
            .ok_or(FolderError::NotFound)
    }

    /// Stores and starts a new folder for `user`.
    pub async fn create(&self, user: &AuthUser, req: NewFolder) -> Result<FolderInfo, FolderError> {
        let row = match req.kind {
            FolderKind::Share => {
                let path = paths::share_path(&self.ctx.settings.share_roots, &req.path)?;
                FolderRow {
                    id: 0,
                    user_id: user.id,
                    kind: FolderKind::Share.as_str().into(),
                    path: path.display().to_string(),
                    category: None,
                    save_path: None,
                    paused: false,
                    mode: Some(req.mode.unwrap_or_default().as_str().into()),
                    created_at: 0,
                }
            }
            FolderKind::Watch => {
                let mut allowed = self.ctx.settings.share_roots.clone();
                allowed.push(self.ctx.library.user_root(user));
                let path = paths::watch_path(&allowed, user.is_admin(), &req.path)?;
                let category = req.category.filter(|c| !c.trim().is_empty());
                if let Some(c) = &category {
                    if !self
                        .ctx
                        .library
                        .categories(user)
                        .iter()
                        .any(|k| &k.name == c)
                    {
                        return Err(FolderError::Invalid(format!("no category {c:?}")));
                    }
                }
                let save_path = req.save_path.filter(|p| !p.trim().is_empty());
                if let Some(p) = &save_path {
                    // Checked now so a typo fails here, not on every dropped file.
                    self.ctx
                        .library
                        .save_dir(user, Some(p))
                        .map_err(|e| FolderError::Invalid(e.to_string()))?;
                }
                FolderRow {
                    id: 0,
                    user_id: user.id,
                    kind: FolderKind::Watch.as_str().into(),
                    path: path.display().to_string(),
                    category,
                    save_path,
                    paused: req.paused,
                    mode: None,
                    created_at: 0,
                }
            }
        };
        let row = store::insert(&self.ctx.db, &row)
            .await?
            .ok_or(FolderError::Exists)?;
        let id = row.id;
        self.run(row).await;
        self.get(user, id)
    }

    /// Stops a folder and forgets it; a share's torrents leave the library (their data stays).
    pub async fn delete(&self, user: &AuthUser, id: i64) -> Result<(), FolderError> {
        let running = {
            let mut map = self.running();
            let mine = map.get(&id).is_some_and(|r| user.can_access(r.row.user_id));
            if mine {
                map.remove(&id)
            } else {
                None
            }
        };
        let running = running.ok_or(FolderError::NotFound)?;
        running.task.abort();
        let _ = running.task.await;
        if let Some(share) = &running.share {
            share.remove_all(&self.ctx).await;
        }
        store::delete(&self.ctx.db, id).await?;
        Ok(())
    }
}

/// The folder owner as the library wants it (the folder acts for them).
async fn owner(db: &Db, user_id: i64) -> Result<Option<AuthUser>, DbError> {
    Ok(users::by_id(db, user_id).await?.map(|row| AuthUser {
        id: row.id,
        role: role_of(&row),
        username: row.username,
        token_version: row.token_version,
        expires_at: u64::MAX,
    }))
}

/// `WATCH_DIR`: once the first user (the admin) exists, a watch folder of theirs at `dir`.
async fn admin_watch(folders: Arc<Folders>, dir: PathBuf) {
    let mut shutdown = folders.ctx.shutdown.clone();
    let admin = loop {
        match owner(&folders.ctx.db, 1).await {
            Ok(Some(u)) if u.is_admin() => break u,
            Ok(_) => {}
            Err(e) => tracing::warn!("WATCH_DIR: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.changed() => return,
        }
    };
    let path = dir.display().to_string();
    let known = folders
        .running()
        .values()
        .any(|r| r.row.kind == FolderKind::Watch.as_str() && same_dir(&r.row.path, &dir));
    if known {
        return;
    }
    let req = NewFolder {
        kind: FolderKind::Watch,
        path,
        ..Default::default()
    };
    match folders.create(&admin, req).await {
        Ok(f) => tracing::info!("watching {} for {}", f.path, admin.username),
        Err(FolderError::Exists) => {}
        Err(e) => tracing::warn!("WATCH_DIR {}: {e}", dir.display()),
    }
}

fn same_dir(stored: &str, dir: &std::path::Path) -> bool {
    match dir.canonicalize() {
        Ok(d) => std::path::Path::new(stored) == d,
        Err(_) => std::path::Path::new(stored) == dir,
    }
}

/// Sets or clears a folder's shown error.
pub(crate) fn set_error(slot: &Mutex<Option<String>>, e: Option<String>) {
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = e;
}
