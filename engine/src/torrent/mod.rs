//! One torrent: shared state, piece assembly and hashing, announces, choking, dialing.
//!
//! Peer tasks apply whole batches of messages under the torrent lock (`incoming`), a
//! driver task runs the lifecycle and the 1 s tick (`driver`, `tick`), completed pieces are
//! hashed and written on the session's hashing threads (`hashpool`, `verify`).

mod announce;
pub(crate) mod assembly;
mod banning;
pub(crate) mod choker;
mod connect;
pub(crate) mod dht_lookup;
pub(crate) mod dialer;
mod driver;
mod extensions;
mod handle;
mod handler;
mod incoming;
mod peers;
mod resume;
mod select;
pub(crate) mod shared;
pub(crate) mod slot;
mod smart_ban;
pub(crate) mod stream;
mod super_seed;
mod tick;
mod verify;
mod web_seeds;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

pub(crate) use connect::is_self;
pub use handle::TorrentHandle;
pub use stream::{FileStream, StreamError, READ_AHEAD};

use crate::events::Event;
use crate::metainfo::Metainfo;
use crate::picker::Picker;
use crate::selection::Selection;
use crate::session::env::Env;
use crate::session::ratelimit::RateLimits;
use crate::status::{PeerSource, TorrentState};
use crate::storage::Storage;
use crate::tracker::TrackerStatus;
use crate::InfoHash;
use shared::{Shared, Stats};

/// What the owner wants the torrent to do.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Control {
    Run,
    Pause,
    Stop,
}

pub(crate) struct Torrent {
    pub info_hash: InfoHash,
    pub meta: Arc<Metainfo>,
    pub storage: Arc<Storage>,
    pub env: Arc<Env>,
    shared: Mutex<Shared>,
    /// Shared with the torrent's [`slot::Slot`], which owns it across stages.
    pub control: Arc<watch::Sender<Control>>,
    /// Latest tracker snapshot, published by the announce task.
    pub trackers: Mutex<Vec<TrackerStatus>>,
    /// Wakes the driver to dial newly learned addresses.
    pub dial_wake: Notify,
    /// Wakes the announce task to send `completed`.
    pub completed_wake: Notify,
    driver: Mutex<Option<JoinHandle<()>>>,
    /// Serializes piece writes: the kernel serializes writes to one file anyway, and
    /// hashers that queue here sleep instead of spinning on the inode lock.
    pub write_lock: Arc<Mutex<()>>,
    /// Fast-resume bookkeeping (`resume`).
    resume: resume::ResumeTrack,
    /// This torrent's rate limits, shared with its slot.
    pub limits: RateLimits,
    /// File priorities and sequential order (shared with its slot).
    pub selection: Selection,
    /// Blocks of failed pieces awaiting a verdict (`smart_ban`). Never taken under `shared`.
    smart_ban: Mutex<smart_ban::SmartBan>,
    /// BEP 16 super-seeding wanted (in force only while seeding).
    super_seed: std::sync::atomic::AtomicBool,
    /// Bumped whenever pieces become verified (streams wait on it).
    pub verified: watch::Sender<u64>,
}

impl Torrent {
    pub fn new(
        meta: Arc<Metainfo>,
        storage: Arc<Storage>,
        env: Arc<Env>,
        peers: &[(SocketAddr, PeerSource)],
        control: Arc<watch::Sender<Control>>,
        limits: RateLimits,
        selection: Selection,
    ) -> Arc<Self> {
        let now = Instant::now();
        let mut book = dialer::PeerBook::default();
        for (a, source) in peers {
            book.add(*a, *source, now);
        }
        let shared = Shared {
            state: TorrentState::Checking,
            error: None,
            picker: {
                let mut picker = Picker::new(meta.piece_length, meta.total_length);
                let chosen = selection.get();
                picker.set_priorities(&chosen.piece_levels(storage.layout()));
                picker.set_sequential(chosen.sequential);
                picker
            },
            assembly: Default::default(),
            peers: Default::default(),
            book,
            connecting: 0,
            accepting: false,
            stats: Stats::default(),
            pick_scratch: Vec::new(),
            choker: choker::Choker::new(env.upload_slots.per_torrent()),
            down_meter: Default::default(),
            up_meter: Default::default(),
            ban_generation: 0,
            reveals: Default::default(),
            recent_ends: Default::default(),
            streams: Default::default(),
            web_seeds: web_seeds::WebSeeds::new(&meta.web_seeds, meta.piece_hashes.len(), || {
                env.next_peer_key()
            }),
        };
        Arc::new(Torrent {
            info_hash: meta.info_hash,
            meta,
            storage,
            env,
            shared: Mutex::new(shared),
            control,
            trackers: Mutex::new(Vec::new()),
            dial_wake: Notify::new(),
            completed_wake: Notify::new(),
            driver: Mutex::new(None),
            write_lock: Arc::new(Mutex::new(())),
            resume: Default::default(),
            limits,
            selection,
            smart_ban: Default::default(),
            super_seed: Default::default(),
            verified: watch::channel(0).0,
        })
    }

    /// Whether super-seeding is in force: wanted, and the torrent seeds.
    pub(crate) fn super_seeding(&self, state: TorrentState) -> bool {
        state == TorrentState::Seeding && self.super_seed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Turns super-seeding on or off. Peers connected while it is on keep being revealed
    /// pieces one at a time; turning it off tells them everything.
    pub(crate) fn set_super_seed(&self, on: bool) {
        self.super_seed
            .store(on, std::sync::atomic::Ordering::Relaxed);
        if !on {
            let mut guard = self.lock();
            let sh = &mut *guard;
            for p in sh.peers.values_mut() {
                if p.superseed.is_some() {
                    super_seed::reveal_all(&sh.picker, &mut sh.reveals, p);
                }
            }
        }
    }

    /// Starts the lifecycle task (checking, then running or paused).
    pub fn start(self: &Arc<Self>) {
        let task = tokio::spawn(driver::run(self.clone()));
        *lock(&self.driver) = Some(task);
    }

    /// Stops peers and announces, then waits (bounded) for the lifecycle task to end.
    pub async fn stop(&self) {
        self.control.send_replace(Control::Stop);
        // Checking cannot be interrupted mid-piece; do not let it hold up a removal.
        join_bounded(&self.driver).await;
        self.lock().assembly.clear(&self.env.buffers);
    }

    /// [`Self::stop`], then the final resume record (unless the torrent failed).
    pub async fn stop_and_save(self: &Arc<Self>) {
        self.stop().await;
        if self.lock().state != TorrentState::Error {
            let t = self.clone();
            let _ = tokio::task::spawn_blocking(move || t.save_resume()).await;
        }
    }

    /// The torrent lock. A panic elsewhere must not wedge the engine, so poison is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// Length of piece `i` in bytes.
    pub fn piece_size(&self, piece: u32) -> usize {
        self.storage.layout().piece_len(piece) as usize
    }

    pub fn num_pieces(&self) -> u32 {
        self.storage.layout().num_pieces()
    }

    /// Changes state and tells subscribers, if it actually changed.
    pub fn set_state(&self, sh: &mut Shared, state: TorrentState) {
        if sh.state != state {
            sh.state = state;
            self.env.emit(Event::StateChanged {
                info_hash: self.info_hash,
                state,
            });
        }
    }

    /// A storage failure: stop serving and downloading, keep the message for the UI.
    pub fn fail(&self, message: String) {
        tracing::error!(torrent = %self.info_hash, %message, "torrent failed");
        let mut sh = self.lock();
        sh.error = Some(message.clone());
        sh.accepting = false;
        self.set_state(&mut sh, TorrentState::Error);
        for p in sh.peers.values() {
            p.disconnect();
        }
        drop(sh);
        self.env.emit(Event::Error {
            info_hash: self.info_hash,
            message,
        });
    }
}

/// Waits up to 5 s for the task in `slot` (taken out of it) to end, then aborts it.
pub(crate) async fn join_bounded(slot: &Mutex<Option<JoinHandle<()>>>) {
    let task = lock(slot).take();
    if let Some(task) = task {
        let abort = task.abort_handle();
        if tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Locks a std mutex, ignoring poison (state stays usable; a panic is already logged).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
