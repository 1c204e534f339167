//! The `torrent_labels` table: each torrent's numeric id, category and tags.

use sqlx::Row;

use super::{Db, DbError};

/// One torrent's labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelRow {
    pub id: i64,
    pub info_hash: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
}

pub async fn all(db: &Db) -> Result<Vec<LabelRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::labels::all(m));
    let rows = sqlx::query("SELECT id, info_hash, category, tags FROM torrent_labels ORDER BY id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            let tags: String = r.try_get("tags")?;
            Ok(LabelRow {
                id: r.try_get("id")?,
                info_hash: r.try_get("info_hash")?,
                category: r.try_get("category")?,
                tags: split_tags(&tags),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

fn split_tags(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Writes a torrent's labels (inserting its row the first time). Does nothing when the
/// torrent is no longer stored. One statement, so SQLite takes the write lock at once
/// (a read-then-write transaction could fail with "database is locked").
pub async fn save(db: &Db, l: &LabelRow) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::labels::save(m, l));
    sqlx::query(
        "INSERT INTO torrent_labels (id, info_hash, category, tags) \
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM torrents WHERE info_hash = $5) \
         ON CONFLICT (info_hash) DO UPDATE SET category = excluded.category, tags = excluded.tags",
    )
    .bind(l.id)
    .bind(&l.info_hash)
    .bind(l.category.clone())
    .bind(l.tags.join(","))
    .bind(&l.info_hash)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(db: &Db, info_hash: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::labels::delete(m, info_hash));
    sqlx::query("DELETE FROM torrent_labels WHERE info_hash = $1")
        .bind(info_hash)
        .execute(pool)
        .await?;
    Ok(())
}
