//! The `notifications` table: what happened to a user's torrents, kept per user.

use app::types::{Notification, NotificationKind};
use sqlx::Row;

use super::{Db, DbError};

/// A notification to store.
#[derive(Clone, Debug)]
pub struct New {
    pub user_id: i64,
    pub kind: NotificationKind,
    pub info_hash: String,
    pub name: String,
    pub message: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

const COLUMNS: &str = "id, kind, info_hash, name, message, created_at, read_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Notification, sqlx::Error> {
    Ok(Notification {
        id: r.try_get("id")?,
        kind: NotificationKind::parse(&r.try_get::<String, _>("kind")?)
            .unwrap_or(NotificationKind::Error),
        info_hash: r.try_get("info_hash")?,
        name: r.try_get("name")?,
        message: r.try_get("message")?,
        created_at: r.try_get("created_at")?,
        read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
    })
}

/// Stores `n` and deletes the user's oldest notifications beyond the newest `keep`, in one
/// transaction.
pub async fn insert(db: &Db, n: &New, keep: i64) -> Result<Notification, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::notifications::insert(m, n, keep));
    let mut tx = pool.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO notifications (user_id, kind, info_hash, name, message, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    ))
    .bind(n.user_id)
    .bind(n.kind.as_str())
    .bind(&n.info_hash)
    .bind(&n.name)
    .bind(&n.message)
    .bind(n.created_at)
    .fetch_one(&mut *tx)
    .await?;
    let stored = from_row(&row)?;
    sqlx::query(
        "DELETE FROM notifications WHERE user_id = $1 AND id <= \
         (SELECT id FROM notifications WHERE user_id = $2 ORDER BY id DESC LIMIT 1 OFFSET $3)",
    )
    .bind(n.user_id)
    .bind(n.user_id)
    .bind(keep.max(1))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(stored)
}

/// The user's newest `limit` notifications, newest first.
pub async fn list(db: &Db, user_id: i64, limit: i64) -> Result<Vec<Notification>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::notifications::list(m, user_id, limit));
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(user_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The newest notification of `user_id` about a torrent, if any.
pub async fn latest_about(
    db: &Db,
    user_id: i64,
    info_hash: &str,
) -> Result<Option<Notification>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::notifications::latest_about(
        m, user_id, info_hash
    ));
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE user_id = $1 AND info_hash = $2 \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(user_id)
    .bind(info_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// How many of the user's notifications are unread.
pub async fn unread(db: &Db, user_id: i64) -> Result<i64, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::notifications::unread(m, user_id));
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get::<i64, _>("n")?)
}

/// Ids bound per statement when marking a list read.
const CHUNK: usize = 200;

/// Marks the user's notifications read: those of `ids`, or all when None. Ids that are not
/// the user's are ignored. Returns how many changed.
pub async fn mark_read(
    db: &Db,
    user_id: i64,
    ids: Option<&[i64]>,
    at: i64,
) -> Result<u64, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::notifications::mark_read(
        m, user_id, ids, at
    ));
    let Some(ids) = ids else {
        let res = sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
        )
        .bind(at)
        .bind(user_id)
        .execute(pool)
        .await?;
        return Ok(res.rows_affected());
    };
    let mut changed = 0;
    let mut tx = pool.begin().await?;
    for chunk in ids.chunks(CHUNK) {
        let list = (0..chunk.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE notifications SET read_at = $1 \
             WHERE user_id = $2 AND read_at IS NULL AND id IN ({list})"
        );
        let mut q = sqlx::query(&sql).bind(at).bind(user_id);
        for id in chunk {
            q = q.bind(*id);
        }
        changed += q.execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::conformance::every_store;

    async fn user(db: &Db, name: &str) -> i64 {
        crate::db::conformance::user(db, name).await.id
    }

    fn new(user_id: i64, i: i64) -> New {
        New {
            user_id,
            kind: NotificationKind::Completed,
            info_hash: format!("{i:040x}"),
            name: format!("t{i}"),
            message: format!("t{i} finished downloading"),
            created_at: 1_700_000_000_000 + i,
        }
    }

    every_store!(the_newest_are_kept_and_marked_read_per_user);

    async fn the_newest_are_kept_and_marked_read_per_user(db: &Db) {
        let (a, b) = (user(db, "a").await, user(db, "b").await);
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push(insert(db, &new(a, i), 10).await.unwrap().id);
        }
        let theirs = insert(db, &new(b, 99), 10).await.unwrap();
        let kept = list(db, a, 100).await.unwrap();
        assert_eq!(
            kept.iter().map(|n| n.id).collect::<Vec<_>>(),
            ids[2..].iter().rev().copied().collect::<Vec<_>>(),
            "the 10 newest, newest first"
        );
        assert_eq!(kept[0].name, "t11");
        assert_eq!(unread(db, a).await.unwrap(), 10);
        assert_eq!(list(db, b, 100).await.unwrap(), vec![theirs.clone()]);

        // Some by id (someone else's id is ignored), then all.
        let some = [ids[3], ids[4], theirs.id];
        assert_eq!(mark_read(db, a, Some(&some), 5).await.unwrap(), 2);
        assert_eq!(unread(db, a).await.unwrap(), 8);
        assert_eq!(unread(db, b).await.unwrap(), 1);
        let many: Vec<i64> = (0..450).chain(ids.iter().copied()).collect();
        assert_eq!(mark_read(db, a, Some(&many), 6).await.unwrap(), 8);
        assert_eq!(mark_read(db, a, None, 7).await.unwrap(), 0);
        assert_eq!(unread(db, a).await.unwrap(), 0);
        assert!(list(db, a, 3).await.unwrap().iter().all(|n| n.read));
        assert_eq!(mark_read(db, b, None, 8).await.unwrap(), 1);

        let latest = latest_about(db, a, &format!("{:040x}", 11)).await.unwrap();
        assert_eq!(latest.map(|n| n.id), Some(ids[11]));
        assert!(latest_about(db, b, &format!("{:040x}", 11))
            .await
            .unwrap()
            .is_none());
    }
}
