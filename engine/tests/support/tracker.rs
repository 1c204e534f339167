//! opentracker on 127.0.0.1 (HTTP and UDP on one port), with a per-test
//! whitelist of info-hashes, and a fake HTTP tracker for malformed replies.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::procs::{wait_tcp_listening, ChildGuard};
use super::{free_port, require_opentracker};

/// A running opentracker. Debian's build only tracks whitelisted info-hashes:
/// the whitelist is a file of hex info-hashes, one per line, that opentracker
/// reads after it chroots into its directory (`-d DIR -w /whitelist`) and
/// re-reads on SIGHUP. It drops privileges to `nobody`, so the directory and
/// file must be world-readable. Its announce interval is about 30 minutes:
/// peers that must meet should announce after one another (the later one
/// gets the earlier one), or re-announce on their own schedule.
pub struct Opentracker {
    pub proc: ChildGuard,
    pub port: u16,
    dir: tempfile::TempDir,
    hashes: Vec<String>,
}

impl Opentracker {
    /// Starts opentracker on a free 127.0.0.1 port (TCP and UDP), tracking
    /// the given hex info-hashes.
    pub fn start(info_hashes: &[&str]) -> Opentracker {
        require_opentracker();
        let dir = super::temp_dir("opentracker");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755))
                .expect("chmod tracker dir");
        }
        let hashes: Vec<String> = info_hashes.iter().map(|h| h.to_ascii_lowercase()).collect();
        write_whitelist(&whitelist_path(&dir), &hashes);
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            // opentracker drops root for `nobody`, which clears the
            // parent-death signal that ChildGuard sets up: a tiny shell
            // keeps it (and forwards TERM and HUP) so an aborted test
            // leaves no tracker behind.
            let mut cmd = Command::new("sh");
            cmd.arg("-c")
                .arg(OPENTRACKER_SUPERVISOR)
                .arg("opentracker-supervisor");
            cmd.args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-P",
                &port.to_string(),
            ]);
            cmd.arg("-d").arg(dir.path()).args(["-w", "/whitelist"]);
            let mut proc = ChildGuard::spawn_with_pdeathsig("opentracker", cmd, "TERM");
            match wait_tcp_listening(port, &mut proc, Duration::from_secs(10)) {
                Ok(()) => {
                    let t = Opentracker {
                        proc,
                        port,
                        dir,
                        hashes,
                    };
                    for h in &t.hashes {
                        t.wait_whitelisted(h);
                    }
                    return t;
                }
                Err(e) => last_err = e,
            }
        }
        panic!("opentracker did not start: {last_err}");
    }

    /// `http://127.0.0.1:PORT/announce`.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    /// `udp://127.0.0.1:PORT/announce`.
    pub fn udp_url(&self) -> String {
        format!("udp://127.0.0.1:{}/announce", self.port)
    }

    /// Adds an info-hash to the whitelist and makes opentracker reload it.
    pub fn allow(&mut self, info_hash_hex: &str) {
        self.hashes.push(info_hash_hex.to_ascii_lowercase());
        write_whitelist(&whitelist_path(&self.dir), &self.hashes);
        let st = Command::new("kill")
            .arg("-HUP")
            .arg(self.proc.pid().to_string())
            .status();
        assert!(
            matches!(st, Ok(s) if s.success()),
            "SIGHUP to opentracker failed"
        );
        self.wait_whitelisted(&info_hash_hex.to_ascii_lowercase());
    }

    /// opentracker loads its whitelist in a worker thread, after it already
    /// answers: poll with a `started` announce (of a probe peer at port 9)
    /// until the hash is no longer refused, then remove the probe peer with
    /// a `stopped` announce. (A `stopped` announce alone is no probe: it is
    /// answered before the whitelist is consulted.)
    fn wait_whitelisted(&self, hex: &str) {
        let ih = engine::InfoHash::from_hex(hex).expect("whitelist hash is hex");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while std::time::Instant::now() < deadline {
            last = self.probe(&ih, "started");
            if last.contains("200 OK") && !last.contains("failure reason") {
                let stop = self.probe(&ih, "stopped");
                assert!(
                    stop.contains("200 OK"),
                    "opentracker did not take the probe's stop: {stop}"
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("opentracker still refuses {hex} after 10 s; last reply: {last}");
    }

    pub fn probe(&self, ih: &engine::InfoHash, event: &str) -> String {
        use std::io::Read;
        let req = format!(
            "GET /announce?info_hash={}&peer_id=-PROBE-0000000000000&port=9&uploaded=0&downloaded=0&left=1\
             &event={event}&compact=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
            ih.url_encode()
        );
        let Ok(mut sock) = std::net::TcpStream::connect(super::local(self.port)) else {
            return String::new();
        };
        let _ = sock.set_read_timeout(Some(Duration::from_secs(2)));
        if sock.write_all(req.as_bytes()).is_err() {
            return String::new();
        }
        let mut resp = Vec::new();
        let _ = sock.read_to_end(&mut resp);
        String::from_utf8_lossy(&resp).into_owned()
    }
}

/// Runs `opentracker "$@"`, forwards HUP (whitelist reload) and stops it on
/// TERM/INT (sent by ChildGuard, or by the kernel when the test dies).
const OPENTRACKER_SUPERVISOR: &str = r#"
opentracker "$@" &
p=$!
trap 'kill -HUP $p' HUP
trap 'kill -TERM $p 2>/dev/null; wait $p; exit 0' TERM INT
while kill -0 $p 2>/dev/null; do wait $p; done
"#;

fn whitelist_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("whitelist")
}

fn write_whitelist(path: &std::path::Path, hashes: &[String]) {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).expect("write whitelist");
    for h in hashes {
        assert_eq!(h.len(), 40, "whitelist entries are 40 hex digits: {h}");
        writeln!(f, "{h}").expect("write whitelist");
    }
    drop(f);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644)).expect("chmod whitelist");
    }
    fs::rename(&tmp, path).expect("install whitelist");
}

/// A fake HTTP tracker (tokio, 127.0.0.1) that answers every request with the
/// given bodies in turn (the last one repeats) and counts requests.
pub struct FakeHttpTracker {
    pub port: u16,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// The head (request line and headers) of every request, in order.
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeHttpTracker {
    pub async fn start(bodies: Vec<Vec<u8>>) -> FakeHttpTracker {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        assert!(!bodies.is_empty());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake tracker");
        let port = listener.local_addr().expect("fake tracker addr").port();
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let hits2 = hits.clone();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests2 = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let n = hits2.fetch_add(1, Ordering::SeqCst);
                let body = bodies[n.min(bodies.len() - 1)].clone();
                let requests = requests2.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut got = Vec::new();
                    // read the request head (bounded)
                    while got.len() < 64 * 1024 && !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
                            .await
                        {
                            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    let end = got
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .unwrap_or(got.len());
                    requests
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(String::from_utf8_lossy(&got[..end]).into_owned());
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = sock.write_all(head.as_bytes()).await;
                    let _ = sock.write_all(&body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        FakeHttpTracker {
            port,
            hits,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for FakeHttpTracker {
    fn drop(&mut self) {
        self.task.abort();
    }
}
