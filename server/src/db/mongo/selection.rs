//! A torrent's file priorities, sequential flag and own seeding goals: fields of its
//! `torrents` document, JSON text like the SQL columns (`db::selection` parses both).

use mongodb::bson::{doc, Document};

use super::schema::TORRENTS;
use super::{collect, Mongo};
use crate::db::selection::Raw;
use crate::db::DbError;

/// Sets the text field `field` (`file_priorities` or `seeding_goals`).
pub async fn set_text(m: &Mongo, info_hash: &str, field: &str, json: &str) -> Result<(), DbError> {
    m.coll::<Document>(TORRENTS)
        .update_one(doc! { "_id": info_hash }, doc! { "$set": { field: json } })
        .await?;
    Ok(())
}

pub async fn set_sequential(m: &Mongo, info_hash: &str, on: bool) -> Result<(), DbError> {
    m.coll::<Document>(TORRENTS)
        .update_one(
            doc! { "_id": info_hash },
            doc! { "$set": { "sequential": on } },
        )
        .await?;
    Ok(())
}

/// Every torrent with a selection, the sequential flag or goals.
pub async fn all(m: &Mongo) -> Result<Vec<Raw>, DbError> {
    let filter = doc! { "$or": [
        { "file_priorities": { "$exists": true } },
        { "sequential": true },
        { "seeding_goals": { "$exists": true } },
    ] };
    let docs = collect(m.coll::<Document>(TORRENTS).find(filter).await?).await?;
    Ok(docs
        .into_iter()
        .filter_map(|d| {
            Some(Raw {
                info_hash: d.get_str("_id").ok()?.to_owned(),
                file_priorities: d.get_str("file_priorities").ok().map(str::to_owned),
                // Some wire-compatible servers give a `$set` boolean back as an integer.
                sequential: d.get_bool("sequential").unwrap_or(false)
                    || d.get_i32("sequential").is_ok_and(|v| v != 0)
                    || d.get_i64("sequential").is_ok_and(|v| v != 0),
                seeding_goals: d.get_str("seeding_goals").ok().map(str::to_owned),
            })
        })
        .collect())
}
