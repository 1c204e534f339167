//! Each torrent's file priorities, order and seeding flags, own seeding goals and seconds
//! seeded (columns of `torrents`, JSON where a value has parts), so a restart brings them back.

use std::collections::HashMap;

use app::types::{FilePriority, TorrentGoals};
use sqlx::Row;

use super::{Db, DbError};

/// What a torrent was told beyond its defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stored {
    pub priorities: Vec<FilePriority>,
    pub sequential: bool,
    pub first_last_piece: bool,
    pub super_seeding: bool,
    pub goals: Option<TorrentGoals>,
    pub seconds_seeding: u64,
}

/// A per-torrent on/off setting, stored as a 0/1 column of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    Sequential,
    FirstLastPiece,
    SuperSeeding,
}

impl Flag {
    pub fn column(self) -> &'static str {
        match self {
            Flag::Sequential => "sequential",
            Flag::FirstLastPiece => "first_last_piece",
            Flag::SuperSeeding => "super_seeding",
        }
    }
}

/// The stored columns as text (JSON where a value has parts), the same in every store.
pub struct Raw {
    pub info_hash: String,
    pub file_priorities: Option<String>,
    pub sequential: bool,
    pub first_last_piece: bool,
    pub super_seeding: bool,
    pub seeding_goals: Option<String>,
    pub seconds_seeding: i64,
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

pub async fn set_flag(db: &Db, info_hash: &str, flag: Flag, on: bool) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::selection::set_flag(
        m,
        info_hash,
        flag.column(),
        on
    ));
    // The column name comes from `Flag`, never from input.
    sqlx::query(&format!(
        "UPDATE torrents SET {} = $1 WHERE info_hash = $2",
        flag.column()
    ))
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
        "SELECT info_hash, file_priorities, sequential, first_last_piece, super_seeding, \
         seeding_goals, seconds_seeding FROM torrents \
         WHERE file_priorities IS NOT NULL OR sequential <> 0 OR first_last_piece <> 0 \
         OR super_seeding <> 0 OR seeding_goals IS NOT NULL OR seconds_seeding <> 0",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Raw {
                info_hash: r.try_get("info_hash")?,
                file_priorities: r.try_get("file_priorities")?,
                sequential: r.try_get::<i64, _>("sequential")? != 0,
                first_last_piece: r.try_get::<i64, _>("first_last_piece")? != 0,
                super_seeding: r.try_get::<i64, _>("super_seeding")? != 0,
                seeding_goals: r.try_get("seeding_goals")?,
                seconds_seeding: r.try_get("seconds_seeding")?,
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
        first_last_piece: r.first_last_piece,
        super_seeding: r.super_seeding,
        goals,
        seconds_seeding: r.seconds_seeding.max(0) as u64,
    };
    (ih, stored)
}
