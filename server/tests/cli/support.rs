//! What the CLI tests (`cli_rate.rs`, `cli_select.rs`) share: running the binary, waiting
//! for it, test data, and a libtorrent leecher (engine/tests/peers/lt_peer.py) on loopback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `torrentedge ARGS`, its stderr into `log`.
pub fn spawn(args: &[&str], log: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start torrentedge")
}

/// Whether `child` exited successfully within `limit` (panics with its log otherwise).
pub fn wait_exit(child: &mut Child, limit: Duration, log: &Path) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(st) = child.try_wait().unwrap() {
            return st.success();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!(
        "no exit within {limit:?}:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// `len` pseudo-random bytes (xorshift), different for each `seed`.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A libtorrent leecher of `torrent` into `out` that dials 127.0.0.1:`port` (re-dialling
/// until it connects); returns its last line, `DONE …` or `FAILED …` (None if it said neither).
pub fn lt_leech(torrent: &Path, out: &Path, port: u16) -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/peers/lt_peer.py");
    let mut leech = Command::new("/usr/bin/python3")
        .arg(script)
        .arg("leech")
        .arg(torrent)
        .arg(out)
        .args(["--listen", "127.0.0.1:0", "--no-recheck", "--timeout", "60"])
        .args(["--connect", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lt_peer.py (python3-libtorrent)");
    let end = BufReader::new(leech.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("DONE") || l.starts_with("FAILED"));
    let _ = leech.wait();
    end
}
