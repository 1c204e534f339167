//! The server's in-memory list of torrents: who owns each, where it is saved, its
//! priority and lifetime totals, and the engine handle once it runs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::RwLock;

use app::types::Priority;
use engine::session::TorrentHandle;
use engine::InfoHash;

/// What runs a torrent.
#[derive(Clone, Debug)]
pub enum Runner {
    /// Being added: reserved so a second add of the same info-hash is refused.
    Adding,
    /// In the engine (a magnet's handle exists before its metadata).
    Engine(TorrentHandle),
    /// Could not be restored (e.g. its data folder is gone); kept so the user can see and
    /// remove it.
    Failed { error: String },
}

/// One torrent as the server knows it.
#[derive(Clone, Debug)]
pub struct Entry {
    pub info_hash: InfoHash,
    pub owner_id: i64,
    pub name: String,
    pub save_path: PathBuf,
    pub priority: Priority,
    pub paused: bool,
    pub added_at: i64,
    /// Also when added, in milliseconds: the queue's order.
    pub added_ms: i64,
    pub completed_at: Option<i64>,
    /// Totals from earlier runs; the engine counts from zero each start.
    pub base_uploaded: u64,
    pub base_downloaded: u64,
    /// Last saved verified bytes and size (shown while not in the engine).
    pub saved_bytes_done: u64,
    pub saved_total_bytes: u64,
    pub runner: Runner,
    /// The magnet link it was added with, if any.
    pub magnet: Option<String>,
    /// Held paused in the engine by the queue (`MAX_CONCURRENT_TORRENTS`), not by its owner.
    pub queued: bool,
}

impl Entry {
    pub fn handle(&self) -> Option<&TorrentHandle> {
        match &self.runner {
            Runner::Engine(h) => Some(h),
            _ => None,
        }
    }
}

/// All entries, behind one lock that is never held across an await.
#[derive(Default)]
pub struct Registry {
    map: RwLock<HashMap<InfoHash, Entry>>,
}

impl Registry {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<InfoHash, Entry>> {
        self.map.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<InfoHash, Entry>> {
        self.map.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Inserts `entry` unless its info-hash is present; false when it was.
    pub fn reserve(&self, entry: Entry) -> bool {
        let mut map = self.write();
        if map.contains_key(&entry.info_hash) {
            return false;
        }
        map.insert(entry.info_hash, entry);
        true
    }

    pub fn get(&self, ih: &InfoHash) -> Option<Entry> {
        self.read().get(ih).cloned()
    }

    pub fn owner(&self, ih: &InfoHash) -> Option<i64> {
        self.read().get(ih).map(|e| e.owner_id)
    }

    /// Entries for which `keep` is true, in the order they were added.
    pub fn filtered(&self, keep: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let mut v: Vec<Entry> = self.read().values().filter(|e| keep(e)).cloned().collect();
        v.sort_by_key(|a| (a.added_ms, a.info_hash));
        v
    }

    /// Changes an entry in place; false if it is gone.
    pub fn update(&self, ih: &InfoHash, f: impl FnOnce(&mut Entry)) -> bool {
        match self.write().get_mut(ih) {
            Some(e) => {
                f(e);
                true
            }
            None => false,
        }
    }

    pub fn remove(&self, ih: &InfoHash) -> Option<Entry> {
        self.write().remove(ih)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }
}
