//! A torrent's file priorities, order and seeding flags, own seeding goals and seconds seeded: fields of its
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

/// Sets the 0/1 setting `field` (`db::selection::Flag::column`) as a boolean.
pub async fn set_flag(m: &Mongo, info_hash: &str, field: &str, on: bool) -> Result<(), DbError> {
    m.coll::<Document>(TORRENTS)
        .update_one(doc! { "_id": info_hash }, doc! { "$set": { field: on } })
        .await?;
    Ok(())
}

/// A boolean field; some wire-compatible servers give a `$set` boolean back as an integer.
fn flag(d: &Document, field: &str) -> bool {
    d.get_bool(field).unwrap_or(false)
        || d.get_i32(field).is_ok_and(|v| v != 0)
        || d.get_i64(field).is_ok_and(|v| v != 0)
}

/// An integer field, whichever width the server stored it in.
fn int(d: &Document, field: &str) -> i64 {
    d.get_i64(field)
        .or_else(|_| d.get_i32(field).map(i64::from))
        .unwrap_or(0)
}

/// Every torrent with a selection, a flag, goals or seeding time.
pub async fn all(m: &Mongo) -> Result<Vec<Raw>, DbError> {
    let filter = doc! { "$or": [
        { "file_priorities": { "$exists": true } },
        { "sequential": { "$in": [true, 1] } },
        { "first_last_piece": { "$in": [true, 1] } },
        { "super_seeding": { "$in": [true, 1] } },
        { "seeding_goals": { "$exists": true } },
        { "seconds_seeding": { "$gt": 0 } },
    ] };
    let docs = collect(m.coll::<Document>(TORRENTS).find(filter).await?).await?;
    Ok(docs
        .into_iter()
        .filter_map(|d| {
            Some(Raw {
                info_hash: d.get_str("_id").ok()?.to_owned(),
                file_priorities: d.get_str("file_priorities").ok().map(str::to_owned),
                sequential: flag(&d, "sequential"),
                first_last_piece: flag(&d, "first_last_piece"),
                super_seeding: flag(&d, "super_seeding"),
                seeding_goals: d.get_str("seeding_goals").ok().map(str::to_owned),
                seconds_seeding: int(&d, "seconds_seeding"),
            })
        })
        .collect())
}
