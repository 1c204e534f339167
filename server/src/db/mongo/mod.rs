//! The MongoDB store (`--features mongo`, `DATABASE_URL=mongodb://…`): the same data as the
//! SQL schema, one collection per table, with the SQL schema's uniqueness as unique indexes
//! (`schema`). Numeric ids (users, chat messages, notifications, statistics samples) come
//! from a `counters` collection (`findOneAndUpdate` with `$inc`), so they stay small,
//! increasing integers as with `BIGSERIAL`. Only common operations (CRUD, unique indexes,
//! `findOneAndUpdate`, sorts and limits) are used, without transactions, so a standalone
//! `mongod` and MongoDB-wire-compatible servers work alike.

pub mod categories;
pub mod chat;
pub mod folders;
pub mod labels;
pub mod notifications;
pub mod passkeys;
pub mod public;
mod schema;
pub mod selection;
pub mod settings;
pub mod stats;
pub mod torrents;
pub mod users;

use std::time::Duration;

use futures_util::TryStreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, Collection, Database};
use serde::de::DeserializeOwned;

use super::DbError;

/// The database used when the URL names none (`mongodb://host:port/` → `torrentedge`).
pub const DEFAULT_DATABASE: &str = "torrentedge";

/// MongoDB's error code for a unique index violation.
const DUPLICATE_KEY: i32 = 11000;

/// A client and the database it works in.
#[derive(Clone, Debug)]
pub struct Mongo {
    db: Database,
}

impl Mongo {
    /// Connects to the database the URL names (else [`DEFAULT_DATABASE`]), checks it answers
    /// and creates the indexes that are missing.
    pub async fn connect(url: &str) -> Result<Mongo, DbError> {
        let mut options = ClientOptions::parse(url).await?;
        options.app_name.get_or_insert_with(|| "torrentedge".into());
        // Fail a start against an unreachable server in seconds, not the driver's 30 s.
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(10));
        let client = Client::with_options(options)?;
        let db = client
            .default_database()
            .unwrap_or_else(|| client.database(DEFAULT_DATABASE));
        let mongo = Mongo { db };
        mongo.ping().await?;
        schema::ensure(&mongo).await?;
        tracing::debug!(database = mongo.db.name(), "MongoDB ready");
        Ok(mongo)
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.db.run_command(doc! { "ping": 1 }).await?;
        Ok(())
    }

    pub(crate) fn coll<T: Send + Sync>(&self, name: &str) -> Collection<T> {
        self.db.collection(name)
    }

    /// Reserves `n` (≥ 1) ids of the sequence `name`; returns the last one (the first is
    /// `last - n + 1`). Atomic on the server, like a SQL sequence; ids of failed inserts are
    /// not reused.
    pub(crate) async fn reserve_ids(&self, name: &str, n: i64) -> Result<i64, DbError> {
        let counter = self
            .coll::<Document>(schema::COUNTERS)
            .find_one_and_update(doc! { "_id": name }, doc! { "$inc": { "seq": n } })
            .upsert(true)
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| corrupt(schema::COUNTERS, format!("no counter {name} after upsert")))?;
        int(&counter, "seq").ok_or_else(|| corrupt(schema::COUNTERS, format!("counter {name}")))
    }

    /// The next id of the sequence `name`.
    pub(crate) async fn next_id(&self, name: &str) -> Result<i64, DbError> {
        self.reserve_ids(name, 1).await
    }

    /// The name of the database, for tests.
    #[cfg(test)]
    pub(crate) fn database(&self) -> &Database {
        &self.db
    }
}

/// Every document a find returns.
pub(crate) async fn collect<T>(cursor: mongodb::Cursor<T>) -> Result<Vec<T>, DbError>
where
    T: DeserializeOwned + Send + Sync + Unpin,
{
    Ok(cursor.try_collect().await?)
}

/// Whether `e` is a unique index violation (from insert, update or findAndModify).
pub(crate) fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|es| es.iter().any(|w| w.code == DUPLICATE_KEY)),
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// An integer field, whichever BSON integer type a server or an older writer chose.
pub(crate) fn int(d: &Document, key: &str) -> Option<i64> {
    match d.get(key)? {
        Bson::Int64(v) => Some(*v),
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Double(v) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

pub(crate) fn corrupt(collection: &'static str, detail: impl Into<String>) -> DbError {
    DbError::Corrupt {
        collection,
        detail: detail.into(),
    }
}

#[cfg(test)]
pub(crate) mod testing;
