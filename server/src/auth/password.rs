//! Password hashing with Argon2id (the argon2 crate's default parameters), off the async runtime.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("hashing task failed")]
    Join,
}

/// Hashes running at once, whatever the number of requests: each costs argon2's 19 MiB and a
/// core for tens of milliseconds, so unbounded concurrency would exhaust memory and starve
/// the blocking pool the engine's disk work shares. Waiting requests cost almost nothing.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores.clamp(1, MAX_CONCURRENT_HASHES))
    })
}

/// Upper bound on concurrent argon2 computations.
pub const MAX_CONCURRENT_HASHES: usize = 4;

/// Argon2 computations running now, and the most seen at once (for the test of the bound).
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Counts one computation while it lives.
struct Running;

impl Running {
    fn start() -> Running {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(now, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A PHC string (`$argon2id$v=19$...`) for `password`.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|_| PasswordError::Join)?;
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let _running = Running::start();
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| PasswordError::Hash(e.to_string()))
    })
    .await
    .map_err(|_| PasswordError::Join)?
}

/// Whether `password` matches `hash`. With no stored hash (unknown user) a dummy hash is
/// checked anyway, so the answer takes as long as for a real user.
pub async fn verify(password: &str, hash: Option<&str>) -> Result<bool, PasswordError> {
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|_| PasswordError::Join)?;
    let password = password.to_owned();
    let known = hash.is_some();
    let hash = hash.map_or_else(|| dummy_hash().to_owned(), str::to_owned);
    tokio::task::spawn_blocking(move || {
        let _running = Running::start();
        let parsed = PasswordHash::new(&hash).map_err(|e| PasswordError::Hash(e.to_string()))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|_| PasswordError::Join)?
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a password anyone has", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let h = hash("correct horse").await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("correct horse", Some(&h)).await.unwrap());
        assert!(!verify("wrong horse", Some(&h)).await.unwrap());
        assert!(!verify("correct horse", None).await.unwrap());
        assert_ne!(hash("correct horse").await.unwrap(), h, "salted");
    }

    /// Many hashes at once never run more than the bound at the same time.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_hashing_is_bounded() {
        let tasks: Vec<_> = (0..12)
            .map(|i| tokio::spawn(async move { hash(&format!("password {i}")).await }))
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let peak = PEAK.load(Ordering::SeqCst);
        assert!((1..=MAX_CONCURRENT_HASHES).contains(&peak), "peak {peak}");
    }
}
