//! Shared harness for TorrentEdge's real-peer tests.
//!
//! Every test binary includes this module (`mod support;`). It starts real
//! BitTorrent clients (libtorrent through `tests/peers/lt_peer.py`, aria2, rqbit) and
//! opentracker on 127.0.0.1, makes deterministic test data, and drives the
//! engine's `Session`. Children are killed and reaped by Drop guards, even when
//! a test fails.
//!
//! Run the suite inside a private network namespace that has only `lo`:
//! `scripts/in-netns.sh cargo test -p engine --test real_libtorrent`.
#![allow(dead_code)]

mod capture;
mod data;
mod dht;
mod engine_session;
mod fixture;
mod miniupnpd;
mod nginx;
mod procs;
mod rqbit;
mod tracker;
mod webtorrent;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};
use std::time::Duration;

#[allow(unused_imports)]
pub use capture::*;
#[allow(unused_imports)]
pub use data::*;
#[allow(unused_imports)]
pub use dht::*;
#[allow(unused_imports)]
pub use engine_session::*;
#[allow(unused_imports)]
pub use fixture::*;
#[allow(unused_imports)]
pub use miniupnpd::*;
#[allow(unused_imports)]
pub use nginx::*;
#[allow(unused_imports)]
pub use procs::*;
#[allow(unused_imports)]
pub use rqbit::*;
#[allow(unused_imports)]
pub use tracker::*;
#[allow(unused_imports)]
pub use webtorrent::*;

/// The only address any test peer, tracker or engine session uses.
pub const LOCALHOST: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// `tests/peers/lt_peer.py`.
pub fn lt_peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/lt_peer.py")
}

/// Debian's python, the one that has the libtorrent module.
pub const PYTHON: &str = "/usr/bin/python3";

/// `127.0.0.1:port`.
pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from((LOCALHOST, port))
}

/// Says once per test binary whether we run inside scripts/in-netns.sh.
pub fn note_netns() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TORRENTEDGE_IN_NETNS").is_none() {
            eprintln!(
                "note: not inside scripts/in-netns.sh; peers are bound to 127.0.0.1 \
                 but a private network namespace is safer"
            );
        }
    });
}

// ---------------------------------------------------------------------------
// Tools

/// Panics with a clear message when a program the test needs is missing.
/// Missing tools fail the test; they never skip it silently.
pub fn require_tool(program: &str, package: &str) {
    note_netns();
    if which(program).is_none() {
        panic!(
            "`{program}` is not installed (Debian package `{package}`): run `make setup` \
             to install the real peers and trackers the tests need"
        );
    }
}

/// Panics unless /usr/bin/python3 can import libtorrent.
pub fn require_libtorrent() {
    note_netns();
    static CHECKED: Mutex<Option<Result<(), String>>> = Mutex::new(None);
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    let result = checked.get_or_insert_with(|| {
        let out = std::process::Command::new(PYTHON)
            .args(["-c", "import libtorrent; print(libtorrent.__version__)"])
            .output();
        match out {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
            Err(e) => Err(e.to_string()),
        }
    });
    if let Err(e) = result {
        panic!(
            "{PYTHON} cannot import libtorrent (Debian package `python3-libtorrent`): \
             run `make setup`\n{e}"
        );
    }
    assert!(
        lt_peer_script().exists(),
        "missing {}",
        lt_peer_script().display()
    );
}

pub fn require_aria2() {
    require_tool("aria2c", "aria2");
}

pub fn require_opentracker() {
    require_tool("opentracker", "opentracker");
}

pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

// ---------------------------------------------------------------------------
// Ports

/// A port on 127.0.0.1 that is free for both TCP and UDP right now, chosen
/// below the kernel's ephemeral range (32768+) so outgoing connections do not
/// take it, and never handed out twice by this process.
pub fn free_port() -> u16 {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    // Spread test binaries (which run one after another, or in parallel under
    // nextest) over the range by pid.
    let start = 20_000 + (std::process::id() as u16 % 1_000) * 12;
    for i in 0..12_000u32 {
        let port = 20_000 + ((start as u32 - 20_000 + i * 7) % 12_000) as u16;
        if given.contains(&port) {
            continue;
        }
        let tcp = TcpListener::bind((LOCALHOST, port));
        let udp = UdpSocket::bind((LOCALHOST, port));
        if tcp.is_ok() && udp.is_ok() {
            given.insert(port);
            return port;
        }
    }
    panic!("no free port on 127.0.0.1 in 20000..32000");
}

/// A port where nothing listens (connections are refused), for dead trackers
/// and dead peers.
pub fn dead_port() -> u16 {
    free_port()
}

// ---------------------------------------------------------------------------
// Temp dirs and timeouts

/// A fresh temporary directory, removed on drop.
pub fn temp_dir(label: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("te-{label}-"))
        .tempdir()
        .expect("create temp dir")
}

/// Fails the test with `what` if `fut` takes longer than `limit`.
pub async fn hard_timeout<F: std::future::Future>(
    limit: Duration,
    what: &str,
    fut: F,
) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// Default whole-test limit.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);
