//! Keeps the database in step with the engine between periodic saves: a torrent that
//! completes, fails or changes state is saved at once. Also re-evaluates the download
//! queue on those events and turns them into the owners' notifications (see `notify`).

use std::sync::Arc;

use engine::events::Event;
use tokio::sync::{broadcast, watch};

use super::notify::Notifier;
use super::Library;

pub fn spawn(
    lib: Arc<Library>,
    rx: broadcast::Receiver<Event>,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let template = rx.resubscribe();
    let mut first = Some(rx);
    crate::supervise::spawn("torrent watcher", move || {
        // The first run reads what queued up since `rx` subscribed; a restart, from now.
        let rx = first.take().unwrap_or_else(|| template.resubscribe());
        run(lib.clone(), rx, shutdown.clone())
    })
}

async fn run(
    lib: Arc<Library>,
    mut rx: broadcast::Receiver<Event>,
    mut shutdown: watch::Receiver<bool>,
) {
    {
        let mut notifier = Notifier::default();
        loop {
            let ev = tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => ev,
                    // Missed events only delay saving until the next periodic save (and
                    // may cost a notification).
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("torrent watcher lagged behind the engine by {n} events");
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = shutdown.changed() => break,
            };
            notifier.on_event(&lib, &ev).await;
            if let Event::MetadataReceived { info_hash, .. } = &ev {
                if let Err(e) = lib.on_metadata(info_hash).await {
                    tracing::warn!("cannot store the metadata of {info_hash}: {e}");
                }
            }
            let ih = match ev {
                Event::Completed { info_hash }
                | Event::StateChanged { info_hash, .. }
                | Event::Error { info_hash, .. } => info_hash,
                _ => continue,
            };
            // A check that ended, a completion or a failure can free or need a slot.
            lib.update_queue();
            if let Err(e) = super::restore::save_progress(&lib, Some(&ih)).await {
                tracing::warn!("cannot save torrent {ih}: {e}");
            }
        }
    }
}
