//! Nostr (`NOSTR_RELAYS`): the torrents marked public are published to relays as NIP-35
//! torrent events signed with this server's key (`keys`, `event`, `outbox`, `publish`), and
//! the relays are one more source of `/api/search` (`search`). Relays are untrusted:
//! `message` bounds what they send, `event` verifies every event, `relay` bounds frames.
//! Off when no relay is configured.

pub mod event;
pub mod keys;
pub mod message;
pub mod outbox;
pub mod publish;
pub mod relay;
pub mod search;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k256::schnorr::SigningKey;
use tokio::sync::watch;

use crate::torrents::Library;

/// Relays at most.
pub const MAX_RELAYS: usize = 32;
/// How often the public set is looked at besides change signals (a magnet made public
/// gets its event once its metadata arrives).
const RESCAN: Duration = Duration::from_secs(30);

/// Parses `NOSTR_RELAYS`: comma-separated `ws://` or `wss://` URLs (empty entries skipped,
/// duplicates dropped).
pub fn parse_relays(s: &str) -> Result<Vec<url::Url>, String> {
    let mut out: Vec<url::Url> = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let u = relay::parse_url(entry).map_err(|e| e.to_string())?;
        if !out.contains(&u) {
            out.push(u);
        }
    }
    if out.len() > MAX_RELAYS {
        return Err(format!("{} relays (at most {MAX_RELAYS})", out.len()));
    }
    Ok(out)
}

/// The running Nostr adapter.
pub struct Nostr {
    key: SigningKey,
    pub relays: Vec<url::Url>,
    statuses: Vec<publish::SharedStatus>,
    outbox: Arc<tokio::sync::Mutex<outbox::Outbox>>,
    pub info: search::InfoCache,
}

impl Nostr {
    /// Loads (or makes) the key, loads the outbox, and starts the publisher: one task that
    /// keeps the outbox equal to the public torrents, one per relay.
    pub fn start(
        lib: Arc<Library>,
        data_dir: &Path,
        relays: Vec<url::Url>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Arc<Nostr>, keys::KeyError> {
        let key = keys::load_or_create(data_dir)?;
        let outbox = Arc::new(tokio::sync::Mutex::new(outbox::Outbox::load(data_dir)));
        let statuses: Vec<publish::SharedStatus> = relays
            .iter()
            .map(|u| {
                Arc::new(Mutex::new(publish::RelayStatus {
                    url: u.to_string(),
                    ..Default::default()
                }))
            })
            .collect();
        let nostr = Arc::new(Nostr {
            key,
            relays,
            statuses,
            outbox,
            info: Default::default(),
        });
        tracing::info!(
            pubkey = %keys::npub(&nostr.key),
            "publishing public torrents to {} Nostr relays",
            nostr.relays.len()
        );
        tokio::spawn(collect(nostr.clone(), lib, shutdown.clone()));
        Ok(nostr)
    }

    /// Starts the relay tasks (after the outbox's first refresh, so a start sends what is
    /// public at once).
    async fn spawn_relays(&self, shutdown: &watch::Receiver<bool>) {
        let rx = self.outbox.lock().await.subscribe();
        for (url, status) in self.relays.iter().zip(&self.statuses) {
            tokio::spawn(publish::run(
                url.clone(),
                status.clone(),
                rx.clone(),
                shutdown.clone(),
            ));
        }
    }

    pub fn pubkey_hex(&self) -> String {
        keys::public_hex(&self.key)
    }

    pub fn npub(&self) -> String {
        keys::npub(&self.key)
    }

    /// Each relay's publishing status.
    pub fn statuses(&self) -> Vec<publish::RelayStatus> {
        self.statuses
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    /// Events in the outbox (one per public torrent with metadata).
    pub async fn published(&self) -> usize {
        self.outbox.lock().await.len()
    }
}

/// Keeps the outbox equal to the public torrents: at start, on every change, and every
/// [`RESCAN`].
async fn collect(nostr: Arc<Nostr>, lib: Arc<Library>, mut shutdown: watch::Receiver<bool>) {
    nostr.outbox.lock().await.refresh(&nostr.key, &lib);
    nostr.spawn_relays(&shutdown).await;
    loop {
        tokio::select! {
            _ = lib.public_changed() => {}
            _ = tokio::time::sleep(RESCAN) => {}
            _ = shutdown.changed() => return,
        }
        nostr.outbox.lock().await.refresh(&nostr.key, &lib);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_parse_or_are_refused() {
        let r = parse_relays(" wss://a.example , ws://127.0.0.1:7000,,wss://a.example").unwrap();
        let shown: Vec<&str> = r.iter().map(url::Url::as_str).collect();
        assert_eq!(shown, ["wss://a.example/", "ws://127.0.0.1:7000/"]);
        assert!(parse_relays("").unwrap().is_empty());
        assert!(parse_relays("https://a.example").is_err());
        assert!(parse_relays("a.example").is_err());
        let many: String = (0..=MAX_RELAYS).map(|i| format!("ws://h{i}/,")).collect();
        assert!(parse_relays(&many).is_err());
    }
}
