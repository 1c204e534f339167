//! `users`: `_id` is the numeric user id (counter `users`); `username_lower` carries the
//! case-insensitive uniqueness.

use mongodb::bson::doc;
use mongodb::options::ReturnDocument;
use serde::{Deserialize, Serialize};

use super::schema::USERS;
use super::{is_duplicate_key, Mongo};
use crate::db::users::{Created, UserRow};
use crate::db::{now_unix, DbError};

#[derive(Debug, Serialize, Deserialize)]
struct UserDoc {
    #[serde(rename = "_id")]
    id: i64,
    username: String,
    username_lower: String,
    password_hash: String,
    role: String,
    token_version: i64,
    created_at: i64,
}

impl From<UserDoc> for UserRow {
    fn from(d: UserDoc) -> UserRow {
        UserRow {
            id: d.id,
            username: d.username,
            password_hash: d.password_hash,
            role: d.role,
            token_version: d.token_version,
            created_at: d.created_at,
        }
    }
}

pub async fn create(m: &Mongo, username: &str, hash: &str, role: &str) -> Result<Created, DbError> {
    let lower = username.to_lowercase();
    // Most taken names are refused here, without spending an id.
    if m.coll::<UserDoc>(USERS)
        .find_one(doc! { "username_lower": lower.as_str() })
        .await?
        .is_some()
    {
        return Ok(Created::NameTaken);
    }
    let user = UserDoc {
        id: m.next_id(USERS).await?,
        username: username.to_owned(),
        username_lower: lower,
        password_hash: hash.to_owned(),
        role: role.to_owned(),
        token_version: 0,
        created_at: now_unix(),
    };
    // The unique index decides between concurrent registrations of one name.
    match m.coll::<UserDoc>(USERS).insert_one(&user).await {
        Ok(_) => Ok(Created::User(user.into())),
        Err(e) if is_duplicate_key(&e) => Ok(Created::NameTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn count(m: &Mongo) -> Result<i64, DbError> {
    let n = m.coll::<UserDoc>(USERS).count_documents(doc! {}).await?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

pub async fn by_id(m: &Mongo, id: i64) -> Result<Option<UserRow>, DbError> {
    let user = m
        .coll::<UserDoc>(USERS)
        .find_one(doc! { "_id": id })
        .await?;
    Ok(user.map(UserRow::from))
}

pub async fn by_name(m: &Mongo, username: &str) -> Result<Option<UserRow>, DbError> {
    let user = m
        .coll::<UserDoc>(USERS)
        .find_one(doc! { "username": username })
        .await?;
    Ok(user.map(UserRow::from))
}

pub async fn set_password(m: &Mongo, id: i64, hash: &str) -> Result<Option<UserRow>, DbError> {
    let user = m
        .coll::<UserDoc>(USERS)
        .find_one_and_update(
            doc! { "_id": id },
            doc! { "$set": { "password_hash": hash }, "$inc": { "token_version": 1_i64 } },
        )
        .return_document(ReturnDocument::After)
        .await?;
    Ok(user.map(UserRow::from))
}

pub async fn revoke_tokens(m: &Mongo, id: i64) -> Result<(), DbError> {
    m.coll::<UserDoc>(USERS)
        .update_one(
            doc! { "_id": id },
            doc! { "$inc": { "token_version": 1_i64 } },
        )
        .await?;
    Ok(())
}
