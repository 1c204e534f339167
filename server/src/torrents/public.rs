//! Torrents their owners mark public: kept in memory (loaded at start, written through to the
//! database) so the federation catalog reads them without a query, and listed for the
//! catalog with what a searcher needs (name, size, files, seeders) and nothing else.

use std::collections::HashSet;
use std::sync::RwLock;

use engine::InfoHash;

use super::registry::Entry;
use super::{Library, LibraryError};
use crate::auth::AuthUser;

/// The public torrents' info-hashes, and a signal for the one listener (the Nostr
/// publisher) that the set changed.
#[derive(Default)]
pub struct PublicSet(RwLock<HashSet<InfoHash>>, tokio::sync::Notify);

impl PublicSet {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashSet<InfoHash>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashSet<InfoHash>> {
        self.1.notify_one();
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// A public torrent as this server holds it: the catalog's source.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicTorrent {
    pub info_hash: InfoHash,
    pub name: String,
    pub total_bytes: u64,
    /// `/`-separated paths inside the torrent, with their lengths.
    pub files: Vec<(String, u64)>,
    /// Seeds this server is connected to, plus itself when it has every piece.
    pub seeders: u32,
    /// This server has every piece (its web seed serves every file).
    pub complete: bool,
    pub added_ms: i64,
    /// Its announce URLs, every tier (published to Nostr relays).
    pub trackers: Vec<String>,
    /// The torrent's comment (a Nostr event's description).
    pub comment: Option<String>,
}

impl Library {
    pub fn is_public(&self, ih: &InfoHash) -> bool {
        self.public.read().contains(ih)
    }

    /// Wakes (once per change, a permit is kept) when a torrent is made public or private.
    pub async fn public_changed(&self) {
        self.public.1.notified().await
    }

    /// Marks the user's torrent public or private. A torrent flagged private (BEP 27) stays
    /// with its tracker: it cannot be made public.
    pub async fn set_public(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        on: bool,
    ) -> Result<(), LibraryError> {
        let e = self.entry_for(user, ih)?;
        if on
            && e.handle()
                .and_then(|h| h.metainfo())
                .is_some_and(|m| m.private)
        {
            return Err(LibraryError::BadSelection(
                "a private (BEP 27) torrent cannot be made public".into(),
            ));
        }
        crate::db::public::set(&self.db, &ih.to_hex(), on).await?;
        if on {
            self.public.write().insert(*ih);
        } else {
            self.public.write().remove(ih);
        }
        Ok(())
    }

    pub(super) async fn load_public(&self) -> Result<(), LibraryError> {
        let stored = crate::db::public::all(&self.db).await?;
        let set: HashSet<InfoHash> = stored
            .iter()
            .filter_map(|h| InfoHash::from_hex(h).ok())
            .collect();
        *self.public.write() = set;
        Ok(())
    }

    pub(super) fn forget_public(&self, ih: &InfoHash) {
        self.public.write().remove(ih);
    }

    /// Every public torrent whose metadata is known, oldest first. Never another torrent.
    pub fn public_torrents(&self) -> Vec<PublicTorrent> {
        let set = self.public.read().clone();
        if set.is_empty() {
            return Vec::new();
        }
        self.registry
            .filtered(|e| set.contains(&e.info_hash))
            .iter()
            .filter_map(listing)
            .collect()
    }
}

fn listing(e: &Entry) -> Option<PublicTorrent> {
    let h = e.handle()?;
    let meta = h.metainfo()?;
    if meta.private {
        return None;
    }
    let st = h.status();
    let complete = st.num_pieces > 0 && st.pieces_done >= st.num_pieces;
    let files = meta
        .files
        .iter()
        .map(|f| {
            let parts: Vec<String> = f
                .path
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            (parts.join("/"), f.length)
        })
        .collect();
    let seeders = u32::try_from(st.seeds).unwrap_or(u32::MAX);
    Some(PublicTorrent {
        info_hash: e.info_hash,
        name: meta.name.clone(),
        total_bytes: meta.total_length,
        files,
        seeders: seeders.saturating_add(u32::from(complete)),
        complete,
        added_ms: e.added_ms,
        trackers: meta.trackers.iter().flatten().cloned().collect(),
        comment: meta.comment.clone(),
    })
}
