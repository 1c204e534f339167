//! A shared folder: each file (or subfolder) becomes a torrent made here and seeded from where
//! it lies. New items are hashed one at a time on a blocking worker (progress shown), a
//! changed one (size or mtime) is made again, a deleted one leaves the library (its data is
//! not touched, there is none left). An item is taken only once two looks saw it unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use app::types::{Priority, ShareItem, ShareItemState, ShareMode, TorrentState};
use engine::create::{create_torrent, CreateOptions};
use engine::metainfo::Metainfo;
use engine::InfoHash;

use super::scan::{self, Change, Seen, Stability};
use super::{set_error, Ctx};
use crate::auth::AuthUser;
use crate::db::folders::{self as store, FolderRow, ItemRow};
use crate::torrents::{view, Library, LibraryError};

/// Where an item is.
#[derive(Clone, Debug)]
enum Phase {
    /// Seen, waiting to be unchanged for a second look or for its turn to hash.
    Waiting,
    Hashing,
    Added(InfoHash),
    Error(String),
}

#[derive(Clone, Debug)]
struct Item {
    size: u64,
    mtime_ms: i64,
    phase: Phase,
    /// Bytes hashed so far (while hashing).
    hashed: Arc<AtomicU64>,
}

impl Item {
    fn waiting(s: &Seen) -> Item {
        Item {
            size: s.size,
            mtime_ms: s.mtime_ms,
            phase: Phase::Waiting,
            hashed: Arc::default(),
        }
    }
}

/// A shared folder's items, read by the API while the task changes them.
pub(crate) struct ShareState {
    dir: PathBuf,
    mode: ShareMode,
    folder_id: i64,
    items: Mutex<BTreeMap<String, Item>>,
}

impl ShareState {
    /// The items recorded for the folder whose torrents are still in the library (a restart
    /// does not hash them again).
    pub(crate) async fn load(ctx: &Ctx, row: &FolderRow) -> Arc<ShareState> {
        let mut items = BTreeMap::new();
        match store::items(&ctx.db, row.id).await {
            Ok(rows) => {
                for r in rows {
                    let ih = InfoHash::from_hex(&r.info_hash).ok();
                    match ih.filter(|ih| ctx.library.registry.get(ih).is_some()) {
                        Some(ih) => {
                            items.insert(
                                r.name,
                                Item {
                                    size: u64::try_from(r.size).unwrap_or(0),
                                    mtime_ms: r.mtime_ms,
                                    phase: Phase::Added(ih),
                                    hashed: Arc::default(),
                                },
                            );
                        }
                        None => {
                            let _ = store::delete_item(&ctx.db, row.id, &r.name).await;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("shared folder {}: {e}", row.path),
        }
        Arc::new(ShareState {
            dir: PathBuf::from(&row.path),
            mode: row
                .mode
                .as_deref()
                .and_then(ShareMode::parse)
                .unwrap_or_default(),
            folder_id: row.id,
            items: Mutex::new(items),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Item>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set_phase(&self, name: &str, phase: Phase) {
        if let Some(item) = self.lock().get_mut(name) {
            item.phase = phase;
        }
    }

    /// The items as the API shows them, with their torrents' states.
    pub(crate) fn items(&self, library: &Library) -> Vec<ShareItem> {
        let items: Vec<(String, Item)> = self
            .lock()
            .iter()
            .map(|(n, i)| (n.clone(), i.clone()))
            .collect();
        items
            .into_iter()
            .map(|(name, item)| show(library, name, &item))
            .collect()
    }

    /// Takes every torrent of the folder out of the library (the folder is no longer shared).
    pub(crate) async fn remove_all(&self, ctx: &Ctx) {
        let added: Vec<InfoHash> = self
            .lock()
            .values()
            .filter_map(|i| match i.phase {
                Phase::Added(ih) => Some(ih),
                _ => None,
            })
            .collect();
        for ih in added {
            unseed(ctx, &ih).await;
        }
    }
}

fn show(library: &Library, name: String, item: &Item) -> ShareItem {
    let mut out = ShareItem {
        name,
        size: item.size,
        ..Default::default()
    };
    match &item.phase {
        Phase::Waiting => out.state = ShareItemState::Hashing,
        Phase::Hashing => {
            out.state = ShareItemState::Hashing;
            if item.size > 0 {
                out.progress =
                    (item.hashed.load(Ordering::Relaxed) as f64 / item.size as f64).min(1.0);
            }
        }
        Phase::Error(e) => {
            out.state = ShareItemState::Error;
            out.error = Some(e.clone());
        }
        Phase::Added(ih) => {
            out.info_hash = Some(ih.to_hex());
            out.magnet = Some(magnet(ih, &out.name));
            let Some(entry) = library.registry.get(ih) else {
                out.state = ShareItemState::Error;
                out.error = Some("its torrent is no longer in the library".into());
                return out;
            };
            let summary = view::summary(&entry, entry.handle().map(|h| h.status()).as_ref());
            match summary.state {
                TorrentState::Seeding => out.state = ShareItemState::Seeding,
                // A file changed since it was hashed is checked once more before it seeds.
                TorrentState::Checking | TorrentState::Queued | TorrentState::FetchingMetadata => {
                    out.state = ShareItemState::Hashing;
                    out.progress = summary.progress;
                }
                TorrentState::Paused => {
                    out.state = ShareItemState::Error;
                    out.error = Some("its torrent is paused".into());
                }
                TorrentState::Downloading => {
                    out.state = ShareItemState::Error;
                    out.error = Some("the data no longer matches (changed while hashed?)".into());
                }
                TorrentState::Error => {
                    out.state = ShareItemState::Error;
                    out.error = summary.error.or(Some("the torrent failed".into()));
                }
            }
        }
    }
    out
}

/// A magnet link for a shared item: the info-hash and the name.
fn magnet(ih: &InfoHash, name: &str) -> String {
    let dn: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("magnet:?xt=urn:btih:{}&dn={dn}", ih.to_hex())
}

/// The folder's task.
pub(crate) async fn run(
    ctx: Ctx,
    row: FolderRow,
    state: Arc<ShareState>,
    error: Arc<Mutex<Option<String>>>,
) {
    let recursive = state.mode == ShareMode::Subfolders;
    let mut shutdown = ctx.shutdown.clone();
    let (mut watcher, mut poke) = super::wake::inotify(&state.dir, recursive);
    let mut stability = Stability::default();
    loop {
        if watcher.is_none() && state.dir.is_dir() {
            (watcher, poke) = super::wake::inotify(&state.dir, recursive);
        }
        match super::owner(&ctx.db, row.user_id).await {
            Ok(Some(user)) => match look(&state).await {
                Ok(seen) => {
                    set_error(&error, None);
                    step(&ctx, &state, &user, &mut stability, &seen).await;
                }
                Err(e) => set_error(&error, Some(format!("cannot read the folder: {e}"))),
            },
            Ok(None) => set_error(&error, Some("the folder's owner no longer exists".into())),
            Err(e) => set_error(&error, Some(e.to_string())),
        }
        let every = if stability.pending() {
            super::wake::SETTLE
        } else {
            ctx.settings.rescan
        };
        if !super::wake::wait(&mut poke, every, &mut shutdown).await {
            return;
        }
    }
}

/// The folder's items now (files or subfolders, by mode), on a blocking worker.
async fn look(state: &ShareState) -> std::io::Result<Vec<Seen>> {
    let dir = state.dir.clone();
    let dirs = state.mode == ShareMode::Subfolders;
    let seen = tokio::task::spawn_blocking(move || scan::list(&dir, dirs))
        .await
        .map_err(std::io::Error::other)??;
    Ok(seen.into_iter().filter(|s| s.is_dir == dirs).collect())
}

/// One look's work: drop what is gone, make again what changed, hash what is new and settled.
async fn step(
    ctx: &Ctx,
    state: &ShareState,
    user: &AuthUser,
    stability: &mut Stability,
    seen: &[Seen],
) {
    // Items whose torrent someone removed from the library are made again.
    let lost: Vec<String> = state
        .lock()
        .iter()
        .filter(
            |(_, i)| matches!(i.phase, Phase::Added(ih) if ctx.library.registry.get(&ih).is_none()),
        )
        .map(|(n, _)| n.clone())
        .collect();
    for name in lost {
        state.lock().remove(&name);
        let _ = store::delete_item(&ctx.db, state.folder_id, &name).await;
    }
    // What we know: items with a torrent or an error (waiting ones count as not known yet).
    let known: BTreeMap<String, (u64, i64)> = state
        .lock()
        .iter()
        .filter(|(_, i)| matches!(i.phase, Phase::Added(_) | Phase::Error(_)))
        .map(|(n, i)| (n.clone(), (i.size, i.mtime_ms)))
        .collect();
    let mut candidates = Vec::new();
    for change in scan::diff(&known, seen) {
        match change {
            Change::Gone(name) => forget(ctx, state, &name).await,
            Change::Changed(s) => {
                forget(ctx, state, &s.name).await;
                state.lock().insert(s.name.clone(), Item::waiting(&s));
                candidates.push(s);
            }
            Change::New(s) => {
                let mut items = state.lock();
                let item = items
                    .entry(s.name.clone())
                    .or_insert_with(|| Item::waiting(&s));
                item.size = s.size;
                item.mtime_ms = s.mtime_ms;
                drop(items);
                candidates.push(s);
            }
        }
    }
    // Waiting items that vanished before they settled.
    let names: std::collections::HashSet<&str> = seen.iter().map(|s| s.name.as_str()).collect();
    state
        .lock()
        .retain(|n, i| !matches!(i.phase, Phase::Waiting) || names.contains(n.as_str()));
    let ready = stability.ready(&candidates);
    for s in candidates.iter().filter(|s| ready.contains(&s.name)) {
        if *ctx.shutdown.borrow() {
            return;
        }
        share_one(ctx, state, user, s).await;
    }
}

/// Takes an item's torrent out of the library and forgets the item.
async fn forget(ctx: &Ctx, state: &ShareState, name: &str) {
    let removed = state.lock().remove(name);
    if let Some(Item {
        phase: Phase::Added(ih),
        ..
    }) = removed
    {
        unseed(ctx, &ih).await;
    }
    if let Err(e) = store::delete_item(&ctx.db, state.folder_id, name).await {
        tracing::warn!("shared folder {}: {e}", state.dir.display());
    }
}

/// Removes a torrent from the library as its owner would, keeping the data.
async fn unseed(ctx: &Ctx, ih: &InfoHash) {
    let Some(entry) = ctx.library.registry.get(ih) else {
        return;
    };
    match super::owner(&ctx.db, entry.owner_id).await {
        Ok(Some(owner)) => {
            if let Err(e) = ctx.library.remove(&owner, ih, false).await {
                tracing::warn!("cannot remove shared torrent {}: {e}", ih.to_hex());
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot remove shared torrent {}: {e}", ih.to_hex()),
    }
}

/// Hashes one item and adds its torrent, seeding from the folder.
async fn share_one(ctx: &Ctx, state: &ShareState, user: &AuthUser, s: &Seen) {
    let Ok(_permit) = ctx.hashing.acquire().await else {
        return;
    };
    let hashed = {
        let mut items = state.lock();
        let Some(item) = items.get_mut(&s.name) else {
            return;
        };
        item.phase = Phase::Hashing;
        item.hashed.store(0, Ordering::Relaxed);
        item.hashed.clone()
    };
    let phase = match make(ctx, state, user, &s.name, hashed).await {
        Ok(ih) => {
            let row = ItemRow {
                folder_id: state.folder_id,
                name: s.name.clone(),
                size: crate::torrents::clamp_i64(s.size),
                mtime_ms: s.mtime_ms,
                info_hash: ih.to_hex(),
            };
            if let Err(e) = store::put_item(&ctx.db, &row).await {
                tracing::warn!("shared folder {}: {e}", state.dir.display());
            }
            Phase::Added(ih)
        }
        Err(e) => {
            tracing::info!("shared folder {}: {}: {e}", state.dir.display(), s.name);
            Phase::Error(e)
        }
    };
    state.set_phase(&s.name, phase);
}

async fn make(
    ctx: &Ctx,
    state: &ShareState,
    user: &AuthUser,
    name: &str,
    hashed: Arc<AtomicU64>,
) -> Result<InfoHash, String> {
    let path = state.dir.join(name);
    let started = std::time::SystemTime::now();
    let bytes = tokio::task::spawn_blocking(move || {
        create_torrent(&path, &CreateOptions::default(), &|n| {
            hashed.store(n, Ordering::Relaxed)
        })
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let meta = Metainfo::from_bytes(&bytes).map_err(|e| e.to_string())?;
    let ih = meta.info_hash;
    ctx.library
        .check_quota(user, meta.total_length)
        .map_err(|e| e.to_string())?;
    let added = ctx
        .library
        .add_metainfo(
            user.id,
            meta,
            state.dir.clone(),
            false,
            Priority::Normal,
            Vec::new(),
            Default::default(),
            Some(started),
        )
        .await;
    match added {
        Ok(_) => {
            // No "now seeding" notification per shared file: a folder of thousands would
            // bury the owner's notifications and keep the event watcher busy storing them.
            ctx.library.take_fresh(&ih);
            Ok(ih)
        }
        // Ours from a run that stopped before recording it: adopt it.
        Err(LibraryError::Duplicate) if is_ours(&ctx.library, &ih, user, &state.dir) => Ok(ih),
        Err(LibraryError::Duplicate) => Err("the same content is already in the library".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn is_ours(library: &Library, ih: &InfoHash, user: &AuthUser, dir: &Path) -> bool {
    library
        .registry
        .get(ih)
        .is_some_and(|e| e.owner_id == user.id && e.save_path == dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnet_links_name_the_item() {
        let ih = InfoHash([0xab; 20]);
        let m = magnet(&ih, "a b&c.bin");
        assert_eq!(
            m,
            format!("magnet:?xt=urn:btih:{}&dn=a+b%26c.bin", "ab".repeat(20))
        );
        assert_eq!(
            engine::magnet::Magnet::parse(&m).unwrap().name.as_deref(),
            Some("a b&c.bin")
        );
    }
}
