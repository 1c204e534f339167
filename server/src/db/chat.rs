//! The `chat_messages` table: the instance-wide chat room.

use app::types::ChatMessage;
use sqlx::Row;

use super::{Db, DbError};

fn from_row(r: &sqlx::any::AnyRow) -> Result<ChatMessage, sqlx::Error> {
    Ok(ChatMessage {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        body: r.try_get("body")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Stores a message; returns its id.
pub async fn insert(db: &Db, user_id: i64, body: &str, created_at: i64) -> Result<i64, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::chat::insert(
        m, user_id, body, created_at
    ));
    let row = sqlx::query(
        "INSERT INTO chat_messages (user_id, body, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(user_id)
    .bind(body)
    .bind(created_at)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get::<i64, _>("id")?)
}

/// The `limit` messages just before id `before` (the newest when None), oldest first.
pub async fn page(db: &Db, before: Option<i64>, limit: i64) -> Result<Vec<ChatMessage>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::chat::page(m, before, limit));
    let rows = sqlx::query(
        "SELECT c.id, c.user_id, u.username, c.body, c.created_at \
         FROM chat_messages c JOIN users u ON u.id = c.user_id \
         WHERE c.id < $1 ORDER BY c.id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    out.reverse();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::conformance::{every_store, user};

    every_store!(pages_go_back_from_the_newest);

    async fn pages_go_back_from_the_newest(db: &Db) {
        let u = user(db, "ann").await;
        assert!(page(db, None, 10).await.unwrap().is_empty());
        let mut ids = Vec::new();
        for i in 0..7 {
            ids.push(insert(db, u.id, &format!("m{i}"), 1000 + i).await.unwrap());
        }
        let newest = page(db, None, 3).await.unwrap();
        assert_eq!(newest.iter().map(|m| m.id).collect::<Vec<_>>(), ids[4..]);
        assert_eq!(newest[0].username, "ann");
        assert_eq!(newest[0].body, "m4");
        assert_eq!(newest[0].created_at, 1004);
        let older = page(db, Some(ids[4]), 3).await.unwrap();
        assert_eq!(older.iter().map(|m| m.id).collect::<Vec<_>>(), ids[1..4]);
        let oldest = page(db, Some(ids[1]), 3).await.unwrap();
        assert_eq!(oldest.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..1]);
    }
}
