//! Starts the real `torrentedge serve` binary on a free loopback port with its own data
//! folder and database (SQLite file, a fresh database in the test PostgreSQL that
//! `scripts/pg-test.sh` starts, or with `--features mongo` a fresh database on the
//! MongoDB-wire server of `TE_TEST_MONGO_URL` or `scripts/mongo-test.sh`), and talks to it
//! over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The secret every test server signs with, so tests can forge tokens.
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// Only with the server's `mongo` feature.
    Mongo,
}

/// Runs `$name(Backend)` once against SQLite, once against PostgreSQL and, when the server
/// is built with `--features mongo`, once against MongoDB (`make test-mongo` runs only
/// those: test names end in `::mongo`).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
            #[cfg(feature = "mongo")]
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mongo() {
                super::$name($crate::support::Backend::Mongo).await
            }
        }
    )*};
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The test PostgreSQL's base URL, started (or restarted in this network namespace) once
/// per test process by `scripts/pg-test.sh`.
fn postgres_base() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let out = Command::new(repo_root().join("scripts/pg-test.sh"))
            .arg("start")
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/pg-test.sh");
        assert!(out.status.success(), "scripts/pg-test.sh start failed");
        let url = String::from_utf8(out.stdout).unwrap();
        url.lines()
            .last()
            .expect("pg-test.sh prints the URL")
            .trim()
            .to_owned()
    })
}

/// Drops the databases earlier test runs left behind (each server gets its own); one in use
/// by a concurrent run is left alone.
async fn drop_leftover_databases(conn: &mut sqlx::PgConnection) {
    use sqlx::Row;
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let mine = format!("te_test_{}_", std::process::id());
        let rows =
            sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'te\\_test\\_%'")
                .fetch_all(&mut *conn)
                .await
                .unwrap_or_default();
        for row in rows {
            let name: String = row.get("datname");
            if !name.starts_with(&mine) {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                    .execute(&mut *conn)
                    .await;
            }
        }
    })
    .await;
}

/// A new, empty PostgreSQL database for one server.
async fn fresh_postgres_db() -> String {
    use sqlx::Connection;
    let base = postgres_base();
    let name = format!("te_test_{}_{}", std::process::id(), unique());
    let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .expect("connect to the test PostgreSQL");
    drop_leftover_databases(&mut conn).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    format!("{base}/{name}")
}

/// The test MongoDB's base URL (no database in its path): `TE_TEST_MONGO_URL` when set (a
/// real `mongod` works too), else the in-memory MongoDB-wire server that
/// `scripts/mongo-test.sh start` runs (started, or restarted in this network namespace, once
/// per test process).
fn mongo_base() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TE_TEST_MONGO_URL") {
            return url;
        }
        let out = Command::new(repo_root().join("scripts/mongo-test.sh"))
            .arg("start")
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/mongo-test.sh");
        assert!(out.status.success(), "scripts/mongo-test.sh start failed");
        let url = String::from_utf8(out.stdout).unwrap();
        url.lines()
            .last()
            .expect("mongo-test.sh prints the URL")
            .trim()
            .to_owned()
    })
}

/// A database name no other server uses, in the test MongoDB's URL (the server creates the
/// database and its indexes on first use).
fn fresh_mongo_db() -> String {
    let base = mongo_base();
    let name = format!("te_test_{}_{}", std::process::id(), unique());
    let (head, query) = base.split_once('?').unwrap_or((base, ""));
    let head = head.trim_end_matches('/');
    if query.is_empty() {
        format!("{head}/{name}")
    } else {
        format!("{head}/{name}?{query}")
    }
}

fn unique() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    n * 1_000_000_000 + t
}

/// How to start a server.
#[derive(Clone, Debug)]
pub struct Options {
    pub backend: Backend,
    pub env: Vec<(String, String)>,
    /// Fixed peer port (for restarts a seeder keeps dialling); 0 = any.
    pub peer_port: u16,
}

impl Options {
    pub fn new(backend: Backend) -> Options {
        Options {
            backend,
            env: Vec::new(),
            peer_port: 0,
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Options {
        self.env.push((k.into(), v.into()));
        self
    }
}

/// A test that turns the DHT on must bootstrap it from loopback nodes only.
fn assert_dht_stays_local(env: &[(String, String)]) {
    let get = |k: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let on = get("DHT").is_some_and(|v| !matches!(v, "false" | "0" | "no" | "off"));
    if !on {
        return;
    }
    let list = get("DHT_BOOTSTRAP").expect("a test with DHT on sets DHT_BOOTSTRAP");
    for node in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let addr: std::net::SocketAddr = node
            .parse()
            .unwrap_or_else(|_| panic!("DHT_BOOTSTRAP {node:?} is not an IP:port"));
        assert!(
            addr.ip().is_loopback(),
            "DHT_BOOTSTRAP {node} is not loopback"
        );
    }
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub data: Arc<tempfile::TempDir>,
    pub database_url: String,
    pub opts: Options,
    pub log: Arc<Mutex<Vec<String>>>,
    pub http: reqwest::Client,
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Server::start_with(Options::new(backend)).await
    }

    pub async fn start_with(opts: Options) -> Server {
        let data = Arc::new(tempfile::tempdir().expect("tempdir"));
        let database_url = match opts.backend {
            Backend::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                data.path().join("data/torrentedge.db").display()
            ),
            Backend::Postgres => fresh_postgres_db().await,
            Backend::Mongo => fresh_mongo_db(),
        };
        Server::launch(opts, data, database_url).await
    }

    async fn launch(opts: Options, data: Arc<tempfile::TempDir>, database_url: String) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_torrentedge"));
        cmd.args(["serve", "--port", "0", "--bind", "127.0.0.1"])
            .current_dir(data.path())
            .env("DATA_DIR", data.path().join("data"))
            .env("DATABASE_URL", &database_url)
            .env("JWT_SECRET", JWT_SECRET)
            .env("PEER_PORT", opts.peer_port.to_string())
            .env("PEER_BIND", "127.0.0.1")
            .env("ALLOW_LOCAL_TRACKERS", "true")
            // Never the public DHT from a test: off unless a test turns it on with a
            // loopback bootstrap node (checked below).
            .env("DHT", "false")
            // Local discovery stays off too (it multicasts; the namespace would keep it in).
            .env("LSD", "false")
            // TCP only: libtorrent test peers listen on TCP, and a uTP-first dial would wait
            // 3 s for each before falling back (uTP itself: engine/tests/utp.rs).
            .env("UTP", "false")
            // And port mapping: no router of a test's is asked (server/tests/api/network.rs).
            .env("UPNP", "false")
            .env_remove("DHT_PORT")
            .env_remove("DHT_BOOTSTRAP")
            .env("RUST_LOG", "info,sqlx=warn")
            .env("NO_COLOR", "1")
            .env_remove("PORT")
            .env_remove("DOWNLOAD_PATH")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        assert_dht_stays_local(&opts.env);
        let mut child = cmd.spawn().expect("spawn torrentedge");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(i) = line.find("dashboard on http://") {
                    let url = line[i + "dashboard on ".len()..].trim().to_owned();
                    let _ = tx.send(url);
                }
                log2.lock().unwrap().push(line);
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        Server {
            child: Some(child),
            base,
            data,
            database_url,
            opts,
            log,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        }
    }

    /// Stops with SIGTERM and waits for the exit (the server saves state on the way out).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    assert!(
                        status.success(),
                        "server exited with {status}:\n{}",
                        self.logs()
                    );
                    return;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!("server did not stop in 30 s:\n{}", self.logs());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Kills with SIGKILL (nothing saved on the way out), then starts again on the same data
    /// folder and database.
    pub async fn kill_and_restart(mut self) -> Server {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let (opts, data, url) = (
            self.opts.clone(),
            self.data.clone(),
            self.database_url.clone(),
        );
        Server::launch(opts, data, url).await
    }

    /// Stops and starts again on the same data folder and database.
    pub async fn restart(mut self) -> Server {
        self.stop();
        let (opts, data, url) = (
            self.opts.clone(),
            self.data.clone(),
            self.database_url.clone(),
        );
        Server::launch(opts, data, url).await
    }

    /// The server process's resident memory, bytes (Linux `/proc`).
    pub fn rss(&self) -> u64 {
        let pid = self.child.as_ref().expect("server running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS in /proc/PID/status");
        kb * 1024
    }

    pub fn logs(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.data.path().join("data")
    }

    /// DOWNLOAD_PATH (the default: DATA_DIR/downloads).
    pub fn downloads(&self) -> PathBuf {
        self.data_dir().join("downloads")
    }

    /// A non-admin user's folder: `DOWNLOAD_PATH/users/<id>`.
    pub async fn user_dir(&self, token: &str) -> PathBuf {
        let (s, me) = self.get("/api/users/me", token).await;
        assert_eq!(s, StatusCode::OK, "{me}");
        self.downloads().join("users").join(me["id"].to_string())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request with `token` as Bearer (if any).
    pub fn req(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let r = self.http.request(method, self.url(path));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(method, path, token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        send(r).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn register(&self, username: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": username, "password": PASSWORD })),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "username": username, "password": password })),
        )
        .await
    }

    /// Registers and logs in `username`; returns the token.
    pub async fn user(&self, username: &str) -> String {
        let (s, body) = self.register(username).await;
        assert_eq!(s, StatusCode::CREATED, "register {username}: {body}");
        let (s, body) = self.login(username, PASSWORD).await;
        assert_eq!(s, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Logs in like the dashboard does; returns the `Cookie` header to send and the CSRF
    /// token to echo in `X-CSRF-Token`.
    pub async fn cookie_login(&self, username: &str) -> (String, String) {
        let res = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let value = |name: &str| {
            res.headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap())
                .find_map(|c| c.strip_prefix(&format!("{name}=")))
                .and_then(|c| c.split(';').next())
                .unwrap_or_else(|| panic!("no {name} cookie"))
                .to_owned()
        };
        let (session, csrf) = (value("te_session"), value("te_csrf"));
        (format!("te_session={session}; te_csrf={csrf}"), csrf)
    }

    /// Uploads a .torrent; returns status and body.
    pub async fn upload(
        &self,
        token: &str,
        torrent: &[u8],
        fields: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut form = reqwest::multipart::Form::new().part(
            "torrent",
            reqwest::multipart::Part::bytes(torrent.to_vec()).file_name("x.torrent"),
        );
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        send(
            self.req(Method::POST, "/api/torrents", Some(token))
                .multipart(form),
        )
        .await
    }

    /// Waits until the server counts `n` open event streams (`/metrics`): until a stream is
    /// open, an event published meanwhile would not be on it. Panics after `within`.
    pub async fn wait_event_streams(&self, token: &str, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        let want = format!("\ntorrentedge_event_streams {n}\n");
        loop {
            let text = self
                .req(Method::GET, "/metrics", Some(token))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            if text.contains(&want) {
                return;
            }
            assert!(Instant::now() < deadline, "never {n} event streams: {text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls the torrent until `pred` holds (or panics after `secs`).
    pub async fn wait_torrent(
        &self,
        token: &str,
        ih: &str,
        secs: u64,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (s, t) = self.get(&format!("/api/torrents/{ih}"), token).await;
            assert_eq!(s, StatusCode::OK, "{t}");
            if pred(&t) {
                return t;
            }
            if Instant::now() > deadline {
                panic!(
                    "torrent never reached the expected state: {t}\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Sends and returns status and JSON body (Null when the body is empty or not JSON).
pub async fn send(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let res = r.send().await.expect("request");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `len` pseudo-random bytes from `seed`.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut data = Vec::with_capacity(len);
    while data.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(len);
    data
}

/// Writes `len` pseudo-random bytes to `path`.
pub fn write_random(path: &Path, len: usize, seed: u64) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, random_bytes(len, seed)).unwrap();
}

/// A .torrent for `path` (file or folder); returns (bytes, hex info-hash).
pub fn make_torrent(path: &Path, piece_length: Option<u32>) -> (Vec<u8>, String) {
    let opts = engine::create::CreateOptions {
        piece_length,
        ..Default::default()
    };
    let bytes = engine::create::create_torrent(path, &opts, &|_| {}).expect("create torrent");
    let ih = engine::metainfo::Metainfo::from_bytes(&bytes)
        .unwrap()
        .info_hash
        .to_hex();
    (bytes, ih)
}

/// A small torrent whose data does not exist anywhere: for API tests that need a torrent.
pub fn dummy_torrent(seed: u64) -> (Vec<u8>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("dummy-{seed}.bin"));
    write_random(&file, 100_000, seed);
    make_torrent(&file, Some(16384))
}
