//! `categories` and `tags`: one document per (user, name), unique on that pair.

use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::schema::{CATEGORIES, TAGS};
use super::{collect, is_duplicate_key, Mongo};
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct CategoryDoc {
    user_id: i64,
    name: String,
    save_path: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TagDoc {
    user_id: i64,
    name: String,
}

pub async fn all_categories(m: &Mongo) -> Result<Vec<(i64, String, String)>, DbError> {
    let cursor = m
        .coll::<CategoryDoc>(CATEGORIES)
        .find(doc! {})
        .sort(doc! { "user_id": 1, "name": 1 })
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(|c| (c.user_id, c.name, c.save_path))
        .collect())
}

pub async fn put_category(
    m: &Mongo,
    user: i64,
    name: &str,
    save_path: &str,
) -> Result<(), DbError> {
    m.coll::<CategoryDoc>(CATEGORIES)
        .update_one(
            doc! { "user_id": user, "name": name },
            doc! { "$set": { "save_path": save_path } },
        )
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn delete_category(m: &Mongo, user: i64, name: &str) -> Result<(), DbError> {
    m.coll::<CategoryDoc>(CATEGORIES)
        .delete_many(doc! { "user_id": user, "name": name })
        .await?;
    Ok(())
}

pub async fn all_tags(m: &Mongo) -> Result<Vec<(i64, String)>, DbError> {
    let cursor = m
        .coll::<TagDoc>(TAGS)
        .find(doc! {})
        .sort(doc! { "user_id": 1, "name": 1 })
        .await?;
    Ok(collect(cursor)
        .await?
        .into_iter()
        .map(|t| (t.user_id, t.name))
        .collect())
}

/// Adds a tag; one that exists already is left alone.
pub async fn insert_tag(m: &Mongo, user: i64, name: &str) -> Result<(), DbError> {
    let tag = TagDoc {
        user_id: user,
        name: name.to_owned(),
    };
    match m.coll::<TagDoc>(TAGS).insert_one(&tag).await {
        Ok(_) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_tag(m: &Mongo, user: i64, name: &str) -> Result<(), DbError> {
    m.coll::<TagDoc>(TAGS)
        .delete_many(doc! { "user_id": user, "name": name })
        .await?;
    Ok(())
}
