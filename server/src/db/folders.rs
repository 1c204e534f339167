//! Watch and shared folders (`folders`) and the torrents of shared items (`folder_items`).

use sqlx::Row;

use super::{now_ms, Db, DbError};

/// A stored folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderRow {
    pub id: i64,
    pub user_id: i64,
    /// `watch` or `share`.
    pub kind: String,
    pub path: String,
    pub category: Option<String>,
    pub save_path: Option<String>,
    pub paused: bool,
    /// `files` or `subfolders` (shares).
    pub mode: Option<String>,
    pub created_at: i64,
}

/// What a shared item was when it became a torrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemRow {
    pub folder_id: i64,
    pub name: String,
    pub size: i64,
    pub mtime_ms: i64,
    pub info_hash: String,
}

const COLUMNS: &str = "id, user_id, kind, path, category, save_path, paused, mode, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<FolderRow, sqlx::Error> {
    Ok(FolderRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        kind: r.try_get("kind")?,
        path: r.try_get("path")?,
        category: r.try_get("category")?,
        save_path: r.try_get("save_path")?,
        paused: r.try_get::<i64, _>("paused")? != 0,
        mode: r.try_get("mode")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Every folder of every user (started at server start).
pub async fn all(db: &Db) -> Result<Vec<FolderRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::all(m));
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM folders ORDER BY id"))
        .fetch_all(pool)
        .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// Stores a new folder (`id` and `created_at` of `f` are ignored); `None` when the same
/// kind of folder already exists at that path.
pub async fn insert(db: &Db, f: &FolderRow) -> Result<Option<FolderRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::insert(m, f));
    let res = sqlx::query(&format!(
        "INSERT INTO folders (user_id, kind, path, category, save_path, paused, mode, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
    ))
    .bind(f.user_id)
    .bind(&f.kind)
    .bind(&f.path)
    .bind(&f.category)
    .bind(&f.save_path)
    .bind(i64::from(f.paused))
    .bind(&f.mode)
    .bind(now_ms())
    .fetch_one(pool)
    .await;
    match res {
        Ok(row) => Ok(Some(from_row(&row)?)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a folder and its items' records; false when there was none.
pub async fn delete(db: &Db, id: i64) -> Result<bool, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::delete(m, id));
    // SQLite enforces the cascade only with foreign keys on: delete the items first.
    sqlx::query("DELETE FROM folder_items WHERE folder_id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    let res = sqlx::query("DELETE FROM folders WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(res.rows_affected() > 0)
}

/// The recorded items of a shared folder.
pub async fn items(db: &Db, folder_id: i64) -> Result<Vec<ItemRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::items(m, folder_id));
    let rows = sqlx::query(
        "SELECT folder_id, name, size, mtime_ms, info_hash FROM folder_items \
         WHERE folder_id = $1 ORDER BY name",
    )
    .bind(folder_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ItemRow {
                folder_id: r.try_get("folder_id")?,
                name: r.try_get("name")?,
                size: r.try_get("size")?,
                mtime_ms: r.try_get("mtime_ms")?,
                info_hash: r.try_get("info_hash")?,
            })
        })
        .collect()
}

/// Records (or replaces) an item's torrent.
pub async fn put_item(db: &Db, item: &ItemRow) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::put_item(m, item));
    sqlx::query(
        "INSERT INTO folder_items (folder_id, name, size, mtime_ms, info_hash) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (folder_id, name) DO UPDATE SET \
         size = excluded.size, mtime_ms = excluded.mtime_ms, info_hash = excluded.info_hash",
    )
    .bind(item.folder_id)
    .bind(&item.name)
    .bind(item.size)
    .bind(item.mtime_ms)
    .bind(&item.info_hash)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets an item.
pub async fn delete_item(db: &Db, folder_id: i64, name: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::folders::delete_item(
        m, folder_id, name
    ));
    sqlx::query("DELETE FROM folder_items WHERE folder_id = $1 AND name = $2")
        .bind(folder_id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}
