//! Real peers as child processes: libtorrent (lt_peer.py) and aria2, each
//! behind a guard that kills and reaps it on drop.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{free_port, local, require_aria2, require_libtorrent, require_tool, PYTHON};

/// A child process that is stopped (SIGTERM, then SIGKILL) and reaped when the
/// guard drops. Its stdout lines are collected (and can be waited for); its
/// stderr goes to a log file whose tail is printed if the test is panicking.
pub struct ChildGuard {
    pub name: String,
    child: Option<Child>,
    lines_rx: Option<mpsc::Receiver<String>>,
    lines: Arc<Mutex<Vec<String>>>,
    pub log_path: PathBuf,
    _log_dir: Option<tempfile::TempDir>,
    exit: Option<ExitStatus>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl ChildGuard {
    /// Spawns `cmd` with stdout captured and stderr to a log file. On Linux the
    /// child also gets SIGKILL if this (spawning) thread dies, via setpriv.
    pub fn spawn(name: &str, cmd: Command) -> ChildGuard {
        Self::spawn_with_pdeathsig(name, cmd, "KILL")
    }

    /// Like [`spawn`], with the signal the child gets when this thread dies
    /// (TERM for a supervisor that must clean up after itself).
    pub fn spawn_with_pdeathsig(name: &str, cmd: Command, pdeathsig: &str) -> ChildGuard {
        let log_dir = super::temp_dir(&format!("log-{name}"));
        let log_path = log_dir.path().join("stderr.log");
        let log = fs::File::create(&log_path).expect("create child log");
        // Wrap in setpriv --pdeathsig so an aborted test leaves no orphan peer.
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let mut real = if super::which("setpriv").is_some() {
            let mut c = Command::new("setpriv");
            c.arg("--pdeathsig")
                .arg(pdeathsig)
                .arg("--")
                .arg(&program)
                .args(&args);
            c
        } else {
            let mut c = Command::new(&program);
            c.args(&args);
            c
        };
        if let Some(dir) = cmd.get_current_dir() {
            real.current_dir(dir);
        }
        for (k, v) in cmd.get_envs() {
            match v {
                Some(v) => real.env(k, v),
                None => real.env_remove(k),
            };
        }
        real.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = real
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", program.to_string_lossy()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let lines2 = lines.clone();
        let reader = std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    lines2
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(line.clone());
                    if tx.send(line).is_err() {
                        // nobody waits for lines any more; keep draining
                    }
                }
            })
            .expect("spawn stdout reader");
        ChildGuard {
            name: name.to_string(),
            child: Some(child),
            lines_rx: Some(rx),
            lines,
            log_path,
            _log_dir: Some(log_dir),
            exit: None,
            reader: Some(reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// All stdout lines so far.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The last `n` lines of the child's stderr log.
    pub fn stderr_tail(&self, n: usize) -> String {
        let s = fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    fn describe(&self) -> String {
        let out = self.stdout_lines();
        let out = &out[out.len().saturating_sub(15)..];
        format!(
            "{} (pid {}):\n--- stdout (last lines)\n{}\n--- stderr (last lines)\n{}",
            self.name,
            self.pid(),
            out.join("\n"),
            self.stderr_tail(30)
        )
    }

    /// Exit status if the child has exited.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    self.exit = Some(st);
                }
            }
        }
        self.exit
    }

    /// Waits (blocking) for the next stdout line starting with `prefix`.
    /// Lines with other prefixes are skipped. Errors if the child exits first
    /// or on timeout, with the child's output in the message.
    pub fn wait_line(&mut self, prefix: &str, timeout: Duration) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "no `{prefix}` line within {timeout:?} from {}",
                    self.describe()
                ));
            }
            let rx = self.lines_rx.as_ref().expect("line receiver");
            match rx.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) if line.starts_with(prefix) => return Ok(line),
                Ok(line) if line.starts_with("FAILED") => {
                    return Err(format!(
                        "{} said `{line}` while we waited for `{prefix}`: {}",
                        self.name,
                        self.describe()
                    ))
                }
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let st = self.wait_exit(Duration::from_secs(2));
                    return Err(format!(
                        "{} exited ({st:?}) before `{prefix}`: {}",
                        self.name,
                        self.describe()
                    ));
                }
            }
        }
    }

    /// Async version of [`wait_line`]: polls so the caller's runtime (and the
    /// engine in it) keeps running.
    pub async fn wait_line_async(
        &mut self,
        prefix: &str,
        timeout: Duration,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let rx = self.lines_rx.as_ref().expect("line receiver");
            loop {
                match rx.try_recv() {
                    Ok(line) if line.starts_with(prefix) => return Ok(line),
                    Ok(line) if line.starts_with("FAILED") => {
                        return Err(format!(
                            "{} said `{line}` while we waited for `{prefix}`: {}",
                            self.name,
                            self.describe()
                        ))
                    }
                    Ok(_) => continue,
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => {
                        let st = self.wait_exit(Duration::from_secs(2));
                        return Err(format!(
                            "{} exited ({st:?}) before `{prefix}`: {}",
                            self.name,
                            self.describe()
                        ));
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "no `{prefix}` line within {timeout:?} from {}",
                    self.describe()
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Waits (blocking) up to `timeout` for the child to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_exit() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Async: waits for the child to exit; Err on timeout (child's output included).
    pub async fn wait_exit_async(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_exit() {
                return Ok(st);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} still running after {timeout:?}: {}",
                    self.name,
                    self.describe()
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Stops the child now: SIGTERM, up to 3 s grace, then SIGKILL; reaps it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if self.exit.is_none() && matches!(child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
        }
        if let Ok(st) = child.wait() {
            self.exit = Some(st);
        }
        // The child is gone, so its stdout hits EOF: collect the last lines.
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        self.stop();
        if panicking {
            eprintln!("==== output of {}", self.describe());
        }
    }
}

/// Waits until something accepts TCP connections on 127.0.0.1:port.
pub fn wait_tcp_listening(
    port: u16,
    child: &mut ChildGuard,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if TcpStream::connect_timeout(&local(port), Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Some(st) = child.try_exit() {
            return Err(format!(
                "{} exited ({st}) before listening on {port}: {}",
                child.name,
                child.describe()
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{} not listening on {port} after {timeout:?}: {}",
                child.name,
                child.describe()
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// libtorrent

/// Options for an lt_peer.py seeder or leecher.
#[derive(Clone, Debug, Default)]
pub struct LtOpts {
    /// Announce to this tracker URL (and only this one). None: never announce.
    pub tracker: Option<String>,
    /// Re-announce every this many seconds (so a seeder learns new leechers).
    pub reannounce_secs: Option<f64>,
    /// Peers to dial (re-dialled until connected).
    pub connect: Vec<SocketAddr>,
    /// Seed data with one flipped byte in every piece.
    pub corrupt: bool,
    /// Leech: exit at FINISHED, skipping the final full recheck.
    pub no_recheck: bool,
    /// Seed: cap the upload rate (bytes/s).
    pub upload_limit: Option<u64>,
    /// The peer gives up after this long (default 90 s).
    pub timeout: Option<Duration>,
    /// Keep peer exchange (ut_pex) on.
    pub pex: bool,
    /// Local service discovery on (only inside scripts/in-netns.sh).
    pub lsd: bool,
    /// Listen and dial on this loopback address. Default 127.0.0.1, but 127.0.0.2 for a
    /// corrupt seeder: bans are by address, and a liar must not share one with honest peers.
    /// `::1` for an IPv6 peer.
    pub ip: Option<std::net::IpAddr>,
    /// MSE/PE policy: `forced` (RC4 only, plaintext refused), `enabled` (libtorrent's
    /// default) or `disabled`. None: libtorrent's default.
    pub encryption: Option<&'static str>,
    /// Transports (`tcp`, `utp` = TCP off both ways, `both`). None: TCP only.
    pub transport: Option<&'static str>,
}

/// A running libtorrent peer (lt_peer.py).
pub struct LtPeer {
    pub proc: ChildGuard,
    pub ip: std::net::IpAddr,
    pub port: u16,
}

impl LtPeer {
    fn start(mode: &str, torrent: &Path, dir: &Path, opts: &LtOpts) -> LtPeer {
        require_libtorrent();
        let mut cmd = Command::new(PYTHON);
        cmd.arg(super::lt_peer_script())
            .arg(mode)
            .arg(torrent)
            .arg(dir);
        let ip = opts.ip.unwrap_or(if opts.corrupt {
            std::net::Ipv4Addr::new(127, 0, 0, 2).into()
        } else {
            std::net::Ipv4Addr::LOCALHOST.into()
        });
        assert!(ip.is_loopback(), "test peers must be on loopback, got {ip}");
        cmd.arg("--listen").arg(SocketAddr::new(ip, 0).to_string());
        if let Some(url) = &opts.tracker {
            cmd.arg("--tracker-announce").arg("--tracker").arg(url);
        }
        if let Some(s) = opts.reannounce_secs {
            cmd.arg("--reannounce").arg(s.to_string());
        }
        for p in &opts.connect {
            assert!(
                p.ip().is_loopback(),
                "test peers must be on loopback, got {p}"
            );
            cmd.arg("--connect").arg(p.to_string());
        }
        if opts.corrupt {
            cmd.arg("--corrupt");
        }
        if opts.no_recheck {
            cmd.arg("--no-recheck");
        }
        if opts.pex {
            cmd.arg("--pex");
        }
        if opts.lsd {
            assert!(
                std::env::var_os("TORRENTEDGE_IN_NETNS").is_some(),
                "LSD multicast may run only inside scripts/in-netns.sh"
            );
            cmd.arg("--lsd");
        }
        if let Some(e) = opts.encryption {
            cmd.arg("--encryption").arg(e);
        }
        if let Some(t) = opts.transport {
            cmd.arg("--transport").arg(t);
        }
        if let Some(limit) = opts.upload_limit {
            cmd.arg("--upload-limit").arg(limit.to_string());
        }
        let timeout = opts.timeout.unwrap_or(Duration::from_secs(90));
        cmd.arg("--timeout").arg(timeout.as_secs_f64().to_string());
        let name = format!("lt-{mode}{}", if opts.corrupt { "-corrupt" } else { "" });
        let mut proc = ChildGuard::spawn(&name, cmd);
        let line = proc
            .wait_line("READY", Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        let port = line
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("bad READY line from {name}: {line}"));
        LtPeer { proc, ip, port }
    }

    /// Starts a libtorrent seeder of `torrent` whose data is under `data_dir`
    /// (the directory that holds the torrent's file or top folder). When it
    /// announces, returns only after its first tracker reply.
    pub fn seed(torrent: &Path, data_dir: &Path, opts: LtOpts) -> LtPeer {
        let mut p = Self::start("seed", torrent, data_dir, &opts);
        if opts.tracker.is_some() {
            p.proc
                .wait_line("ANNOUNCED", Duration::from_secs(20))
                .unwrap_or_else(|e| panic!("seeder never announced: {e}"));
        }
        p
    }

    /// Starts a libtorrent leecher that saves into `out_dir`.
    pub fn leech(torrent: &Path, out_dir: &Path, opts: LtOpts) -> LtPeer {
        Self::start("leech", torrent, out_dir, &opts)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, self.port))
    }

    /// Leecher: waits until two PROGRESS lines in a row (a second apart) count at least `n`
    /// connected peers. libtorrent counts a peer still in its handshake; a second later it
    /// is past it.
    pub async fn wait_peers(&mut self, n: u32, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let counts: Vec<u32> = self
                .proc
                .stdout_lines()
                .iter()
                .rev()
                .filter_map(|l| l.strip_prefix("PROGRESS "))
                .filter_map(|rest| rest.split_whitespace().nth(3)?.parse().ok())
                .take(2)
                .collect();
            if counts.len() == 2 && counts.iter().all(|&c| c >= n) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "fewer than {n} peers after {timeout:?}: {counts:?}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Leecher: waits for DONE (complete, recheck passed) and a clean exit.
    pub async fn wait_done(&mut self, timeout: Duration) -> Result<(), String> {
        self.proc.wait_line_async("DONE", timeout).await?;
        let st = self.proc.wait_exit_async(Duration::from_secs(10)).await?;
        if !st.success() {
            return Err(format!("libtorrent leecher said DONE but exited with {st}"));
        }
        Ok(())
    }

    /// Waits for the leecher to finish, and fails the test if any piece it got from us
    /// failed its hash check.
    pub async fn expect_clean_download(&mut self, timeout: Duration) {
        self.wait_done(timeout)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let bad = self.hash_failures();
        assert!(bad.is_empty(), "engine served bad pieces: {bad:?}");
    }

    /// Stops the peer and returns the payload bytes it uploaded (its last
    /// UPLOADED line; 0 if it never uploaded).
    pub fn stop_and_uploaded(&mut self) -> u64 {
        self.proc.stop();
        self.proc
            .stdout_lines()
            .iter()
            .rev()
            .find_map(|l| {
                l.strip_prefix("UPLOADED ")
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Pieces this peer reported as failing their hash check (HASHFAIL lines).
    pub fn hash_failures(&self) -> Vec<u32> {
        self.proc
            .stdout_lines()
            .iter()
            .filter_map(|l| {
                l.strip_prefix("HASHFAIL ")
                    .and_then(|p| p.trim().parse().ok())
            })
            .collect()
    }
}

/// Makes a v1 .torrent of `content` (a file or a directory) with libtorrent's
/// create_torrent. Returns the info-hash hex libtorrent computed.
pub fn lt_make_torrent(content: &Path, out: &Path, piece_size: u32, trackers: &[String]) -> String {
    require_libtorrent();
    let mut cmd = Command::new(PYTHON);
    cmd.arg(super::lt_peer_script())
        .arg("make-torrent")
        .arg(content)
        .arg(out);
    cmd.arg("--piece-size").arg(piece_size.to_string());
    for t in trackers {
        cmd.arg("--tracker").arg(t);
    }
    let o = cmd.output().expect("run lt_peer.py make-torrent");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "lt_peer.py make-torrent failed: {stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("CREATED "))
        .expect("CREATED line");
    let ih = line
        .split_whitespace()
        .nth(1)
        .expect("info-hash")
        .to_string();
    assert_eq!(
        ih,
        super::torrent_info_hash_hex(out),
        "libtorrent and the test disagree on the info-hash"
    );
    ih
}

/// Makes a .torrent with mktorrent (another real creator). Returns the info-hash hex.
pub fn mktorrent(content: &Path, out: &Path, piece_size: u32, trackers: &[String]) -> String {
    require_tool("mktorrent", "mktorrent");
    assert!(
        piece_size.is_power_of_two(),
        "mktorrent takes a power-of-two piece size"
    );
    let mut cmd = Command::new("mktorrent");
    cmd.arg("-l")
        .arg(piece_size.trailing_zeros().to_string())
        .arg("-o")
        .arg(out);
    for t in trackers {
        cmd.arg("-a").arg(t);
    }
    cmd.arg(content);
    let o = cmd.output().expect("run mktorrent");
    assert!(
        o.status.success(),
        "mktorrent failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    super::torrent_info_hash_hex(out)
}

// ---------------------------------------------------------------------------
// aria2

/// A running aria2c.
pub struct Aria2 {
    pub proc: ChildGuard,
    pub port: u16,
}

fn aria2_cmd(port: u16) -> Command {
    require_aria2();
    let mut cmd = Command::new("aria2c");
    cmd.args([
        "--no-conf",
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--interface=127.0.0.1",
        "--disable-ipv6=true",
        "--file-allocation=none",
        "--summary-interval=0",
        "--console-log-level=warn",
        "--bt-max-peers=0",
        "--follow-torrent=false",
    ]);
    cmd.arg(format!("--listen-port={port}"));
    cmd
}

impl Aria2 {
    /// Seeds `torrent` from `data_dir` after verifying it (-V). aria2 dials
    /// nobody without a tracker; peers dial it. It announces to the torrent's
    /// trackers, if any.
    pub fn seed(torrent: &Path, data_dir: &Path) -> Aria2 {
        let port = free_port();
        let mut cmd = aria2_cmd(port);
        cmd.args(["--seed-ratio=0.0", "-V", "--bt-seed-unverified=false"]);
        cmd.arg("-d").arg(data_dir).arg(torrent);
        let mut proc = ChildGuard::spawn("aria2-seed", cmd);
        wait_tcp_listening(port, &mut proc, Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("{e}"));
        Aria2 { proc, port }
    }

    /// Downloads `torrent` into `out_dir`; it finds peers through the
    /// torrent's (HTTP) tracker and exits 0 once complete (--seed-time=0).
    pub fn leech(torrent: &Path, out_dir: &Path) -> Aria2 {
        let port = free_port();
        let mut cmd = aria2_cmd(port);
        cmd.args([
            "--seed-time=0",
            "--bt-tracker-interval=1",
            "--check-integrity=true",
        ]);
        cmd.arg("-d").arg(out_dir).arg(torrent);
        let proc = ChildGuard::spawn("aria2-leech", cmd);
        Aria2 { proc, port }
    }

    pub fn addr(&self) -> SocketAddr {
        local(self.port)
    }

    /// Leecher: waits for aria2 to exit successfully.
    pub async fn wait_done(&mut self, timeout: Duration) -> Result<(), String> {
        let st = self.proc.wait_exit_async(timeout).await?;
        if st.success() {
            Ok(())
        } else {
            Err(format!("aria2 exited with {st}: {}", self.proc.describe()))
        }
    }
}
