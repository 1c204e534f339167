//! `chat_messages`: `_id` is the message id (counter `chat_messages`).

use std::collections::HashMap;

use app::types::ChatMessage;
use mongodb::bson::{doc, Document};
use serde::{Deserialize, Serialize};

use super::schema::{CHAT, USERS};
use super::{collect, Mongo};
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct MessageDoc {
    #[serde(rename = "_id")]
    id: i64,
    user_id: i64,
    body: String,
    created_at: i64,
}

pub async fn insert(m: &Mongo, user_id: i64, body: &str, created_at: i64) -> Result<i64, DbError> {
    let msg = MessageDoc {
        id: m.next_id(CHAT).await?,
        user_id,
        body: body.to_owned(),
        created_at,
    };
    m.coll::<MessageDoc>(CHAT).insert_one(&msg).await?;
    Ok(msg.id)
}

/// The `limit` messages just before id `before` (the newest when None), oldest first, with
/// their authors' names (a second query: the SQL version's join).
pub async fn page(m: &Mongo, before: Option<i64>, limit: i64) -> Result<Vec<ChatMessage>, DbError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let cursor = m
        .coll::<MessageDoc>(CHAT)
        .find(doc! { "_id": { "$lt": before.unwrap_or(i64::MAX) } })
        .sort(doc! { "_id": -1 })
        .limit(limit)
        .await?;
    let msgs = collect(cursor).await?;
    let mut ids: Vec<i64> = msgs.iter().map(|msg| msg.user_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let cursor = m
        .coll::<Document>(USERS)
        .find(doc! { "_id": { "$in": ids } })
        .projection(doc! { "_id": 1, "username": 1 })
        .await?;
    let names: HashMap<i64, String> = collect(cursor)
        .await?
        .into_iter()
        .filter_map(|u| {
            Some((
                super::int(&u, "_id")?,
                u.get_str("username").ok()?.to_owned(),
            ))
        })
        .collect();
    let mut out: Vec<ChatMessage> = msgs
        .into_iter()
        .filter_map(|msg| {
            Some(ChatMessage {
                id: msg.id,
                user_id: msg.user_id,
                username: names.get(&msg.user_id)?.clone(),
                body: msg.body,
                created_at: msg.created_at,
            })
        })
        .collect();
    out.reverse();
    Ok(out)
}
