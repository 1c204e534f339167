//! `settings` (`_id` is the setting's name) and the rate limits kept in `torrents`.

use std::collections::HashMap;

use mongodb::bson::{doc, Document};
use serde::{Deserialize, Serialize};

use super::schema::{SETTINGS, TORRENTS};
use super::{collect, corrupt, int, Mongo};
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct SettingDoc {
    #[serde(rename = "_id")]
    name: String,
    value: String,
}

pub async fn get(m: &Mongo, name: &str) -> Result<Option<String>, DbError> {
    let found = m
        .coll::<SettingDoc>(SETTINGS)
        .find_one(doc! { "_id": name })
        .await?;
    Ok(found.map(|s| s.value))
}

pub async fn put(m: &Mongo, name: &str, value: &str) -> Result<(), DbError> {
    m.coll::<SettingDoc>(SETTINGS)
        .update_one(doc! { "_id": name }, doc! { "$set": { "value": value } })
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn set_torrent_limits(
    m: &Mongo,
    info_hash: &str,
    download: i64,
    upload: i64,
) -> Result<(), DbError> {
    m.coll::<Document>(TORRENTS)
        .update_one(
            doc! { "_id": info_hash },
            doc! { "$set": { "download_limit": download, "upload_limit": upload } },
        )
        .await?;
    Ok(())
}

pub async fn torrent_limits(m: &Mongo) -> Result<HashMap<String, (u64, u64)>, DbError> {
    let cursor = m
        .coll::<Document>(TORRENTS)
        .find(doc! { "$or": [
            { "download_limit": { "$ne": 0_i64 } },
            { "upload_limit": { "$ne": 0_i64 } },
        ] })
        .projection(doc! { "_id": 1, "download_limit": 1, "upload_limit": 1 })
        .await?;
    let mut out = HashMap::new();
    for d in collect(cursor).await? {
        let ih = d
            .get_str("_id")
            .map_err(|e| corrupt(TORRENTS, e.to_string()))?;
        let down = int(&d, "download_limit").unwrap_or(0);
        let up = int(&d, "upload_limit").unwrap_or(0);
        out.insert(ih.to_owned(), (down.max(0) as u64, up.max(0) as u64));
    }
    Ok(out)
}
