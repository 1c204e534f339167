//! The public flag: field `public` of a `torrents` document (absent = private).

use mongodb::bson::{doc, Document};

use super::schema::TORRENTS;
use super::{collect, Mongo};
use crate::db::DbError;

pub async fn set(m: &Mongo, info_hash: &str, on: bool) -> Result<(), DbError> {
    m.coll::<Document>(TORRENTS)
        .update_one(doc! { "_id": info_hash }, doc! { "$set": { "public": on } })
        .await?;
    Ok(())
}

pub async fn all(m: &Mongo) -> Result<Vec<String>, DbError> {
    let docs = collect(
        m.coll::<Document>(TORRENTS)
            .find(doc! { "public": true })
            .await?,
    )
    .await?;
    let mut out: Vec<String> = docs
        .iter()
        .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
        .collect();
    out.sort();
    Ok(out)
}
