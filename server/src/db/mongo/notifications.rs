//! `notifications`: `_id` is the notification id (counter `notifications`); `read_at` is
//! null while unread.

use app::types::{Notification, NotificationKind};
use mongodb::bson::{doc, Bson, Document};
use serde::{Deserialize, Serialize};

use super::schema::NOTIFICATIONS;
use super::{collect, int, Mongo};
use crate::db::notifications::New;
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct NotificationDoc {
    #[serde(rename = "_id")]
    id: i64,
    user_id: i64,
    kind: String,
    info_hash: String,
    name: String,
    message: String,
    created_at: i64,
    read_at: Option<i64>,
}

impl From<NotificationDoc> for Notification {
    fn from(d: NotificationDoc) -> Notification {
        Notification {
            id: d.id,
            kind: NotificationKind::parse(&d.kind).unwrap_or(NotificationKind::Error),
            info_hash: d.info_hash,
            name: d.name,
            message: d.message,
            created_at: d.created_at,
            read: d.read_at.is_some(),
        }
    }
}

/// Ids per `$in` when marking a list read.
const CHUNK: usize = 200;

/// Stores `n`, then deletes the user's notifications older than the newest `keep`.
pub async fn insert(m: &Mongo, n: &New, keep: i64) -> Result<Notification, DbError> {
    let stored = NotificationDoc {
        id: m.next_id(NOTIFICATIONS).await?,
        user_id: n.user_id,
        kind: n.kind.as_str().to_owned(),
        info_hash: n.info_hash.clone(),
        name: n.name.clone(),
        message: n.message.clone(),
        created_at: n.created_at,
        read_at: None,
    };
    m.coll::<NotificationDoc>(NOTIFICATIONS)
        .insert_one(&stored)
        .await?;
    // The id of the newest beyond `keep`, if there are that many: it and older ones go.
    let keep = keep.max(1);
    let cursor = m
        .coll::<Document>(NOTIFICATIONS)
        .find(doc! { "user_id": n.user_id })
        .sort(doc! { "_id": -1 })
        .limit(keep + 1)
        .projection(doc! { "_id": 1 })
        .await?;
    let newest = collect(cursor).await?;
    if newest.len() as i64 > keep {
        if let Some(cut) = newest.last().and_then(|d| int(d, "_id")) {
            m.coll::<Document>(NOTIFICATIONS)
                .delete_many(doc! { "user_id": n.user_id, "_id": { "$lte": cut } })
                .await?;
        }
    }
    Ok(stored.into())
}

pub async fn list(m: &Mongo, user_id: i64, limit: i64) -> Result<Vec<Notification>, DbError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let cursor = m
        .coll::<NotificationDoc>(NOTIFICATIONS)
        .find(doc! { "user_id": user_id })
        .sort(doc! { "_id": -1 })
        .limit(limit)
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(Notification::from)
        .collect())
}

pub async fn latest_about(
    m: &Mongo,
    user_id: i64,
    info_hash: &str,
) -> Result<Option<Notification>, DbError> {
    let found = m
        .coll::<NotificationDoc>(NOTIFICATIONS)
        .find_one(doc! { "user_id": user_id, "info_hash": info_hash })
        .sort(doc! { "_id": -1 })
        .await?;
    Ok(found.map(Notification::from))
}

pub async fn unread(m: &Mongo, user_id: i64) -> Result<i64, DbError> {
    let n = m
        .coll::<Document>(NOTIFICATIONS)
        .count_documents(doc! { "user_id": user_id, "read_at": Bson::Null })
        .await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

pub async fn mark_read(
    m: &Mongo,
    user_id: i64,
    ids: Option<&[i64]>,
    at: i64,
) -> Result<u64, DbError> {
    let coll = m.coll::<Document>(NOTIFICATIONS);
    let update = doc! { "$set": { "read_at": at } };
    let Some(ids) = ids else {
        let res = coll
            .update_many(doc! { "user_id": user_id, "read_at": Bson::Null }, update)
            .await?;
        return Ok(res.modified_count);
    };
    let mut changed = 0;
    for chunk in ids.chunks(CHUNK) {
        let res = coll
            .update_many(
                doc! { "user_id": user_id, "read_at": Bson::Null, "_id": { "$in": chunk.to_vec() } },
                update.clone(),
            )
            .await?;
        changed += res.modified_count;
    }
    Ok(changed)
}
