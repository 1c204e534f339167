//! When a folder task looks again: on an inotify event (the `notify` crate, inotify only), on
//! the periodic rescan that catches what inotify misses (network file systems, a full event
//! queue), or soon while a dropped file may still be growing.

use std::time::Duration;

use tokio::sync::{mpsc, watch as signal};

/// A channel that inotify events poke (capacity one: a burst of events is one look), and
/// the watcher that feeds it; `None` when inotify cannot watch the folder (the periodic
/// rescan still runs).
pub(crate) fn inotify(
    dir: &std::path::Path,
    recursive: bool,
) -> (Option<notify::RecommendedWatcher>, mpsc::Receiver<()>) {
    use notify::Watcher;
    let (tx, rx) = mpsc::channel(1);
    let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if res.is_ok() {
            let _ = tx.try_send(());
        }
    })
    .and_then(|mut w| {
        let mode = if recursive {
            notify::RecursiveMode::Recursive
        } else {
            notify::RecursiveMode::NonRecursive
        };
        w.watch(dir, mode).map(|()| w)
    });
    match watcher {
        Ok(w) => (Some(w), rx),
        Err(e) => {
            tracing::warn!("cannot watch {} with inotify: {e}", dir.display());
            (None, rx)
        }
    }
}

/// Waits for an inotify poke (then a moment, so a burst settles), `every`, or the stop.
/// Returns false on shutdown.
pub(crate) async fn wait(
    poke: &mut mpsc::Receiver<()>,
    every: Duration,
    shutdown: &mut signal::Receiver<bool>,
) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        Some(()) = poke.recv() => {
            tokio::time::sleep(SETTLE).await;
            true
        }
        _ = tokio::time::sleep(every) => true,
        _ = shutdown.changed() => false,
    }
}

/// How long after an inotify event a folder is looked at, and between the two looks that
/// tell a dropped file is complete.
pub(crate) const SETTLE: Duration = Duration::from_millis(500);
