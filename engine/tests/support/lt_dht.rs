//! libtorrent with its DHT on, bootstrapped only from a loopback node of ours
//! (tests/support/lt_dht.py). Included by DHT tests with
//! `#[path = "support/lt_dht.rs"] mod lt_dht;` next to `mod support;`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{require_libtorrent, ChildGuard, PYTHON};

/// `tests/support/lt_dht.py`.
pub fn lt_dht_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/lt_dht.py")
}

/// A running lt_dht.py.
pub struct LtDht {
    pub proc: ChildGuard,
    pub ip: String,
    pub port: u16,
}

impl LtDht {
    fn start(name: &str, args: &[&str], ip: &str, bootstrap: SocketAddr) -> LtDht {
        require_libtorrent();
        assert!(
            bootstrap.ip().is_loopback(),
            "DHT bootstrap must be a loopback node, got {bootstrap}"
        );
        let mut cmd = Command::new(PYTHON);
        cmd.arg(lt_dht_script())
            .args(args)
            .arg("--listen")
            .arg(format!("{ip}:0"))
            .arg("--bootstrap")
            .arg(bootstrap.to_string())
            .arg("--timeout")
            .arg("110");
        let mut proc = ChildGuard::spawn(name, cmd);
        let line = proc
            .wait_line("READY", Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        let port = line
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad READY line from {name}: {line}"));
        LtDht {
            proc,
            ip: ip.to_string(),
            port,
        }
    }

    /// Seeds `torrent` from `data_dir` on `ip` and announces it on the DHT (repeatedly).
    pub fn seed(torrent: &Path, data_dir: &Path, ip: &str, bootstrap: SocketAddr) -> LtDht {
        let t = torrent.to_string_lossy().into_owned();
        let d = data_dir.to_string_lossy().into_owned();
        Self::start("lt-dht-seed", &["seed", &t, &d], ip, bootstrap)
    }

    /// Asks the DHT for peers of `info_hash_hex` every 2 s, printing `PEER ip:port`.
    pub fn get_peers(info_hash_hex: &str, ip: &str, bootstrap: SocketAddr) -> LtDht {
        Self::start(
            "lt-dht-get-peers",
            &["get-peers", info_hash_hex],
            ip,
            bootstrap,
        )
    }

    /// Downloads `torrent` into `out_dir` with peers from the DHT only (`DONE` when
    /// complete).
    pub fn leech(torrent: &Path, out_dir: &Path, ip: &str, bootstrap: SocketAddr) -> LtDht {
        let t = torrent.to_string_lossy().into_owned();
        let d = out_dir.to_string_lossy().into_owned();
        Self::start("lt-dht-leech", &["leech", &t, &d], ip, bootstrap)
    }

    /// Its listening address (TCP for peers; its DHT uses the same UDP port).
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip.parse().expect("loopback ip"), self.port)
    }

    /// Waits for `PEER <addr>` with this exact address.
    pub async fn wait_peer(&mut self, addr: SocketAddr, timeout: Duration) -> Result<(), String> {
        let want = format!("PEER {addr}");
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let line = self.proc.wait_line_async("PEER ", left).await?;
            if line.trim() == want {
                return Ok(());
            }
        }
    }
}
