//! `folders`: `_id` is the folder id (counter `folders`), `(kind, path)` unique;
//! `folder_items`: one document per shared item, `(folder_id, name)` unique.

use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::schema::{FOLDERS, FOLDER_ITEMS};
use super::{collect, is_duplicate_key, Mongo};
use crate::db::folders::{FolderRow, ItemRow};
use crate::db::{now_ms, DbError};

#[derive(Debug, Serialize, Deserialize)]
struct FolderDoc {
    #[serde(rename = "_id")]
    id: i64,
    user_id: i64,
    kind: String,
    path: String,
    category: Option<String>,
    save_path: Option<String>,
    paused: bool,
    mode: Option<String>,
    created_at: i64,
}

impl From<FolderDoc> for FolderRow {
    fn from(d: FolderDoc) -> FolderRow {
        FolderRow {
            id: d.id,
            user_id: d.user_id,
            kind: d.kind,
            path: d.path,
            category: d.category,
            save_path: d.save_path,
            paused: d.paused,
            mode: d.mode,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ItemDoc {
    folder_id: i64,
    name: String,
    size: i64,
    mtime_ms: i64,
    info_hash: String,
}

pub async fn all(m: &Mongo) -> Result<Vec<FolderRow>, DbError> {
    let cursor = m
        .coll::<FolderDoc>(FOLDERS)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await?;
    Ok(collect(cursor).await?.into_iter().map(Into::into).collect())
}

pub async fn insert(m: &Mongo, f: &FolderRow) -> Result<Option<FolderRow>, DbError> {
    let d = FolderDoc {
        id: m.next_id(FOLDERS).await?,
        user_id: f.user_id,
        kind: f.kind.clone(),
        path: f.path.clone(),
        category: f.category.clone(),
        save_path: f.save_path.clone(),
        paused: f.paused,
        mode: f.mode.clone(),
        created_at: now_ms(),
    };
    match m.coll::<FolderDoc>(FOLDERS).insert_one(&d).await {
        Ok(_) => Ok(Some(d.into())),
        Err(e) if is_duplicate_key(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(m: &Mongo, id: i64) -> Result<bool, DbError> {
    m.coll::<ItemDoc>(FOLDER_ITEMS)
        .delete_many(doc! { "folder_id": id })
        .await?;
    let res = m
        .coll::<FolderDoc>(FOLDERS)
        .delete_one(doc! { "_id": id })
        .await?;
    Ok(res.deleted_count > 0)
}

pub async fn items(m: &Mongo, folder_id: i64) -> Result<Vec<ItemRow>, DbError> {
    let cursor = m
        .coll::<ItemDoc>(FOLDER_ITEMS)
        .find(doc! { "folder_id": folder_id })
        .sort(doc! { "name": 1 })
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(|d| ItemRow {
            folder_id: d.folder_id,
            name: d.name,
            size: d.size,
            mtime_ms: d.mtime_ms,
            info_hash: d.info_hash,
        })
        .collect())
}

pub async fn put_item(m: &Mongo, item: &ItemRow) -> Result<(), DbError> {
    m.coll::<ItemDoc>(FOLDER_ITEMS)
        .update_one(
            doc! { "folder_id": item.folder_id, "name": &item.name },
            doc! { "$set": { "size": item.size, "mtime_ms": item.mtime_ms,
            "info_hash": &item.info_hash } },
        )
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn delete_item(m: &Mongo, folder_id: i64, name: &str) -> Result<(), DbError> {
    m.coll::<ItemDoc>(FOLDER_ITEMS)
        .delete_one(doc! { "folder_id": folder_id, "name": name })
        .await?;
    Ok(())
}
