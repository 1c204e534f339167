//! Notifications about a user's torrents, made by the watcher from engine events, stored
//! per user and published on the event stream (`notification`, for the owner only).
//!
//! - `completed`: the engine finished a download (its `Completed` event; once per
//!   download, including one resumed after a restart).
//! - `seeding`: a torrent added (uploaded or created) during this run whose data was
//!   already complete starts seeding, without downloading anything. A download that
//!   completes also starts seeding, but gets only `completed`; restored torrents that
//!   start seeding again after a restart get nothing.
//! - `error`: the engine fails a torrent. Only its first failure until it leaves the error
//!   state is notified, and not when the torrent's newest notification already says the
//!   same (a torrent that fails its check again after every restart).

use std::collections::HashSet;

use app::types::{names, Notification, NotificationKind};
use engine::events::Event;
use engine::status::TorrentState;
use engine::InfoHash;

use super::{Library, LibraryError};
use crate::db::notifications::{self as store, New};
use crate::db::now_ms;

/// Notifications kept per user; older ones are deleted.
pub const KEEP_PER_USER: i64 = 500;

/// Stores a notification for `user_id` and publishes it to them.
pub async fn notify(
    lib: &Library,
    user_id: i64,
    kind: NotificationKind,
    ih: &InfoHash,
    name: &str,
    message: String,
) -> Result<Notification, LibraryError> {
    let new = New {
        user_id,
        kind,
        info_hash: ih.to_hex(),
        name: name.to_owned(),
        message,
        created_at: now_ms(),
    };
    let n = store::insert(&lib.db, &new, KEEP_PER_USER).await?;
    lib.hub.publish_private(user_id, names::NOTIFICATION, &n);
    Ok(n)
}

/// Decides which engine events become notifications.
#[derive(Default)]
pub struct Notifier {
    /// Torrents that failed and have not left the error state since.
    failed: HashSet<InfoHash>,
}

impl Notifier {
    pub async fn on_event(&mut self, lib: &Library, ev: &Event) {
        let (ih, kind, detail) = match ev {
            Event::Completed { info_hash } => {
                lib.take_fresh(info_hash);
                (info_hash, NotificationKind::Completed, None)
            }
            Event::StateChanged { info_hash, state } => {
                if *state != TorrentState::Error {
                    self.failed.remove(info_hash);
                }
                match state {
                    // Downloading: whatever happens next, completion will tell.
                    TorrentState::Downloading => {
                        lib.take_fresh(info_hash);
                        return;
                    }
                    TorrentState::Seeding if lib.take_fresh(info_hash) => {
                        if downloaded_this_run(lib, info_hash) > 0 {
                            return;
                        }
                        (info_hash, NotificationKind::Seeding, None)
                    }
                    _ => return,
                }
            }
            Event::Error { info_hash, message } => {
                if !self.failed.insert(*info_hash) {
                    return;
                }
                (info_hash, NotificationKind::Error, Some(message.as_str()))
            }
            Event::TorrentRemoved { info_hash } => {
                self.failed.remove(info_hash);
                lib.take_fresh(info_hash);
                return;
            }
            _ => return,
        };
        // Gone from the registry: removed meanwhile; it concerns no one any more.
        let Some(entry) = lib.registry.get(ih) else {
            return;
        };
        let name = entry.name.as_str();
        let message = match (kind, detail) {
            (NotificationKind::Completed, _) => format!("{name} finished downloading"),
            (NotificationKind::Seeding, _) => format!("{name} is complete and seeding"),
            (NotificationKind::Error, d) => format!("{name} stopped: {}", d.unwrap_or("error")),
        };
        if kind == NotificationKind::Error {
            match store::latest_about(&lib.db, entry.owner_id, &ih.to_hex()).await {
                Ok(Some(last)) if last.kind == kind && last.message == message => return,
                Ok(_) => {}
                Err(e) => tracing::warn!("cannot read notifications about {ih}: {e}"),
            }
        }
        if let Err(e) = notify(lib, entry.owner_id, kind, ih, name, message).await {
            tracing::warn!("cannot store a notification about {ih}: {e}");
        }
    }
}

/// Payload bytes the engine downloaded for the torrent since this server started.
fn downloaded_this_run(lib: &Library, ih: &InfoHash) -> u64 {
    lib.registry
        .get(ih)
        .and_then(|e| e.handle().map(|h| h.status().downloaded))
        .unwrap_or(0)
}
