//! The `torrents` table: what a restarted server needs to bring every torrent back.

use sqlx::Row;

use super::{Db, DbError};

/// A stored torrent.
#[derive(Clone, Debug, PartialEq)]
pub struct TorrentRow {
    /// Lower-case hex.
    pub info_hash: String,
    pub owner_id: i64,
    pub name: String,
    /// The .torrent file; None for a magnet still waiting for metadata.
    pub metainfo: Option<Vec<u8>>,
    pub magnet: Option<String>,
    pub save_path: String,
    pub state: String,
    pub paused: bool,
    pub priority: String,
    pub added_at: i64,
    /// Also when added, in milliseconds: the queue's order.
    pub added_ms: i64,
    pub completed_at: Option<i64>,
    pub uploaded: i64,
    pub downloaded: i64,
    pub bytes_done: i64,
    pub total_bytes: i64,
    pub error: Option<String>,
}

/// Counters and state saved periodically and at shutdown.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub info_hash: String,
    pub state: String,
    pub uploaded: i64,
    pub downloaded: i64,
    pub bytes_done: i64,
    pub total_bytes: i64,
    pub error: Option<String>,
    pub completed_at: Option<i64>,
    /// Seconds seeding over the torrent's whole life.
    pub seconds_seeding: i64,
}

const COLUMNS: &str = "info_hash, owner_id, name, metainfo, magnet, save_path, state, paused, \
    priority, added_at, completed_at, uploaded, downloaded, bytes_done, total_bytes, error, \
    added_ms";

fn from_row(r: &sqlx::any::AnyRow) -> Result<TorrentRow, sqlx::Error> {
    Ok(TorrentRow {
        info_hash: r.try_get("info_hash")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        metainfo: r.try_get("metainfo")?,
        magnet: r.try_get("magnet")?,
        save_path: r.try_get("save_path")?,
        state: r.try_get("state")?,
        paused: r.try_get::<i64, _>("paused")? != 0,
        priority: r.try_get("priority")?,
        added_at: r.try_get("added_at")?,
        completed_at: r.try_get("completed_at")?,
        uploaded: r.try_get("uploaded")?,
        downloaded: r.try_get("downloaded")?,
        bytes_done: r.try_get("bytes_done")?,
        total_bytes: r.try_get("total_bytes")?,
        error: r.try_get("error")?,
        added_ms: r.try_get("added_ms")?,
    })
}

/// Inserts a torrent; false when its info-hash is already stored.
pub async fn insert(db: &Db, t: &TorrentRow) -> Result<bool, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::insert(m, t));
    let res = sqlx::query(&format!(
        "INSERT INTO torrents ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&t.info_hash)
    .bind(t.owner_id)
    .bind(&t.name)
    .bind(t.metainfo.clone())
    .bind(t.magnet.clone())
    .bind(&t.save_path)
    .bind(&t.state)
    .bind(i64::from(t.paused))
    .bind(&t.priority)
    .bind(t.added_at)
    .bind(t.completed_at)
    .bind(t.uploaded)
    .bind(t.downloaded)
    .bind(t.bytes_done)
    .bind(t.total_bytes)
    .bind(t.error.clone())
    .bind(t.added_ms)
    .execute(pool)
    .await;
    match res {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn all(db: &Db) -> Result<Vec<TorrentRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::all(m));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM torrents ORDER BY added_ms, info_hash"
    ))
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub async fn delete(db: &Db, info_hash: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::delete(m, info_hash));
    sqlx::query("DELETE FROM torrents WHERE info_hash = $1")
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// A magnet's metainfo arrived.
pub async fn set_metainfo(
    db: &Db,
    info_hash: &str,
    name: &str,
    metainfo: &[u8],
    total_bytes: i64,
) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::set_metainfo(
        m,
        info_hash,
        name,
        metainfo,
        total_bytes
    ));
    sqlx::query(
        "UPDATE torrents SET name = $1, metainfo = $2, total_bytes = $3 WHERE info_hash = $4",
    )
    .bind(name)
    .bind(metainfo)
    .bind(total_bytes)
    .bind(info_hash)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn set_paused(db: &Db, info_hash: &str, paused: bool) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::set_paused(
        m, info_hash, paused
    ));
    sqlx::query("UPDATE torrents SET paused = $1 WHERE info_hash = $2")
        .bind(i64::from(paused))
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn set_priority(db: &Db, info_hash: &str, priority: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::set_priority(
        m, info_hash, priority
    ));
    sqlx::query("UPDATE torrents SET priority = $1 WHERE info_hash = $2")
        .bind(priority)
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Saves counters and state of many torrents in one transaction.
pub async fn save_progress(db: &Db, items: &[Progress]) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::torrents::save_progress(m, items));
    if items.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    for p in items {
        sqlx::query(
            "UPDATE torrents SET state = $1, uploaded = $2, downloaded = $3, bytes_done = $4, \
             total_bytes = $5, error = $6, completed_at = COALESCE(completed_at, $7), \
             seconds_seeding = $8 WHERE info_hash = $9",
        )
        .bind(&p.state)
        .bind(p.uploaded)
        .bind(p.downloaded)
        .bind(p.bytes_done)
        .bind(p.total_bytes)
        .bind(p.error.clone())
        .bind(p.completed_at)
        .bind(p.seconds_seeding)
        .bind(&p.info_hash)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
