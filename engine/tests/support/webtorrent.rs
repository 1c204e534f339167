//! A WebTorrent leecher (`tests/peers/wt_leech.mjs`, WebTorrent as a library under node),
//! installed by scripts/setup.sh (`npm install -g --ignore-scripts webtorrent-cli`, with its
//! WebRTC addon made a lazy error: it cannot build here and TCP does not need it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::ChildGuard;

/// Where the `webtorrent` package is, or why not.
pub fn webtorrent_module() -> Result<PathBuf, String> {
    super::which("node").ok_or("node is not installed")?;
    let root = Command::new("npm")
        .args(["root", "-g"])
        .output()
        .map_err(|e| format!("npm: {e}"))?;
    let root = PathBuf::from(String::from_utf8_lossy(&root.stdout).trim());
    [
        root.join("webtorrent-cli/node_modules/webtorrent"),
        root.join("webtorrent"),
    ]
    .into_iter()
    .find(|p| p.join("index.js").is_file())
    .ok_or_else(|| {
        format!(
            "webtorrent is not installed under {} (scripts/setup.sh installs it)",
            root.display()
        )
    })
}

/// A running WebTorrent leecher.
pub struct WtLeecher {
    pub proc: ChildGuard,
}

impl WtLeecher {
    /// Downloads `torrent` into `out` from `peer` only.
    pub fn start(torrent: &Path, out: &Path, peer: SocketAddr) -> Result<WtLeecher, String> {
        assert!(peer.ip().is_loopback(), "test peers are on loopback");
        let module = webtorrent_module()?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/wt_leech.mjs");
        let mut cmd = Command::new("node");
        cmd.arg(script)
            .arg(module)
            .arg(torrent)
            .arg(out)
            .arg(peer.to_string())
            .arg("90");
        let mut proc = ChildGuard::spawn("webtorrent", cmd);
        proc.wait_line("READY", Duration::from_secs(30))?;
        Ok(WtLeecher { proc })
    }

    /// Waits for `DONE` (every piece verified by WebTorrent) and a clean exit.
    pub async fn wait_done(&mut self, timeout: Duration) -> Result<(), String> {
        self.proc.wait_line_async("DONE", timeout).await?;
        let st = self.proc.wait_exit_async(Duration::from_secs(10)).await?;
        if !st.success() {
            return Err(format!("webtorrent said DONE but exited with {st}"));
        }
        Ok(())
    }
}
