//! A fixed set of threads that hash and store completed pieces, session-wide.
//!
//! Why not `spawn` + `spawn_blocking` per piece: that costs three cross-thread wake-ups per
//! piece (a runtime worker for the task, a blocking-pool thread for the hash, the worker again
//! for the result), and on a VM each wake-up of an idle CPU is expensive. Here a job carries the
//! whole verdict handling, runs start to finish on one thread, and the only wake-up is for an
//! idle hasher when a job is queued. Jobs must not block on async code: they use the torrent's
//! std lock and unbounded channels only.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads waiting for a job (only then does `submit` notify).
    idle: usize,
    closed: bool,
}

#[derive(Default)]
struct Inner {
    queue: Mutex<Queue>,
    ready: Condvar,
}

pub(crate) struct HashPool {
    threads: usize,
    inner: Arc<Inner>,
    /// Threads start on the first job, so a session that never downloads has none.
    started: OnceLock<()>,
}

impl HashPool {
    pub fn new(threads: usize) -> Self {
        HashPool {
            threads: threads.max(1),
            inner: Arc::default(),
            started: OnceLock::new(),
        }
    }

    /// Queues `job`; it runs on a pool thread, in submission order with up to `threads` at once.
    /// A job that panics is dropped (the panic is logged by the default hook) and the thread
    /// carries on, so callers should make a panic visible themselves if it matters.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) {
        self.started.get_or_init(|| {
            for i in 0..self.threads {
                let inner = self.inner.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("te-hash-{i}"))
                    .spawn(move || worker(&inner));
                if let Err(e) = spawned {
                    tracing::error!("cannot start a hashing thread: {e}");
                }
            }
        });
        let mut q = lock(&self.inner.queue);
        q.jobs.push_back(Box::new(job));
        if q.idle > 0 {
            self.inner.ready.notify_one();
        }
    }
}

impl Drop for HashPool {
    /// Threads finish the queued jobs, then exit.
    fn drop(&mut self) {
        lock(&self.inner.queue).closed = true;
        self.inner.ready.notify_all();
    }
}

fn worker(inner: &Inner) {
    let mut q = lock(&inner.queue);
    loop {
        if let Some(job) = q.jobs.pop_front() {
            drop(q);
            let _ = catch_unwind(AssertUnwindSafe(job));
            q = lock(&inner.queue);
            continue;
        }
        if q.closed {
            return;
        }
        q.idle += 1;
        q = inner.ready.wait(q).unwrap_or_else(|e| e.into_inner());
        q.idle -= 1;
    }
}

fn lock(m: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;

    #[test]
    fn runs_every_job_and_survives_panics() {
        let pool = HashPool::new(2);
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        for i in 0..100 {
            let (done, tx) = (done.clone(), tx.clone());
            pool.submit(move || {
                if i == 50 {
                    panic!("job panics on purpose");
                }
                done.fetch_add(1, Ordering::SeqCst);
                let _ = tx.send(());
            });
        }
        for _ in 0..99 {
            rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 99);
        drop(pool); // threads exit once the queue is empty
    }
}
