//! The `stats_history` table: periodic samples for charts. `user_id` 0 is the whole server.

use sqlx::Row;

use super::{Db, DbError};

/// One sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub user_id: i64,
    pub at: i64,
    pub download_rate: i64,
    pub upload_rate: i64,
    pub downloaded: i64,
    pub uploaded: i64,
    pub peers: i64,
    pub torrents: i64,
}

/// Stores samples and drops those older than `keep_after`, in one transaction.
pub async fn record(db: &Db, samples: &[Sample], keep_after: i64) -> Result<(), DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::stats::record(m, samples, keep_after));
    let mut tx = pool.begin().await?;
    for s in samples {
        sqlx::query(
            "INSERT INTO stats_history \
             (user_id, at, download_rate, upload_rate, downloaded, uploaded, peers, torrents) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(s.user_id)
        .bind(s.at)
        .bind(s.download_rate)
        .bind(s.upload_rate)
        .bind(s.downloaded)
        .bind(s.uploaded)
        .bind(s.peers)
        .bind(s.torrents)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM stats_history WHERE at < $1")
        .bind(keep_after)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Samples of `user_id` since `since`, oldest first, at most `limit`.
pub async fn history(
    db: &Db,
    user_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<Sample>, DbError> {
    let pool = super::sql_or_mongo!(db, |m| super::mongo::stats::history(
        m, user_id, since, limit
    ));
    let rows = sqlx::query(
        "SELECT user_id, at, download_rate, upload_rate, downloaded, uploaded, peers, torrents \
         FROM stats_history WHERE user_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(since)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(Sample {
                user_id: r.try_get("user_id")?,
                at: r.try_get("at")?,
                download_rate: r.try_get("download_rate")?,
                upload_rate: r.try_get("upload_rate")?,
                downloaded: r.try_get("downloaded")?,
                uploaded: r.try_get("uploaded")?,
                peers: r.try_get("peers")?,
                torrents: r.try_get("torrents")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    out.reverse();
    Ok(out)
}
