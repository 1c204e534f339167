//! The built-in tracker's per-user passkeys (`tracker_passkeys`: one key per user).

use sqlx::Row;

use super::{Db, DbError};

/// Every (user id, passkey).
pub async fn all(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::passkeys::all(m));
    let rows = sqlx::query("SELECT user_id, passkey FROM tracker_passkeys")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("passkey")?)))
        .collect()
}

/// The user's passkey, if one was made.
pub async fn get(db: &Db, user: i64) -> Result<Option<String>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::passkeys::get(m, user));
    let row = sqlx::query("SELECT passkey FROM tracker_passkeys WHERE user_id = $1")
        .bind(user)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("passkey")).transpose()?)
}

/// Stores `key` for `user` unless the user has one already.
pub async fn insert(db: &Db, user: i64, key: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::passkeys::insert(m, user, key));
    sqlx::query(
        "INSERT INTO tracker_passkeys (user_id, passkey) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}
