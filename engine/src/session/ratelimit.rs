//! Token buckets that cap transfer rates (session-wide and per torrent).
//!
//! A bucket refills continuously at its rate and holds at most a small fraction of a second
//! of tokens ([`DEPTH`], never less than one block), so a limited transfer never bursts a
//! whole second's worth. Callers take tokens *then* wait until the bucket is out of debt:
//! one read or one block batch may overdraw it, and the next caller pays, which keeps the
//! long-run rate exact without knowing sizes in advance. Rate `0` means unlimited and costs
//! one atomic load: [`RateLimiter::is_limited`] is checked before any lock or await.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How much a full bucket holds, as time at the current rate.
const DEPTH: Duration = Duration::from_millis(50);
/// A bucket holds at least one block plus its message header.
const MIN_DEPTH: u64 = 16 * 1024 + 13;
/// Longest single sleep, so a rate changed at run time is seen within this.
const MAX_SLEEP: Duration = Duration::from_millis(100);

/// One direction's bucket. Cheap to clone; clones share the bucket.
#[derive(Clone, Default)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bytes per second; 0 = unlimited.
    rate: AtomicU64,
    bucket: Mutex<Bucket>,
}

#[derive(Default)]
struct Bucket {
    /// Available bytes; negative while callers that overdrew it wait.
    tokens: f64,
    last: Option<Instant>,
}

impl Bucket {
    /// Adds what accrued since the last refill, capped at `depth`.
    fn refill(&mut self, rate: u64, now: Instant) {
        if let Some(last) = self.last {
            let dt = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + dt * rate as f64).min(depth(rate) as f64);
        }
        self.last = Some(now);
    }
}

/// Bucket capacity in bytes at `rate`.
fn depth(rate: u64) -> u64 {
    ((rate as f64 * DEPTH.as_secs_f64()) as u64).max(MIN_DEPTH)
}

impl RateLimiter {
    pub fn new(rate: u64) -> Self {
        let l = RateLimiter::default();
        l.set_rate(rate);
        l
    }

    /// Bytes per second, 0 = unlimited.
    pub fn rate(&self) -> u64 {
        self.inner.rate.load(Ordering::Relaxed)
    }

    /// The fast-path check: no lock, no await.
    #[inline]
    pub fn is_limited(&self) -> bool {
        self.rate() != 0
    }

    /// Changes the rate at once for current and future waiters (they re-check within
    /// [`MAX_SLEEP`]). A debt run up at the old rate is forgiven beyond one bucket, so a
    /// raised limit is not held back by what a low one owed.
    pub fn set_rate(&self, rate: u64) {
        let mut b = lock(&self.inner.bucket);
        let old = self.inner.rate.swap(rate, Ordering::Relaxed);
        if old != 0 {
            b.refill(old, Instant::now());
        } else {
            // Leaving unlimited: start with an empty bucket, no stored burst.
            b.tokens = 0.0;
            b.last = Some(Instant::now());
        }
        if rate != 0 {
            let d = depth(rate) as f64;
            b.tokens = b.tokens.clamp(-d, d);
        }
    }

    /// Bytes a caller should move per acquisition: one bucket's worth (at least a block).
    pub fn chunk(&self) -> Option<u64> {
        let r = self.rate();
        (r != 0).then(|| depth(r))
    }

    /// Takes `n` bytes' worth of tokens and waits until the bucket is out of debt.
    /// Returns at once when unlimited (also if the limit is lifted while waiting).
    pub async fn acquire(&self, n: u64) {
        let rate = self.rate();
        if rate == 0 {
            return;
        }
        {
            let mut b = lock(&self.inner.bucket);
            b.refill(rate, Instant::now());
            b.tokens -= n as f64;
        }
        loop {
            let rate = self.rate();
            if rate == 0 {
                return;
            }
            let wait = {
                let mut b = lock(&self.inner.bucket);
                b.refill(rate, Instant::now());
                if b.tokens >= 0.0 {
                    return;
                }
                Duration::from_secs_f64(-b.tokens / rate as f64)
            };
            tokio::time::sleep(wait.clamp(Duration::from_millis(1), MAX_SLEEP)).await;
        }
    }
}

/// Download and upload buckets of one scope: the session or one torrent.
#[derive(Clone, Default)]
pub struct RateLimits {
    pub down: RateLimiter,
    pub up: RateLimiter,
}

impl RateLimits {
    /// Sets both rates (bytes per second, 0 = unlimited).
    pub fn set(&self, down: u64, up: u64) {
        self.down.set_rate(down);
        self.up.set_rate(up);
    }

    /// `(download, upload)` bytes per second, 0 = unlimited.
    pub fn get(&self) -> (u64, u64) {
        (self.down.rate(), self.up.rate())
    }
}

/// The buckets one connection answers to: its torrent's and the session's. Both apply, so
/// the stricter wins.
#[derive(Clone, Default)]
pub(crate) struct PeerLimits {
    pub torrent: RateLimits,
    pub session: RateLimits,
}

impl PeerLimits {
    /// Largest download read worth taking at once, `None` when nothing limits downloads.
    pub fn down_chunk(&self) -> Option<u64> {
        min_chunk(&self.torrent.down, &self.session.down)
    }

    /// Largest upload batch worth sending at once, `None` when nothing limits uploads.
    pub fn up_chunk(&self) -> Option<u64> {
        min_chunk(&self.torrent.up, &self.session.up)
    }

    pub async fn acquire_down(&self, n: u64) {
        acquire_both(&self.torrent.down, &self.session.down, n).await;
    }

    pub async fn acquire_up(&self, n: u64) {
        acquire_both(&self.torrent.up, &self.session.up, n).await;
    }
}

fn min_chunk(a: &RateLimiter, b: &RateLimiter) -> Option<u64> {
    match (a.chunk(), b.chunk()) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

async fn acquire_both(a: &RateLimiter, b: &RateLimiter, n: u64) {
    if a.is_limited() {
        a.acquire(n).await;
    }
    if b.is_limited() {
        b.acquire(n).await;
    }
}

fn lock(m: &Mutex<Bucket>) -> std::sync::MutexGuard<'_, Bucket> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moves `chunk`-sized acquisitions for `secs` of paused time; returns bytes per second.
    async fn measure(l: &RateLimiter, chunk: u64, secs: u64) -> f64 {
        let start = Instant::now();
        let mut moved = 0u64;
        while start.elapsed() < Duration::from_secs(secs) {
            l.acquire(chunk).await;
            moved += chunk;
        }
        moved as f64 / start.elapsed().as_secs_f64()
    }

    fn within(got: f64, want: f64, tolerance: f64) -> bool {
        (got - want).abs() <= want * tolerance
    }

    #[tokio::test(start_paused = true)]
    async fn holds_the_rate() {
        for rate in [1 << 20, 10 << 20, 50_000] {
            // One chunk of slack over the window: 16 KiB of 500 kB at the slowest rate.
            let l = RateLimiter::new(rate);
            let got = measure(&l, 16 * 1024, 10).await;
            assert!(within(got, rate as f64, 0.04), "rate {rate}: got {got}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn big_acquisitions_average_out() {
        let l = RateLimiter::new(1 << 20);
        let got = measure(&l, 512 * 1024, 10).await;
        assert!(within(got, (1 << 20) as f64, 0.06), "got {got}");
    }

    #[tokio::test(start_paused = true)]
    async fn no_burst_after_idle() {
        let l = RateLimiter::new(1 << 20);
        l.acquire(1).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        // Five idle seconds bank at most one bucket (50 ms), not five seconds' worth.
        let start = Instant::now();
        let mut moved = 0u64;
        while start.elapsed() < Duration::from_millis(1) {
            l.acquire(16 * 1024).await;
            moved += 16 * 1024;
        }
        assert!(moved <= depth(1 << 20) + 16 * 1024, "burst of {moved}");
    }

    #[tokio::test(start_paused = true)]
    async fn change_at_run_time() {
        let l = RateLimiter::new(100 * 1024);
        let waiter = {
            let l = l.clone();
            tokio::spawn(async move {
                // Ten seconds of debt at the old rate.
                l.acquire(1024 * 1024).await;
                Instant::now()
            })
        };
        let t0 = Instant::now();
        tokio::time::sleep(Duration::from_millis(200)).await;
        l.set_rate(100 << 20);
        let done = waiter.await.expect("waiter");
        assert!(
            done - t0 < Duration::from_millis(400),
            "took {:?}",
            done - t0
        );
        let got = measure(&l, 64 * 1024, 3).await;
        assert!(within(got, (100 << 20) as f64, 0.02), "got {got}");
        l.set_rate(200 * 1024);
        let got = measure(&l, 16 * 1024, 5).await;
        assert!(within(got, 200.0 * 1024.0, 0.03), "got {got}");
    }

    #[tokio::test(start_paused = true)]
    async fn lifting_the_limit_releases_waiters() {
        let l = RateLimiter::new(1024);
        let w = {
            let l = l.clone();
            tokio::spawn(async move { l.acquire(1 << 20).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        l.set_rate(0);
        tokio::time::timeout(Duration::from_millis(150), w)
            .await
            .expect("released")
            .expect("task");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_is_free() {
        let l = RateLimiter::default();
        assert!(!l.is_limited());
        assert_eq!(l.chunk(), None);
        let start = Instant::now();
        for _ in 0..1000 {
            l.acquire(1 << 30).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_stricter_scope_wins() {
        let p = PeerLimits::default();
        p.session.set(4 << 20, 0);
        p.torrent.set(1 << 20, 0);
        assert_eq!(p.down_chunk(), Some(depth(1 << 20)));
        assert_eq!(p.up_chunk(), None);
        let start = Instant::now();
        let mut moved = 0u64;
        while start.elapsed() < Duration::from_secs(5) {
            p.acquire_down(16 * 1024).await;
            moved += 16 * 1024;
        }
        let got = moved as f64 / start.elapsed().as_secs_f64();
        assert!(within(got, (1 << 20) as f64, 0.03), "got {got}");
    }

    #[tokio::test(start_paused = true)]
    async fn shared_between_many_callers() {
        let l = RateLimiter::new(2 << 20);
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let l = l.clone();
                tokio::spawn(async move {
                    let mut moved = 0u64;
                    while start.elapsed() < Duration::from_secs(5) {
                        l.acquire(16 * 1024).await;
                        moved += 16 * 1024;
                    }
                    moved
                })
            })
            .collect();
        let mut total = 0;
        for t in tasks {
            total += t.await.expect("task");
        }
        let got = total as f64 / start.elapsed().as_secs_f64();
        assert!(within(got, (2 << 20) as f64, 0.03), "got {got}");
    }
}
