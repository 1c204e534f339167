//! A torrent as the session holds it, from the moment it is added (maybe as a bare magnet)
//! until it is removed. See `STATE.md` beside this file for the whole state machine.

use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{join_bounded, lock, Control, Torrent};
use crate::metadata::Fetcher;
use crate::selection::Selection;
use crate::session::ratelimit::RateLimits;
use crate::InfoHash;

/// Which part of its life a torrent is in.
#[derive(Clone)]
pub(crate) enum Stage {
    /// No metadata yet: the fetcher serves its connections.
    Metadata(Arc<Fetcher>),
    /// Metadata, storage and picker: the torrent serves its connections.
    Live(Arc<Torrent>),
    /// The metadata arrived but the torrent could not be set up (bad geometry, storage).
    Failed(String),
}

pub(crate) struct Slot {
    pub info_hash: InfoHash,
    /// A name to show before the metadata has one (`dn`, else the info-hash).
    pub name: String,
    /// What the owner wants; shared by every stage, so pausing a magnet carries over.
    pub control: Arc<watch::Sender<Control>>,
    stage: RwLock<Stage>,
    /// Per-torrent rate limits, shared by every stage (set before the metadata arrives,
    /// they carry over).
    pub limits: RateLimits,
    /// File priorities and sequential order, shared by every stage like `limits`.
    pub selection: Selection,
    /// The magnet stage's task (fetch, then set up the torrent).
    driver: Mutex<Option<JoinHandle<()>>>,
}

impl Slot {
    pub fn new(
        info_hash: InfoHash,
        name: String,
        stage: Stage,
        control: Arc<watch::Sender<Control>>,
        limits: RateLimits,
        selection: Selection,
    ) -> Arc<Self> {
        Arc::new(Slot {
            info_hash,
            name,
            control,
            stage: RwLock::new(stage),
            limits,
            selection,
            driver: Mutex::new(None),
        })
    }

    pub fn control(paused: bool) -> Arc<watch::Sender<Control>> {
        Arc::new(watch::channel(if paused { Control::Pause } else { Control::Run }).0)
    }

    pub fn stage(&self) -> Stage {
        self.stage.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_stage(&self, stage: Stage) {
        *self.stage.write().unwrap_or_else(|e| e.into_inner()) = stage;
    }

    pub fn set_driver(&self, task: JoinHandle<()>) {
        *lock(&self.driver) = Some(task);
    }

    /// Stops whatever runs (announcing `stopped`, bounded) and waits for it.
    pub async fn stop(&self) {
        self.control.send_replace(Control::Stop);
        join_bounded(&self.driver).await;
        if let Stage::Live(t) = self.stage() {
            t.stop_and_save().await;
        }
    }
}
