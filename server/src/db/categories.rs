//! The `categories` and `tags` tables: each user's categories (name and save path) and
//! free tags.

use sqlx::Row;

use super::{Db, DbError};

/// Every (user, category name, save path).
pub async fn all_categories(db: &Db) -> Result<Vec<(i64, String, String)>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::all_categories(m));
    let rows =
        sqlx::query("SELECT user_id, name, save_path FROM categories ORDER BY user_id, name")
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("user_id")?,
                r.try_get("name")?,
                r.try_get("save_path")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

/// Creates or replaces a category's save path.
pub async fn put_category(db: &Db, user: i64, name: &str, save_path: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::put_category(
        m, user, name, save_path
    ));
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM categories WHERE user_id = $1 AND name = $2")
        .bind(user)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO categories (user_id, name, save_path) VALUES ($1, $2, $3)")
        .bind(user)
        .bind(name)
        .bind(save_path)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_category(db: &Db, user: i64, name: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::delete_category(
        m, user, name
    ));
    sqlx::query("DELETE FROM categories WHERE user_id = $1 AND name = $2")
        .bind(user)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}

/// Every (user, tag name).
pub async fn all_tags(db: &Db) -> Result<Vec<(i64, String)>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::all_tags(m));
    let rows = sqlx::query("SELECT user_id, name FROM tags ORDER BY user_id, name")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(DbError::from)
}

pub async fn insert_tag(db: &Db, user: i64, name: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::insert_tag(m, user, name));
    let res = sqlx::query("INSERT INTO tags (user_id, name) VALUES ($1, $2)")
        .bind(user)
        .bind(name)
        .execute(pool)
        .await;
    match res {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_tag(db: &Db, user: i64, name: &str) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::categories::delete_tag(m, user, name));
    sqlx::query("DELETE FROM tags WHERE user_id = $1 AND name = $2")
        .bind(user)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(())
}
