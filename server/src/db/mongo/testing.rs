//! A fresh database on the test MongoDB for each unit test: `TE_TEST_MONGO_URL` when set
//! (`make test-mongo` sets it), else the MongoDB-wire server `scripts/mongo-test.sh start`
//! runs on loopback.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::db::Db;

/// The base URL (no database in its path) of the test server.
pub fn base_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TE_TEST_MONGO_URL") {
            return url;
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/mongo-test.sh");
        let out = Command::new(script)
            .arg("start")
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/mongo-test.sh");
        assert!(out.status.success(), "scripts/mongo-test.sh start failed");
        String::from_utf8(out.stdout)
            .expect("UTF-8 URL")
            .lines()
            .last()
            .expect("mongo-test.sh prints the URL")
            .trim()
            .to_owned()
    })
}

/// `base` with `name` as its database: `mongodb://h:p/?q` → `mongodb://h:p/name?q`.
pub fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let head = head.trim_end_matches('/');
    if query.is_empty() {
        format!("{head}/{name}")
    } else {
        format!("{head}/{name}?{query}")
    }
}

/// A connected [`Db`] on a database no other test uses.
pub async fn fresh_db() -> Db {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("te_unit_{}_{n}", std::process::id());
    let db = Db::connect(&with_database(base_url(), &name))
        .await
        .expect("connect to the test MongoDB");
    // Nothing left over from a server that outlived an earlier run.
    if let crate::db::Store::Mongo(m) = db.store() {
        m.database().drop().await.expect("drop database");
        super::schema::ensure(m).await.expect("indexes");
    }
    db
}

#[test]
fn urls_get_their_database() {
    assert_eq!(
        with_database("mongodb://127.0.0.1:27018/?directConnection=true", "x"),
        "mongodb://127.0.0.1:27018/x?directConnection=true"
    );
    assert_eq!(with_database("mongodb://h:1", "y"), "mongodb://h:1/y");
}
