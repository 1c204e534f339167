//! Keeping the DHT routing table across restarts: a file in the data folder, read at
//! start and written periodically and at shutdown, so a restart rejoins through the nodes
//! it knew instead of asking the bootstrap routers again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use engine::session::Session;
use tokio::sync::watch;

/// How often the table is saved while running (a crash loses at most this much).
const SAVE_EVERY: Duration = Duration::from_secs(10 * 60);

/// `DATA_DIR/dht.state`.
pub fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("dht.state")
}

/// The saved table, if there is one that can be read.
pub fn load(data_dir: &Path) -> Option<Vec<u8>> {
    let path = state_path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}; the DHT joins afresh", path.display());
            None
        }
    }
}

/// Writes the node's table (atomically: a temporary file renamed over the old one).
pub async fn save(session: &Session, data_dir: &Path) {
    let Some(bytes) = session.dht_state().await else {
        return;
    };
    let path = state_path(data_dir);
    let tmp = path.with_extension("state.tmp");
    let result = tokio::fs::write(&tmp, &bytes).await;
    let result = match result {
        Ok(()) => tokio::fs::rename(&tmp, &path).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => tracing::debug!(bytes = bytes.len(), "DHT state saved"),
        Err(e) => tracing::warn!("cannot save the DHT state to {}: {e}", path.display()),
    }
}

/// Saves every [`SAVE_EVERY`] until shutdown (the final save is the caller's, before the
/// session stops).
pub fn spawn_saver(session: Session, data_dir: PathBuf, shutdown: watch::Receiver<bool>) {
    if session.dht_addr().is_none() {
        return;
    }
    crate::supervise::spawn("DHT saver", move || {
        let (session, data_dir, mut shutdown) =
            (session.clone(), data_dir.clone(), shutdown.clone());
        async move {
            let mut tick = tokio::time::interval(SAVE_EVERY);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = tick.tick() => save(&session, &data_dir).await,
                    r = shutdown.changed() => if r.is_err() || *shutdown.borrow() { break },
                }
            }
        }
    });
}
