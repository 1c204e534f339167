//! Bringing stored torrents back at start, and saving their counters while they run.

use std::path::PathBuf;
use std::time::Duration;

use app::types::{Priority, TorrentState};
use engine::magnet::Magnet;
use engine::metainfo::Metainfo;
use engine::session::AddTorrentOptions;
use engine::InfoHash;

use super::registry::{Entry, Runner};
use super::{clamp_i64, view, Library, LibraryError};
use crate::db::now_unix;
use crate::db::torrents::{self as store, Progress};

/// Adds every stored torrent to the engine in its saved state (paused stays paused). The
/// engine checks the data on disk first, so partly downloaded torrents carry on from what
/// is verified. A torrent that cannot be restored is kept, in the error state. Under a cap
/// (when it is already set), the others start held and the queue decides which run.
pub async fn restore_all(lib: &Library) -> Result<usize, LibraryError> {
    let rows = store::all(&lib.db).await?;
    let hold = lib.max_active() > 0;
    let limits = crate::db::settings::torrent_limits(&lib.db).await?;
    let chosen = crate::db::selection::all(&lib.db).await?;
    let mut restored = 0;
    for row in rows {
        let Ok(ih) = InfoHash::from_hex(&row.info_hash) else {
            tracing::warn!(
                "skipping stored torrent with a bad info-hash {:?}",
                row.info_hash
            );
            continue;
        };
        let entry = Entry {
            info_hash: ih,
            owner_id: row.owner_id,
            name: row.name.clone(),
            save_path: PathBuf::from(&row.save_path),
            priority: Priority::parse(&row.priority).unwrap_or_default(),
            paused: row.paused,
            added_at: row.added_at,
            added_ms: row.added_ms,
            completed_at: row.completed_at,
            base_uploaded: row.uploaded.max(0) as u64,
            base_downloaded: row.downloaded.max(0) as u64,
            saved_bytes_done: row.bytes_done.max(0) as u64,
            saved_total_bytes: row.total_bytes.max(0) as u64,
            runner: Runner::Adding,
            magnet: row.magnet.clone(),
            queued: false,
        };
        if !lib.registry.reserve(entry) {
            continue;
        }
        let stored = chosen.get(&row.info_hash).cloned().unwrap_or_default();
        if let Some(g) = stored.goals {
            lib.goals.set_torrent(ih, g);
        }
        lib.goals
            .set_seeded(ih, Duration::from_secs(stored.seconds_seeding));
        let selection = engine::selection::SelectionState {
            priorities: stored
                .priorities
                .iter()
                .copied()
                .map(super::selection::to_engine)
                .collect(),
            sequential: stored.sequential,
            first_last: stored.first_last_piece,
        };
        let runner = match (&row.metainfo, &row.magnet) {
            (Some(bytes), _) => match Metainfo::from_bytes(bytes) {
                Ok(meta) => {
                    let opts = AddTorrentOptions {
                        save_dir: PathBuf::from(&row.save_path),
                        paused: row.paused || hold,
                        peers: Vec::new(),
                        selection: selection.clone(),
                        created_at: None,
                    };
                    match lib.session.add_torrent(meta, opts).await {
                        Ok(h) => {
                            restored += 1;
                            Runner::Engine(h)
                        }
                        Err(e) => Runner::Failed {
                            error: format!("cannot restore: {e}"),
                        },
                    }
                }
                Err(e) => Runner::Failed {
                    error: format!("stored torrent is unreadable: {e}"),
                },
            },
            (None, Some(uri)) => {
                let opts = AddTorrentOptions {
                    save_dir: PathBuf::from(&row.save_path),
                    paused: row.paused || hold,
                    peers: Vec::new(),
                    selection,
                    created_at: None,
                };
                match Magnet::parse(uri)
                    .map_err(|e| e.to_string())
                    .and_then(|m| lib.session.add_magnet(&m, opts).map_err(|e| e.to_string()))
                {
                    Ok(h) => {
                        restored += 1;
                        Runner::Engine(h)
                    }
                    Err(e) => Runner::Failed {
                        error: format!("cannot restore the magnet link: {e}"),
                    },
                }
            }
            (None, None) => Runner::Failed {
                error: "stored torrent has neither metainfo nor a magnet link".into(),
            },
        };
        if let Runner::Failed { error } = &runner {
            tracing::warn!("torrent {}: {error}", row.info_hash);
        }
        if let (Runner::Engine(h), Some((down, up))) = (&runner, limits.get(&row.info_hash)) {
            h.set_rate_limits(*down, *up);
        }
        if let (Runner::Engine(h), true) = (&runner, stored.super_seeding) {
            h.set_super_seeding(true);
        }
        let queued = hold && !row.paused && matches!(runner, Runner::Engine(_));
        lib.registry.update(&ih, |e| {
            e.runner = runner;
            e.queued = queued;
        });
    }
    lib.update_queue();
    Ok(restored)
}

/// Saves state and lifetime totals of running torrents (one, or all when `only` is None)
/// that changed since they were last saved; marks newly complete ones.
pub async fn save_progress(lib: &Library, only: Option<&InfoHash>) -> Result<(), LibraryError> {
    let entries = lib
        .registry
        .filtered(|e| e.handle().is_some() && only.is_none_or(|ih| *ih == e.info_hash));
    let now = now_unix();
    let mut items = Vec::with_capacity(entries.len());
    for e in entries {
        let Some(h) = e.handle() else { continue };
        let st = h.status();
        let s = view::summary(&e, Some(&st));
        let complete = st.total_bytes > 0 && st.bytes_done == st.total_bytes;
        let completed_at = match e.completed_at {
            Some(t) => Some(t),
            None if complete => {
                lib.registry.update(&e.info_hash, |e| {
                    e.completed_at.get_or_insert(now);
                });
                Some(now)
            }
            None => None,
        };
        items.push(Progress {
            info_hash: s.info_hash,
            state: if e.paused && s.state != TorrentState::Error {
                TorrentState::Paused.as_str().into()
            } else {
                s.state.as_str().into()
            },
            uploaded: clamp_i64(s.uploaded),
            downloaded: clamp_i64(s.downloaded),
            bytes_done: clamp_i64(s.bytes_done),
            total_bytes: clamp_i64(s.total_bytes),
            error: s.error,
            completed_at,
            seconds_seeding: clamp_i64(lib.goals.seeded(&e.info_hash).as_secs()),
        });
    }
    let changed: Vec<Progress> = {
        let saved = lib.saved.lock().unwrap_or_else(|e| e.into_inner());
        items
            .into_iter()
            .filter(|p| {
                InfoHash::from_hex(&p.info_hash).map_or(true, |ih| saved.get(&ih) != Some(p))
            })
            .collect()
    };
    store::save_progress(&lib.db, &changed).await?;
    let mut saved = lib.saved.lock().unwrap_or_else(|e| e.into_inner());
    for p in changed {
        if let Ok(ih) = InfoHash::from_hex(&p.info_hash) {
            saved.insert(ih, p);
        }
    }
    Ok(())
}
