//! The events this server publishes: one signed NIP-35 event per public torrent, made when
//! the torrent is first seen public and kept in `DATA_DIR/nostr-events.json`, so a restart
//! sends the very same events again (same ids: relays answer `duplicate`) instead of new
//! ones. A torrent made private loses its event (made anew if it is made public again).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use k256::schnorr::SigningKey;
use tokio::sync::watch;

use super::event;
use super::message::{Event, KIND_TORRENT, MAX_FILES};
use crate::torrents::public::PublicTorrent;
use crate::torrents::Library;

/// File name of the published events in the data folder.
pub const EVENTS_FILE: &str = "nostr-events.json";
/// Trackers published per torrent at most.
const MAX_TRACKERS: usize = 16;

/// The NIP-35 tags of `t`: `title`, `x`, a `file` per file (at most [`MAX_FILES`]),
/// `tracker` per announce URL (http, https, udp) and `t` topics.
pub fn tags(t: &PublicTorrent) -> Vec<Vec<String>> {
    let tag = |k: &str, v: &str| vec![k.to_owned(), v.to_owned()];
    let mut out = vec![tag("title", &t.name), tag("x", &t.info_hash.to_hex())];
    for (path, len) in t.files.iter().take(MAX_FILES) {
        out.push(vec!["file".into(), path.clone(), len.to_string()]);
    }
    for tr in t
        .trackers
        .iter()
        .filter(|u| super::message::tracker_url(u))
        .take(MAX_TRACKERS)
    {
        out.push(tag("tracker", tr));
    }
    out.push(tag("t", "torrentedge"));
    out
}

/// The signed event of `t`, dated `now` (Unix seconds).
pub fn torrent_event(key: &SigningKey, t: &PublicTorrent, now: u64) -> Event {
    let content = t.comment.clone().unwrap_or_default();
    event::sign(
        key,
        now,
        KIND_TORRENT,
        tags(t),
        content,
        &rand::random::<[u8; 32]>(),
    )
}

/// The events by info-hash (hex), as saved.
pub struct Outbox {
    path: PathBuf,
    events: BTreeMap<String, Event>,
    tx: watch::Sender<Arc<Vec<Event>>>,
}

impl Outbox {
    /// Loads the saved events (a missing or damaged file is an empty outbox).
    pub fn load(dir: &Path) -> Outbox {
        let path = dir.join(EVENTS_FILE);
        let events: BTreeMap<String, Event> = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let (tx, _) = watch::channel(Arc::new(events.values().cloned().collect()));
        Outbox { path, events, tx }
    }

    /// The current events; changes whenever one is added or dropped.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Vec<Event>>> {
        self.tx.subscribe()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Signs an event for each public torrent without one and drops the events of torrents
    /// no longer public; saves and notifies when anything changed.
    pub fn refresh(&mut self, key: &SigningKey, lib: &Library) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut changed = false;
        for t in lib.public_torrents() {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.events.entry(t.info_hash.to_hex())
            {
                slot.insert(torrent_event(key, &t, now));
                changed = true;
            }
        }
        let before = self.events.len();
        self.events
            .retain(|hex, _| engine::InfoHash::from_hex(hex).is_ok_and(|ih| lib.is_public(&ih)));
        changed |= self.events.len() != before;
        if changed {
            if let Err(e) = self.save() {
                tracing::warn!("cannot save {}: {e}", self.path.display());
            }
            self.tx
                .send_replace(Arc::new(self.events.values().cloned().collect()));
        }
    }

    fn save(&self) -> std::io::Result<()> {
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(&self.events)?)?;
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::InfoHash;

    #[test]
    fn nip35_tags_of_a_public_torrent() {
        let t = PublicTorrent {
            info_hash: InfoHash([0xab; 20]),
            name: "Café".into(),
            total_bytes: 3,
            files: (0..MAX_FILES + 5)
                .map(|i| (format!("Café/{i}"), 1))
                .collect(),
            seeders: 1,
            complete: true,
            added_ms: 0,
            trackers: vec![
                "http://t.example/announce".into(),
                "file:///etc/passwd".into(),
            ],
            comment: Some("about it".into()),
        };
        let key = SigningKey::from_bytes(&[3u8; 32]).unwrap();
        let e = torrent_event(&key, &t, 1_700_000_000);
        assert_eq!(event::verify(&e), Ok(()));
        assert_eq!((e.kind, e.content.as_str()), (2003, "about it"));
        let read = super::super::message::torrent(&e).unwrap();
        assert_eq!(read.info_hash, "ab".repeat(20));
        assert_eq!(read.title, "Café");
        assert_eq!(read.files.len(), MAX_FILES);
        assert_eq!(read.files[0], ("Café/0".to_owned(), 1));
        assert_eq!(read.trackers, ["http://t.example/announce"]);
    }
}
