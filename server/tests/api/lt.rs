//! A real libtorrent peer (`engine/tests/peers/lt_peer.py`, `/usr/bin/python3` with
//! `python3-libtorrent`) for tests that download from something other than ourselves.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A libtorrent peer (engine/tests/peers/lt_peer.py), stopped with SIGTERM when dropped.
pub struct LtPeer {
    child: Child,
    pub port: u16,
    /// Payload uploaded so far, from its `UPLOADED` lines (updated about once a second).
    uploaded: Arc<AtomicU64>,
}

impl LtPeer {
    /// A seeder that keeps dialling `connect`.
    pub fn seed(torrent: &Path, dir: &Path, upload_limit: u64, connect: &str) -> LtPeer {
        Self::spawn_seed(torrent, dir, upload_limit, &["--connect", connect])
    }

    /// A seeder that only waits to be dialled.
    pub fn seed_waiting(torrent: &Path, dir: &Path, upload_limit: u64) -> LtPeer {
        Self::spawn_seed(torrent, dir, upload_limit, &[])
    }

    /// A seeder that finds peers only through the torrent's trackers, announcing every
    /// `every` seconds (libtorrent otherwise waits out the tracker's interval).
    pub fn seed_announcing(torrent: &Path, dir: &Path, every: u32) -> LtPeer {
        let every = every.to_string();
        Self::spawn_seed(
            torrent,
            dir,
            0,
            &["--tracker-announce", "--reannounce", &every],
        )
    }

    /// A seeder that waits to be dialled and speaks only RC4-encrypted MSE (plaintext
    /// refused both ways).
    pub fn seed_encrypted_only(torrent: &Path, dir: &Path, upload_limit: u64) -> LtPeer {
        Self::spawn_seed(torrent, dir, upload_limit, &["--encryption", "forced"])
    }

    pub fn uploaded(&self) -> u64 {
        self.uploaded.load(Ordering::SeqCst)
    }

    fn spawn_seed(torrent: &Path, dir: &Path, upload_limit: u64, extra: &[&str]) -> LtPeer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/peers/lt_peer.py");
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg("seed")
            .arg(torrent)
            .arg(dir)
            .args(["--listen", "127.0.0.1:0", "--timeout", "600"])
            .args(extra)
            .args(["--upload-limit", &upload_limit.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start lt_peer.py (python3-libtorrent)");
        let stdout = child.stdout.take().unwrap();
        let uploaded = Arc::new(AtomicU64::new(0));
        let up = uploaded.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("UPLOADED ") {
                    up.store(n.trim().parse().unwrap_or(0), Ordering::SeqCst);
                } else {
                    let _ = tx.send(line);
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(l) if l.starts_with("READY ") => break l[6..].trim().parse().unwrap(),
                Ok(l) if l.starts_with("FAILED") => panic!("lt_peer: {l}"),
                Ok(_) => {}
                Err(_) => panic!("lt_peer did not get ready"),
            }
        };
        LtPeer {
            child,
            port,
            uploaded,
        }
    }
}

impl Drop for LtPeer {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Stops a peer process we started: SIGTERM (it saves and exits cleanly), SIGKILL after 10 s.
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A random file under `seed_dir` and its `.torrent` made by libtorrent, for a real seeder
/// to serve (`work` holds both, and whatever else a test puts beside them).
pub struct SeedData {
    pub work: tempfile::TempDir,
    pub seed_dir: std::path::PathBuf,
    pub source: std::path::PathBuf,
    pub torrent_path: std::path::PathBuf,
    pub ih: String,
}

impl SeedData {
    /// `data` in `seed/<name>`, cut into `piece_size` pieces.
    pub fn new(name: &str, data: &[u8], piece_size: u32) -> SeedData {
        let work = tempfile::tempdir().unwrap();
        let seed_dir = work.path().join("seed");
        let source = seed_dir.join(name);
        std::fs::create_dir_all(&seed_dir).unwrap();
        std::fs::write(&source, data).unwrap();
        let stem = Path::new(name).file_stem().unwrap_or(name.as_ref());
        let torrent_path = work.path().join(stem).with_extension("torrent");
        let ih = lt_make_torrent(&source, &torrent_path, piece_size);
        SeedData {
            work,
            seed_dir,
            source,
            torrent_path,
            ih,
        }
    }
}

pub fn lt_make_torrent(path: &Path, out: &Path, piece_size: u32) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/peers/lt_peer.py");
    let o = Command::new("/usr/bin/python3")
        .arg(script)
        .args(["make-torrent"])
        .arg(path)
        .arg(out)
        .args(["--piece-size", &piece_size.to_string()])
        .output()
        .expect("lt_peer.py make-torrent");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "make-torrent: {text}");
    // CREATED <infohash> <pieces> <piece length>
    text.split_whitespace().nth(1).unwrap().to_owned()
}

/// A libtorrent leecher fetching `source` (a `.torrent` path or a magnet link) from `peer`
/// into `out`, with `extra` options; true once it says `DONE`.
pub fn lt_leech(source: &std::ffi::OsStr, out: &Path, peer: &str, extra: &[&str]) -> bool {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/peers/lt_peer.py");
    let mut leech = Command::new("/usr/bin/python3")
        .arg(script)
        .arg("leech")
        .arg(source)
        .arg(out)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .args(["--connect", peer])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lt_peer.py (python3-libtorrent)");
    let end = BufReader::new(leech.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("DONE") || l.starts_with("FAILED"));
    let _ = leech.wait();
    end.is_some_and(|l| l.starts_with("DONE"))
}
