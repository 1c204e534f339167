//! `tracker_passkeys`: `_id` is the user id, `passkey` unique.

use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::schema::PASSKEYS;
use super::{collect, is_duplicate_key, Mongo};
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct PasskeyDoc {
    #[serde(rename = "_id")]
    user_id: i64,
    passkey: String,
}

pub async fn all(m: &Mongo) -> Result<Vec<(i64, String)>, DbError> {
    let cursor = m.coll::<PasskeyDoc>(PASSKEYS).find(doc! {}).await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(|d| (d.user_id, d.passkey))
        .collect())
}

pub async fn get(m: &Mongo, user: i64) -> Result<Option<String>, DbError> {
    let found = m
        .coll::<PasskeyDoc>(PASSKEYS)
        .find_one(doc! { "_id": user })
        .await?;
    Ok(found.map(|d| d.passkey))
}

pub async fn insert(m: &Mongo, user: i64, key: &str) -> Result<(), DbError> {
    let d = PasskeyDoc {
        user_id: user,
        passkey: key.to_owned(),
    };
    match m.coll::<PasskeyDoc>(PASSKEYS).insert_one(&d).await {
        Ok(_) => Ok(()),
        // The user has one already (a concurrent first request).
        Err(e) if is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
