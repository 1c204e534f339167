//! Server settings that outlive a restart (a name and a JSON value), and each torrent's own
//! rate limits (columns of `torrents`).

use std::collections::HashMap;

use sqlx::Row;

use super::{Db, DbError};

/// The stored value of `name`, if any.
pub async fn get(db: &Db, name: &str) -> Result<Option<String>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::settings::get(m, name));
    let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

/// Stores `value` under `name`, replacing what was there.
pub async fn put(db: &Db, name: &str, value: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::settings::put(m, name, value));
    sqlx::query(
        "INSERT INTO settings (name, value) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

/// Saves a torrent's `(download, upload)` limits in bytes per second (0 = unlimited).
pub async fn set_torrent_limits(
    db: &Db,
    info_hash: &str,
    download: i64,
    upload: i64,
) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::settings::set_torrent_limits(
        m, info_hash, download, upload
    ));
    sqlx::query("UPDATE torrents SET download_limit = $1, upload_limit = $2 WHERE info_hash = $3")
        .bind(download)
        .bind(upload)
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Every torrent with a limit: info-hash (hex) → `(download, upload)`.
pub async fn torrent_limits(db: &Db) -> Result<HashMap<String, (u64, u64)>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::settings::torrent_limits(m));
    let rows = sqlx::query(
        "SELECT info_hash, download_limit, upload_limit FROM torrents \
         WHERE download_limit <> 0 OR upload_limit <> 0",
    )
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let ih: String = r.try_get("info_hash")?;
        let down: i64 = r.try_get("download_limit")?;
        let up: i64 = r.try_get("upload_limit")?;
        out.insert(ih, (down.max(0) as u64, up.max(0) as u64));
    }
    Ok(out)
}
