//! Which torrents their owners marked public (column `is_public` of `torrents`): the ones
//! this server's federation catalog lists and `/api/search` finds.

use sqlx::Row;

use super::{Db, DbError};

pub async fn set(db: &Db, info_hash: &str, on: bool) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::public::set(m, info_hash, on));
    sqlx::query("UPDATE torrents SET is_public = $1 WHERE info_hash = $2")
        .bind(i64::from(on))
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// The info-hashes (hex) of every public torrent.
pub async fn all(db: &Db) -> Result<Vec<String>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::public::all(m));
    let rows =
        sqlx::query("SELECT info_hash FROM torrents WHERE is_public <> 0 ORDER BY info_hash")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get("info_hash"))
        .collect::<Result<_, _>>()?)
}
