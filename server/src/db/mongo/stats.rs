//! `stats_history`: `_id` is the sample id (counter `stats_history`, reserved per batch).

use mongodb::bson::doc;
use serde::{Deserialize, Serialize};

use super::schema::STATS;
use super::{collect, Mongo};
use crate::db::stats::Sample;
use crate::db::DbError;

#[derive(Debug, Serialize, Deserialize)]
struct SampleDoc {
    #[serde(rename = "_id")]
    id: i64,
    user_id: i64,
    at: i64,
    download_rate: i64,
    upload_rate: i64,
    downloaded: i64,
    uploaded: i64,
    peers: i64,
    torrents: i64,
}

/// Stores samples (one insert) and drops those older than `keep_after`.
pub async fn record(m: &Mongo, samples: &[Sample], keep_after: i64) -> Result<(), DbError> {
    if !samples.is_empty() {
        let n = samples.len() as i64;
        let first = m.reserve_ids(STATS, n).await? - n + 1;
        let docs = samples.iter().zip(first..).map(|(s, id)| SampleDoc {
            id,
            user_id: s.user_id,
            at: s.at,
            download_rate: s.download_rate,
            upload_rate: s.upload_rate,
            downloaded: s.downloaded,
            uploaded: s.uploaded,
            peers: s.peers,
            torrents: s.torrents,
        });
        m.coll::<SampleDoc>(STATS).insert_many(docs).await?;
    }
    m.coll::<SampleDoc>(STATS)
        .delete_many(doc! { "at": { "$lt": keep_after } })
        .await?;
    Ok(())
}

pub async fn history(
    m: &Mongo,
    user_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<Sample>, DbError> {
    if limit <= 0 {
        return Ok(Vec::new());
    }
    let cursor = m
        .coll::<SampleDoc>(STATS)
        .find(doc! { "user_id": user_id, "at": { "$gte": since } })
        .sort(doc! { "at": -1, "_id": -1 })
        .limit(limit)
        .await?;
    let mut out: Vec<Sample> = collect(cursor)
        .await?
        .into_iter()
        .map(|d| Sample {
            user_id: d.user_id,
            at: d.at,
            download_rate: d.download_rate,
            upload_rate: d.upload_rate,
            downloaded: d.downloaded,
            uploaded: d.uploaded,
            peers: d.peers,
            torrents: d.torrents,
        })
        .collect();
    out.reverse();
    Ok(out)
}
