//! Each torrent's file priorities, sequential flag and own seeding goals (columns of
//! `torrents`, JSON where a value has parts), so a restart brings them back.

use std::collections::HashMap;

use app::types::{FilePriority, TorrentGoals};
use sqlx::Row;

use super::{Db, DbError};

/// What a torrent was told beyond its defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    pub priorities: Vec<FilePriority>,
    pub sequential: bool,
    pub goals: Option<TorrentGoals>,
}

pub async fn set_file_priorities(
    db: &Db,
    info_hash: &str,
    priorities: &[FilePriority],
) -> Result<(), DbError> {
    let json = serde_json::to_string(priorities).unwrap_or_default();
    sqlx::query("UPDATE torrents SET file_priorities = $1 WHERE info_hash = $2")
        .bind(json)
        .bind(info_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn set_sequential(db: &Db, info_hash: &str, on: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE torrents SET sequential = $1 WHERE info_hash = $2")
        .bind(i64::from(on))
        .bind(info_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn set_goals(db: &Db, info_hash: &str, goals: &TorrentGoals) -> Result<(), DbError> {
    let json = serde_json::to_string(goals).unwrap_or_default();
    sqlx::query("UPDATE torrents SET seeding_goals = $1 WHERE info_hash = $2")
        .bind(json)
        .bind(info_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Every torrent with a selection or goals: info-hash (hex) → what was stored. A value that
/// does not parse is dropped (the torrent falls back to its defaults) with a warning.
pub async fn all(db: &Db) -> Result<HashMap<String, Stored>, DbError> {
    let rows = sqlx::query(
        "SELECT info_hash, file_priorities, sequential, seeding_goals FROM torrents \
         WHERE file_priorities IS NOT NULL OR sequential <> 0 OR seeding_goals IS NOT NULL",
    )
    .fetch_all(db.pool())
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let ih: String = r.try_get("info_hash")?;
        let prios: Option<String> = r.try_get("file_priorities")?;
        let goals: Option<String> = r.try_get("seeding_goals")?;
        let parse_warn = |what: &str, e: serde_json::Error| {
            tracing::warn!("torrent {ih}: stored {what} unreadable, using defaults: {e}");
        };
        let priorities = prios
            .and_then(|j| {
                serde_json::from_str(&j)
                    .map_err(|e| parse_warn("priorities", e))
                    .ok()
            })
            .unwrap_or_default();
        let goals = goals.and_then(|j| {
            serde_json::from_str(&j)
                .map_err(|e| parse_warn("goals", e))
                .ok()
        });
        let sequential = r.try_get::<i64, _>("sequential")? != 0;
        out.insert(
            ih.clone(),
            Stored {
                priorities,
                sequential,
                goals,
            },
        );
    }
    Ok(out)
}
