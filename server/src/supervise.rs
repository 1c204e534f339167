//! Background tasks that must not die quietly (event adapter, torrent watcher, statistics,
//! speed schedule, DHT saver): a panic is logged and the task starts again, after a pause
//! that doubles with each panic in a row (100 ms up to 30 s); a normal return ends it.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(30);
/// A run this long resets the pause: the panics are no longer "in a row".
const STABLE: Duration = Duration::from_secs(60);

/// Runs `make()` until it returns; a fresh `make()` replaces a run that panicked.
pub fn spawn<F, Fut>(name: &'static str, mut make: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut pause = FIRST_PAUSE;
        loop {
            let started = tokio::time::Instant::now();
            match tokio::spawn(make()).await {
                Ok(()) => return,
                Err(e) if e.is_panic() => {
                    if started.elapsed() >= STABLE {
                        pause = FIRST_PAUSE;
                    }
                    tracing::error!(
                        task = name,
                        "background task panicked; restarting in {pause:?}"
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_PAUSE);
                }
                // Aborted (runtime shutting down): nothing to restart.
                Err(_) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_panicking_task_is_restarted_until_it_returns() {
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        let task = spawn("test", move || {
            let r = r.clone();
            async move {
                if r.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("boom");
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("supervisor never ended")
            .expect("supervisor itself panicked");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            3,
            "two panics, then a clean run"
        );
    }
}
