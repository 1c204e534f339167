//! Keeps the database in step with the engine between periodic saves: a torrent that
//! completes, fails or changes state is saved at once.

use std::sync::Arc;

use engine::events::Event;
use tokio::sync::{broadcast, watch};

use super::Library;

pub fn spawn(
    lib: Arc<Library>,
    mut rx: broadcast::Receiver<Event>,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => ev,
                    // Missed events only delay saving until the next periodic save.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = shutdown.changed() => break,
            };
            let ih = match ev {
                Event::Completed { info_hash }
                | Event::StateChanged { info_hash, .. }
                | Event::Error { info_hash, .. } => info_hash,
                _ => continue,
            };
            if let Err(e) = super::restore::save_progress(&lib, Some(&ih)).await {
                tracing::warn!("cannot save torrent {ih}: {e}");
            }
        }
    })
}
