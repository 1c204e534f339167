//! rqbit (crates.io `rqbit`, built once into `$CACHE/rqbit` by `make rqbit`) as a uTP-only
//! peer: TCP listening and TCP dialing off, uTP on, DHT, LSD, UPnP and trackers off, bound to
//! 127.0.0.1 and the device `lo`. Its HTTP API (also on 127.0.0.1) tells when a torrent is
//! finished and over which transport each peer is connected.
//!
//! rqbit is not a Debian package, so a machine without the cached binary skips these tests
//! (saying so); `make test-rqbit` builds it and runs them.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{free_port, local, note_netns, temp_dir, ChildGuard};

/// Where `make rqbit` installs it: `$RQBIT_BIN`, else `~/.cache/torrentedge/rqbit/bin/rqbit`.
pub fn rqbit_path() -> PathBuf {
    if let Some(p) = std::env::var_os("RQBIT_BIN") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    Path::new(&home).join(".cache/torrentedge/rqbit/bin/rqbit")
}

/// The rqbit binary, or None after printing why `test` is skipped.
pub fn rqbit_or_skip(test: &str) -> Option<PathBuf> {
    note_netns();
    let bin = rqbit_path();
    if bin.is_file() {
        Some(bin)
    } else {
        eprintln!(
            "SKIPPED {test}: rqbit is not built ({} does not exist; `make rqbit` builds it, \
             or set RQBIT_BIN)",
            bin.display()
        );
        None
    }
}

/// A running `rqbit download` of one torrent (id 0 in its API).
pub struct Rqbit {
    pub proc: ChildGuard,
    /// Its uTP (UDP) port; nothing listens on this TCP port.
    pub port: u16,
    api: SocketAddr,
    http: reqwest::Client,
    _home: tempfile::TempDir,
}

impl Rqbit {
    /// Seeds `torrent` from `data_dir` (the folder holding the torrent's file or top folder),
    /// after rqbit's own check of the data. It dials nobody: peers dial it over uTP.
    pub fn seed(bin: &Path, torrent: &Path, data_dir: &Path) -> Rqbit {
        Self::start(bin, "rqbit-seed", torrent, data_dir, None)
    }

    /// Downloads `torrent` into `out_dir` from `peer` only, which it dials over uTP.
    pub fn leech(bin: &Path, torrent: &Path, out_dir: &Path, peer: SocketAddr) -> Rqbit {
        Self::start(bin, "rqbit-leech", torrent, out_dir, Some(peer))
    }

    fn start(
        bin: &Path,
        name: &str,
        torrent: &Path,
        dir: &Path,
        peer: Option<SocketAddr>,
    ) -> Rqbit {
        let port = free_port();
        let api = local(free_port());
        let home = temp_dir("rqbit-home");
        let mut cmd = Command::new(bin);
        // Nothing of rqbit's state or config goes to the real home.
        cmd.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env_remove("RUST_LOG");
        cmd.args([
            "-v",
            "info",
            "--disable-dht",
            "--disable-dht-persistence",
            "--disable-lsd",
            "--disable-upnp-port-forward",
            "--disable-trackers",
            "--disable-tcp-listen",
            "--disable-tcp-connect",
            "--experimental-enable-utp-listen",
            "--ipv4-only",
            "--listen-ip",
            "127.0.0.1",
            // Every socket it opens on lo (SO_BINDTODEVICE): its UDP tracker client binds
            // [::]:0 even with trackers off.
            "--bind-device",
            "lo",
        ]);
        cmd.arg("--listen-port").arg(port.to_string());
        cmd.arg("--http-api-listen-addr").arg(api.to_string());
        cmd.arg("download").arg("-o").arg(dir);
        match peer {
            Some(p) => {
                assert!(p.ip().is_loopback(), "test peers are on loopback");
                cmd.arg("--initial-peers").arg(p.to_string());
            }
            // Existing data: rqbit checks it instead of refusing to touch the files.
            None => {
                cmd.arg("--overwrite");
            }
        }
        cmd.arg(torrent);
        let proc = ChildGuard::spawn(name, cmd);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        Rqbit {
            proc,
            port,
            api,
            http,
            _home: home,
        }
    }

    /// Where peers reach it (uTP).
    pub fn addr(&self) -> SocketAddr {
        local(self.port)
    }

    /// GET a JSON document from its HTTP API.
    pub async fn get(&self, path: &str) -> Result<Value, String> {
        let url = format!("http://{}{path}", self.api);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| format!("GET {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("GET {url}: {status}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("GET {url}: {e}: {body}"))
    }

    /// The torrent's stats (`/torrents/0/stats/v1`).
    pub async fn stats(&self) -> Result<Value, String> {
        self.get("/torrents/0/stats/v1").await
    }

    /// Waits until rqbit has every piece (a seeder: its check of the data is done; a leecher:
    /// the download is verified) and its torrent is live. Returns the stats.
    pub async fn wait_finished(&mut self, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("no answer yet");
        loop {
            if let Some(st) = self.proc.try_exit() {
                return Err(format!(
                    "{} exited ({st}) before finishing; last stats: {last}",
                    self.proc.name
                ));
            }
            match self.stats().await {
                Ok(v) if v["finished"] == Value::Bool(true) && v["state"] == "live" => {
                    return Ok(v)
                }
                Ok(v) => {
                    if let Some(e) = v["error"].as_str() {
                        return Err(format!("{} reports an error: {e}", self.proc.name));
                    }
                    last = v.to_string();
                }
                Err(e) => last = e,
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} not finished after {timeout:?}; last stats: {last}",
                    self.proc.name
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every peer rqbit knows for the torrent, with its counters and `conn_kind`
    /// (`/torrents/0/peer_stats?state=all`: `{"peers": {"ip:port": {...}}}`).
    pub async fn peers(&self) -> Result<Vec<(String, Value)>, String> {
        let v = self.get("/torrents/0/peer_stats?state=all").await?;
        let peers = v["peers"]
            .as_object()
            .ok_or_else(|| format!("peer_stats without `peers`: {v}"))?;
        Ok(peers.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Checks the live settings, not the flags: rqbit's TCP port refuses connections (its TCP
    /// listener is off) and its DHT is off.
    pub async fn assert_live_settings(&self) {
        assert!(
            TcpStream::connect_timeout(&self.addr(), Duration::from_millis(500)).is_err(),
            "{} accepts TCP on {}: its TCP listener should be off",
            self.proc.name,
            self.addr()
        );
        match self.get("/dht/stats").await {
            Err(e) if e.contains("dht_disabled") => {}
            other => panic!("{}: DHT should be off: {other:?}", self.proc.name),
        }
    }
}
