//! Persistence behind one storage interface: the functions of `db::users`, `db::torrents`, …
//! take a [`Db`] and dispatch on its store. The default store is one sqlx `Any` pool over
//! SQLite (default) or PostgreSQL, the same queries for both (`$1` placeholders, BIGINT/TEXT
//! columns), embedded migrations per backend; those queries live in the modules themselves.
//! With the `mongo` feature, a `mongodb://` URL selects the MongoDB store (`db::mongo`), one
//! module per collection group beside the SQL ones.

pub mod categories;
pub mod chat;
#[cfg(test)]
mod conformance;
pub mod folders;
pub mod labels;
mod migrate;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod notifications;
pub mod passkeys;
pub mod public;
pub mod selection;
pub mod settings;
pub mod stats;
pub mod torrents;
pub mod users;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    #[cfg(feature = "mongo")]
    Mongo,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            #[cfg(feature = "mongo")]
            Backend::Mongo => "mongodb",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (use sqlite://, postgres:// or mongodb://)")]
    UnsupportedUrl,
    #[cfg(not(feature = "mongo"))]
    #[error(
        "DATABASE_URL is a mongodb:// URL but this torrentedge was built without MongoDB \
         support: build it with `cargo build -p server --features mongo`"
    )]
    MongoNotBuilt,
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder: {0}")]
    Io(#[from] std::io::Error),
    #[cfg(feature = "mongo")]
    #[error("MongoDB error: {0}")]
    Mongo(#[from] mongodb::error::Error),
    #[cfg(feature = "mongo")]
    #[error("MongoDB: unexpected document in {collection}: {detail}")]
    Corrupt {
        collection: &'static str,
        detail: String,
    },
}

/// Where a [`Db`] keeps its data.
#[derive(Clone, Debug)]
pub(crate) enum Store {
    Sql(AnyPool),
    #[cfg(feature = "mongo")]
    Mongo(mongo::Mongo),
}

/// The sqlx pool of `$db`, or (with the `mongo` feature) returns from the enclosing function
/// with `$call` awaited, `$m` bound to the MongoDB store: the dispatch at the top of every
/// storage function, so callers never see which store they use.
#[cfg(feature = "mongo")]
macro_rules! sql_or_mongo {
    ($db:expr, |$m:ident| $call:expr) => {
        match $db.store() {
            $crate::db::Store::Sql(pool) => pool,
            $crate::db::Store::Mongo($m) => return $call.await,
        }
    };
}
/// Without the `mongo` feature every store is the sqlx pool.
#[cfg(not(feature = "mongo"))]
macro_rules! sql_or_mongo {
    ($db:expr, |$m:ident| $call:expr) => {
        $db.sql_pool()
    };
}
pub(crate) use sql_or_mongo;

/// A connection pool (sqlx) or client (MongoDB) and its backend.
#[derive(Clone, Debug)]
pub struct Db {
    store: Store,
    backend: Backend,
}

impl Db {
    /// Connects (creating a SQLite file and its folder when missing) and applies migrations
    /// (for MongoDB: creates the indexes).
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        if url.starts_with("mongodb:") || url.starts_with("mongodb+srv:") {
            #[cfg(feature = "mongo")]
            return Ok(Db {
                store: Store::Mongo(mongo::Mongo::connect(url).await?),
                backend: Backend::Mongo,
            });
            #[cfg(not(feature = "mongo"))]
            return Err(DbError::MongoNotBuilt);
        }
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl);
        };
        if backend == Backend::Sqlite {
            if let Some(path) = sqlite_path(url) {
                create_private(&path)?;
            }
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            // Readers do not wait for the writer; the setting is kept in the file.
            sqlx::query("PRAGMA journal_mode=WAL")
                .fetch_optional(&pool)
                .await?;
        }
        migrate::run(backend, &pool).await?;
        Ok(Db {
            store: Store::Sql(pool),
            backend,
        })
    }

    #[cfg(feature = "mongo")]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    #[cfg(not(feature = "mongo"))]
    fn sql_pool(&self) -> &AnyPool {
        let Store::Sql(pool) = &self.store;
        pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A trivial round trip, for health checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        let pool = sql_or_mongo!(self, |m| m.ping());
        let _: AnyRow = sqlx::query("SELECT 1").fetch_one(pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.store {
            Store::Sql(pool) => pool.close().await,
            // The driver closes its connections when the last client handle drops.
            #[cfg(feature = "mongo")]
            Store::Mongo(_) => {}
        }
    }
}

/// Creates the SQLite file (and its folder) readable by its owner only, like the JWT
/// secret: it holds password hashes. SQLite gives its `-wal` and `-shm` files the database
/// file's permissions. An existing file is left as it is.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// The file of a `sqlite://path?query` URL (None for in-memory databases).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(path.into())
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch (chat messages and notifications).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    #[cfg(unix)]
    async fn database_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/t.db");
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
            .await
            .unwrap();
        db.close().await;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    #[tokio::test]
    async fn unknown_and_unbuilt_urls_are_refused() {
        let err = Db::connect("mysql://localhost/x").await.unwrap_err();
        assert!(matches!(err, DbError::UnsupportedUrl), "{err}");
        #[cfg(not(feature = "mongo"))]
        {
            let err = Db::connect("mongodb://127.0.0.1:1/x").await.unwrap_err();
            assert!(matches!(err, DbError::MongoNotBuilt), "{err}");
            assert!(err.to_string().contains("--features mongo"), "{err}");
        }
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/x.db?mode=rwc"),
            Some("data/x.db".into())
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite:///abs/y.db"), Some("/abs/y.db".into()));
    }
}
