//! Engine events → hub events: each gets its owner from the registry; progress and piece
//! events are coalesced; a lagging engine bus becomes a `resync` for everyone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::types::{ErrorUpdate, PiecesUpdate, ProgressUpdate, StateUpdate, TorrentRef};
use engine::events::Event;
use engine::status::TorrentState;
use engine::InfoHash;
use serde::Serialize;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::coalesce::{Coalescer, Ready};
use super::names::*;
use super::EventHub;
use crate::torrents::registry::Registry;

/// Runs until the engine bus closes or `shutdown` flips.
pub fn spawn(
    rx: broadcast::Receiver<Event>,
    hub: EventHub,
    registry: Arc<Registry>,
    interval: Duration,
    shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let template = rx.resubscribe();
    let mut first = Some(rx);
    crate::supervise::spawn("event adapter", move || {
        // The first run reads what queued up since `rx` subscribed; a restart, from now
        // (clients get a `resync`, as after a lag).
        let restarted = first.is_none();
        let rx = first.take().unwrap_or_else(|| template.resubscribe());
        if restarted {
            hub.publish(
                None,
                RESYNC,
                &json!({ "reason": "the event adapter restarted" }),
            );
        }
        run(
            rx,
            hub.clone(),
            registry.clone(),
            interval,
            shutdown.clone(),
        )
    })
}

async fn run(
    mut rx: broadcast::Receiver<Event>,
    hub: EventHub,
    registry: Arc<Registry>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    {
        let mut adapter = Adapter {
            hub,
            registry,
            coalescer: Coalescer::new(interval),
        };
        let mut tick = tokio::time::interval((interval / 4).max(Duration::from_millis(25)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => adapter.on_event(ev, Instant::now()),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("event adapter lagged behind the engine by {n} events");
                        adapter.hub.count_dropped(n);
                        adapter.hub.publish(None, RESYNC, &json!({ "reason": "events were lost" }));
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick() => {
                    for ready in adapter.coalescer.due_now(Instant::now()) {
                        adapter.publish_ready(ready);
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    }
}

struct Adapter {
    hub: EventHub,
    registry: Arc<Registry>,
    coalescer: Coalescer<ProgressUpdate>,
}

impl Adapter {
    fn publish<T: Serialize>(&self, ih: &InfoHash, name: &'static str, data: &T) {
        // No owner: the torrent is being removed; its events concern no one any more.
        if let Some(owner) = self.registry.owner(ih) {
            self.hub.publish(Some(owner), name, data);
        }
    }

    fn publish_ready(&self, ready: Ready<ProgressUpdate>) {
        match ready {
            Ready::Progress(ih, data) => self.publish(&ih, TORRENT_PROGRESS, &data),
            Ready::Pieces(ih, pieces) => self.publish(
                &ih,
                TORRENT_PIECE,
                &PiecesUpdate {
                    info_hash: ih.to_hex(),
                    pieces,
                },
            ),
        }
    }

    fn flush(&mut self, ih: &InfoHash, now: Instant) {
        for ready in self.coalescer.flush(ih, now) {
            self.publish_ready(ready);
        }
    }

    fn on_event(&mut self, ev: Event, now: Instant) {
        match ev {
            Event::Progress {
                info_hash,
                bytes_done,
                total_bytes,
                download_rate,
                upload_rate,
                peers,
            } => {
                let progress = if total_bytes == 0 {
                    0.0
                } else {
                    bytes_done as f64 / total_bytes as f64
                };
                let data = ProgressUpdate {
                    info_hash: info_hash.to_hex(),
                    bytes_done,
                    total_bytes,
                    progress,
                    download_rate,
                    upload_rate,
                    peers,
                };
                if let Some(ready) = self.coalescer.progress(info_hash, data, now) {
                    self.publish_ready(ready);
                }
            }
            Event::PieceVerified { info_hash, piece } => {
                if let Some(ready) = self.coalescer.piece(info_hash, piece, now) {
                    self.publish_ready(ready);
                }
            }
            Event::Completed { info_hash } => {
                self.flush(&info_hash, now);
                self.publish(
                    &info_hash,
                    TORRENT_COMPLETE,
                    &TorrentRef {
                        info_hash: info_hash.to_hex(),
                        files_deleted: None,
                    },
                );
            }
            Event::StateChanged { info_hash, state } => {
                self.flush(&info_hash, now);
                // As the API shows it: the owner's pause and the queue's hold are known here.
                let api = match self.registry.get(&info_hash) {
                    Some(e) => crate::torrents::view::shown_state(&e, state, || {
                        e.handle().is_some_and(|h| {
                            let st = h.status();
                            st.total_bytes > 0 && st.bytes_done >= st.total_bytes
                        })
                    }),
                    None => crate::torrents::view::api_state(state),
                };
                let name = if state == TorrentState::Seeding {
                    TORRENT_SEEDING
                } else {
                    QUEUE_UPDATED
                };
                self.publish(
                    &info_hash,
                    name,
                    &StateUpdate {
                        info_hash: info_hash.to_hex(),
                        state: api,
                        paused: None,
                        priority: None,
                    },
                );
            }
            Event::Error { info_hash, message } => {
                self.publish(
                    &info_hash,
                    TORRENT_ERROR,
                    &ErrorUpdate {
                        info_hash: info_hash.to_hex(),
                        message,
                    },
                );
            }
            Event::TorrentRemoved { info_hash } => self.coalescer.forget(&info_hash),
            // Bans concern the whole server: everyone sees them.
            Event::PeerBanned {
                ip,
                reason,
                info_hash,
            } => {
                let ban = engine::session::bans::Ban {
                    ip,
                    reason,
                    since: std::time::SystemTime::now(),
                };
                self.hub.publish(
                    None,
                    PEER_BANNED,
                    &app::types::PeerBanned {
                        ban: crate::torrents::bans::ban_info(&ban),
                        info_hash: info_hash.map(|h| h.to_hex()),
                    },
                );
            }
            // Added/removed are published by the library, which knows the owner for certain;
            // peer and tracker chatter is not forwarded.
            // The library stores the metainfo and publishes the renamed torrent.
            Event::TorrentAdded { .. }
            | Event::MetadataReceived { .. }
            | Event::PieceFailed { .. }
            | Event::PeerConnected { .. }
            | Event::PeerDisconnected { .. }
            | Event::TrackerAnnounced { .. } => {}
        }
    }
}
