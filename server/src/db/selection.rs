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

/// The stored columns as text (JSON where a value has parts), the same in every store.
pub struct Raw {
    pub info_hash: String,
    pub file_priorities: Option<String>,
    pub sequential: bool,
    pub seeding_goals: Option<String>,
}

pub async fn set_file_priorities(
    db: &Db,
    info_hash: &str,
    priorities: &[FilePriority],
) -> Result<(), DbError> {
    let json = serde_json::to_string(priorities).unwrap_or_default();
    let pool = super::sql_or_mongo!(db, |m| super::mongo::selection::set_text(
        m,
        info_hash,
        "file_priorities",
        &json
    ));
    sqlx::query("UPDATE torrents SET file_priorities = $1 WHERE info_hash = $2")
        .bind(json)
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_sequential(db: &Db, info_hash: &str, on: bool) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::selection::set_sequential(
        m, info_hash, on
    ));
    sqlx::query("UPDATE torrents SET sequential = $1 WHERE info_hash = $2")
        .bind(i64::from(on))
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_goals(db: &Db, info_hash: &str, goals: &TorrentGoals) -> Result<(), DbError> {
    let json = serde_json::to_string(goals).unwrap_or_default();
    let pool = super::sql_or_mongo!(db, |m| super::mongo::selection::set_text(
        m,
        info_hash,
        "seeding_goals",
        &json
    ));
    sqlx::query("UPDATE torrents SET seeding_goals = $1 WHERE info_hash = $2")
        .bind(json)
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Every torrent with a selection or goals: info-hash (hex) → what was stored. A value that
/// does not parse is dropped (the torrent falls back to its defaults) with a warning.
pub async fn all(db: &Db) -> Result<HashMap<String, Stored>, DbError> {
    let raw = all_raw(db).await?;
    Ok(raw.into_iter().map(parse).collect())
}

async fn all_raw(db: &Db) -> Result<Vec<Raw>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::selection::all(m));
    let rows = sqlx::query(
        "SELECT info_hash, file_priorities, sequential, seeding_goals FROM torrents \
         WHERE file_priorities IS NOT NULL OR sequential <> 0 OR seeding_goals IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Raw {
                info_hash: r.try_get("info_hash")?,
                file_priorities: r.try_get("file_priorities")?,
                sequential: r.try_get::<i64, _>("sequential")? != 0,
                seeding_goals: r.try_get("seeding_goals")?,
            })
        })
        .collect()
}

/// Parses one torrent's stored values; what does not parse falls back to the defaults.
fn parse(r: Raw) -> (String, Stored) {
    let ih = r.info_hash;
    let parse_warn = |what: &str, e: serde_json::Error| {
        tracing::warn!("torrent {ih}: stored {what} unreadable, using defaults: {e}");
    };
    let priorities = r
        .file_priorities
        .and_then(|j| {
            serde_json::from_str(&j)
                .map_err(|e| parse_warn("priorities", e))
                .ok()
        })
        .unwrap_or_default();
    let goals = r.seeding_goals.and_then(|j| {
        serde_json::from_str(&j)
            .map_err(|e| parse_warn("goals", e))
            .ok()
    });
    let stored = Stored {
        priorities,
        sequential: r.sequential,
        goals,
    };
    (ih, stored)
}
