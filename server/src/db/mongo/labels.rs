//! `torrent_labels`: `_id` is the torrent's numeric id (chosen by the caller), unique on
//! `info_hash`; tags are an array.

use mongodb::bson::{doc, Document};
use serde::{Deserialize, Serialize};

use super::schema::{LABELS, TORRENTS};
use super::{collect, Mongo};
use crate::db::labels::LabelRow;
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct LabelDoc {
    #[serde(rename = "_id")]
    id: i64,
    info_hash: String,
    category: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
}

pub async fn all(m: &Mongo) -> Result<Vec<LabelRow>, DbError> {
    let cursor = m
        .coll::<LabelDoc>(LABELS)
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(|d| LabelRow {
            id: d.id,
            info_hash: d.info_hash,
            category: d.category,
            tags: d.tags,
        })
        .collect())
}

async fn torrent_exists(m: &Mongo, info_hash: &str) -> Result<bool, DbError> {
    let found = m
        .coll::<Document>(TORRENTS)
        .find_one(doc! { "_id": info_hash })
        .projection(doc! { "_id": 1 })
        .await?;
    Ok(found.is_some())
}

/// Writes a torrent's labels (inserting its document the first time, keeping its id after);
/// nothing when the torrent is no longer stored. Without a transaction, a torrent deleted
/// between the check and the write is caught by the second check, which removes the label
/// again, so no label outlives its torrent.
pub async fn save(m: &Mongo, l: &LabelRow) -> Result<(), DbError> {
    if !torrent_exists(m, &l.info_hash).await? {
        return Ok(());
    }
    m.coll::<Document>(LABELS)
        .update_one(
            doc! { "info_hash": l.info_hash.as_str() },
            doc! {
                "$set": { "category": l.category.as_deref(), "tags": l.tags.clone() },
                "$setOnInsert": { "_id": l.id },
            },
        )
        .upsert(true)
        .await?;
    if !torrent_exists(m, &l.info_hash).await? {
        delete(m, &l.info_hash).await?;
    }
    Ok(())
}

pub async fn delete(m: &Mongo, info_hash: &str) -> Result<(), DbError> {
    m.coll::<Document>(LABELS)
        .delete_many(doc! { "info_hash": info_hash })
        .await?;
    Ok(())
}
