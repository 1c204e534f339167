//! An eavesdropper: tcpdump writing every TCP packet on `lo` to a file, for tests that
//! check what a passive observer sees. Only inside scripts/in-netns.sh, where `lo` carries
//! nothing but the test's own traffic (and the namespace's root may capture).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::ChildGuard;

/// A running capture; [`Capture::finish`] stops it and returns the file's bytes.
pub struct Capture {
    proc: ChildGuard,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Capture {
    /// Starts capturing TCP to and from `port` on `lo` (other tests of the binary share
    /// `lo`), or says why it cannot (no tcpdump, not in a namespace).
    pub fn start(port: u16) -> Result<Capture, String> {
        if std::env::var_os("TORRENTEDGE_IN_NETNS").is_none() {
            return Err("not inside scripts/in-netns.sh: refusing to capture a shared lo".into());
        }
        let tcpdump = super::which("tcpdump")
            .ok_or("tcpdump is not installed (scripts/setup.sh installs it)")?;
        let dir = super::temp_dir("capture");
        let path = dir.path().join("lo.pcap");
        let mut cmd = Command::new(tcpdump);
        // -U: every packet is written at once; -s 0: whole packets; -n: no name lookups;
        // -B: a 64 MiB kernel buffer, so a fast loopback transfer drops few packets.
        cmd.args(["-i", "lo", "-U", "-n", "-s", "0", "-B", "65536", "-w"])
            .arg(&path)
            .args(["tcp", "port"])
            .arg(port.to_string());
        let proc = ChildGuard::spawn("tcpdump", cmd);
        let c = Capture {
            proc,
            path,
            _dir: dir,
        };
        c.wait_listening(Duration::from_secs(10))?;
        Ok(c)
    }

    fn wait_listening(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if std::fs::read_to_string(&self.proc.log_path)
                .unwrap_or_default()
                .contains("listening on")
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "tcpdump did not start: {}",
            self.proc.stderr_tail(10)
        ))
    }

    /// Stops tcpdump (SIGTERM: it flushes and exits) and returns the capture file.
    pub fn finish(mut self) -> Vec<u8> {
        self.proc.stop();
        std::fs::read(&self.path).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
