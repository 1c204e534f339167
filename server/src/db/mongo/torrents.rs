//! `torrents`: `_id` is the info-hash (lower-case hex); each torrent's rate limits live in
//! the same document (`db::settings`).

use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{doc, Binary, Bson};
use serde::{Deserialize, Serialize};

use super::schema::{LABELS, TORRENTS};
use super::{collect, is_duplicate_key, Mongo};
use crate::db::torrents::{Progress, TorrentRow};
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct TorrentDoc {
    #[serde(rename = "_id")]
    pub info_hash: String,
    pub owner_id: i64,
    pub name: String,
    pub metainfo: Option<Binary>,
    pub magnet: Option<String>,
    pub save_path: String,
    pub state: String,
    pub paused: bool,
    pub priority: String,
    pub added_at: i64,
    pub added_ms: i64,
    pub completed_at: Option<i64>,
    pub uploaded: i64,
    pub downloaded: i64,
    pub bytes_done: i64,
    pub total_bytes: i64,
    pub error: Option<String>,
    #[serde(default)]
    pub download_limit: i64,
    #[serde(default)]
    pub upload_limit: i64,
}

fn binary(bytes: &[u8]) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    }
}

impl From<TorrentDoc> for TorrentRow {
    fn from(d: TorrentDoc) -> TorrentRow {
        TorrentRow {
            info_hash: d.info_hash,
            owner_id: d.owner_id,
            name: d.name,
            metainfo: d.metainfo.map(|b| b.bytes),
            magnet: d.magnet,
            save_path: d.save_path,
            state: d.state,
            paused: d.paused,
            priority: d.priority,
            added_at: d.added_at,
            added_ms: d.added_ms,
            completed_at: d.completed_at,
            uploaded: d.uploaded,
            downloaded: d.downloaded,
            bytes_done: d.bytes_done,
            total_bytes: d.total_bytes,
            error: d.error,
        }
    }
}

pub async fn insert(m: &Mongo, t: &TorrentRow) -> Result<bool, DbError> {
    let doc = TorrentDoc {
        info_hash: t.info_hash.clone(),
        owner_id: t.owner_id,
        name: t.name.clone(),
        metainfo: t.metainfo.as_deref().map(binary),
        magnet: t.magnet.clone(),
        save_path: t.save_path.clone(),
        state: t.state.clone(),
        paused: t.paused,
        priority: t.priority.clone(),
        added_at: t.added_at,
        added_ms: t.added_ms,
        completed_at: t.completed_at,
        uploaded: t.uploaded,
        downloaded: t.downloaded,
        bytes_done: t.bytes_done,
        total_bytes: t.total_bytes,
        error: t.error.clone(),
        download_limit: 0,
        upload_limit: 0,
    };
    match m.coll::<TorrentDoc>(TORRENTS).insert_one(&doc).await {
        Ok(_) => Ok(true),
        Err(e) if is_duplicate_key(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn all(m: &Mongo) -> Result<Vec<TorrentRow>, DbError> {
    let cursor = m
        .coll::<TorrentDoc>(TORRENTS)
        .find(doc! {})
        .sort(doc! { "added_ms": 1, "_id": 1 })
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(TorrentRow::from)
        .collect())
}

/// Deletes the torrent and its labels (the SQL schema's `ON DELETE CASCADE`).
pub async fn delete(m: &Mongo, info_hash: &str) -> Result<(), DbError> {
    m.coll::<TorrentDoc>(TORRENTS)
        .delete_one(doc! { "_id": info_hash })
        .await?;
    m.coll::<mongodb::bson::Document>(LABELS)
        .delete_many(doc! { "info_hash": info_hash })
        .await?;
    Ok(())
}

pub async fn set_metainfo(
    m: &Mongo,
    info_hash: &str,
    name: &str,
    metainfo: &[u8],
    total_bytes: i64,
) -> Result<(), DbError> {
    m.coll::<TorrentDoc>(TORRENTS)
        .update_one(
            doc! { "_id": info_hash },
            doc! { "$set": {
                "name": name,
                "metainfo": Bson::Binary(binary(metainfo)),
                "total_bytes": total_bytes,
            } },
        )
        .await?;
    Ok(())
}

pub async fn set_paused(m: &Mongo, info_hash: &str, paused: bool) -> Result<(), DbError> {
    m.coll::<TorrentDoc>(TORRENTS)
        .update_one(
            doc! { "_id": info_hash },
            doc! { "$set": { "paused": paused } },
        )
        .await?;
    Ok(())
}

pub async fn set_priority(m: &Mongo, info_hash: &str, priority: &str) -> Result<(), DbError> {
    m.coll::<TorrentDoc>(TORRENTS)
        .update_one(
            doc! { "_id": info_hash },
            doc! { "$set": { "priority": priority } },
        )
        .await?;
    Ok(())
}

/// Saves counters and state, one update per torrent (no multi-document transaction: each
/// torrent's document is written whole or not at all). `completed_at` is only set when it
/// was unset, like the SQL `COALESCE`.
pub async fn save_progress(m: &Mongo, items: &[Progress]) -> Result<(), DbError> {
    let coll = m.coll::<TorrentDoc>(TORRENTS);
    for p in items {
        coll.update_one(
            doc! { "_id": p.info_hash.as_str() },
            doc! { "$set": {
                "state": p.state.as_str(),
                "uploaded": p.uploaded,
                "downloaded": p.downloaded,
                "bytes_done": p.bytes_done,
                "total_bytes": p.total_bytes,
                "error": p.error.as_deref(),
                "seconds_seeding": p.seconds_seeding,
            } },
        )
        .await?;
        if let Some(at) = p.completed_at {
            coll.update_one(
                doc! { "_id": p.info_hash.as_str(), "completed_at": Bson::Null },
                doc! { "$set": { "completed_at": at } },
            )
            .await?;
        }
    }
    Ok(())
}
