//! The `users` table.

use sqlx::Row;

use super::{now_unix, Db, DbError};

/// A stored user.
#[derive(Clone, Debug)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub token_version: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, username, password_hash, role, token_version, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        password_hash: r.try_get("password_hash")?,
        role: r.try_get("role")?,
        token_version: r.try_get("token_version")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Outcome of [`create`].
pub enum Created {
    User(UserRow),
    NameTaken,
}

/// Inserts a user; `role` is decided by the caller (the first user becomes admin).
/// Creates a user unless the name is taken, ignoring case: `Alice` cannot register beside
/// `alice` and pass for them.
pub async fn create(db: &Db, username: &str, hash: &str, role: &str) -> Result<Created, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::create(m, username, hash, role));
    let res = sqlx::query(&format!(
        "INSERT INTO users (username, password_hash, role, token_version, created_at) \
         SELECT $1, $2, $3, 0, $4 \
         WHERE NOT EXISTS (SELECT 1 FROM users WHERE LOWER(username) = LOWER($1)) \
         RETURNING {COLUMNS}"
    ))
    .bind(username)
    .bind(hash)
    .bind(role)
    .bind(now_unix())
    .fetch_optional(pool)
    .await;
    match res {
        Ok(Some(row)) => Ok(Created::User(from_row(&row)?)),
        Ok(None) => Ok(Created::NameTaken),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(Created::NameTaken),
        Err(e) => Err(e.into()),
    }
}

pub async fn count(db: &Db) -> Result<i64, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::count(m));
    let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(pool)
        .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

pub async fn by_id(db: &Db, id: i64) -> Result<Option<UserRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::by_id(m, id));
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn by_name(db: &Db, username: &str) -> Result<Option<UserRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::by_name(m, username));
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
        .bind(username)
        .fetch_optional(pool)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Sets a new password hash and invalidates the user's existing tokens.
pub async fn set_password(db: &Db, id: i64, hash: &str) -> Result<Option<UserRow>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::set_password(m, id, hash));
    let row = sqlx::query(&format!(
        "UPDATE users SET password_hash = $1, token_version = token_version + 1 \
         WHERE id = $2 RETURNING {COLUMNS}"
    ))
    .bind(hash)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Bumps the user's token version: every token issued before stops working.
pub async fn revoke_tokens(db: &Db, id: i64) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::users::revoke_tokens(m, id));
    sqlx::query("UPDATE users SET token_version = token_version + 1 WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
