//! Crash safety (issue 11): `torrentedge download` is killed with SIGKILL at pseudo-random
//! moments while it downloads from a real libtorrent seeder, and started again on the same
//! folder each time. At the end the data is byte-identical, the seeder uploaded little more
//! than one copy (pieces verified before a kill are not fetched again), no restart hashed
//! the whole torrent, and a last run on the finished folder hashes nothing.
//!
//! `scripts/in-netns.sh cargo test -p server --test crash`

#[path = "api/lt.rs"]
mod lt;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SIZE: usize = 24 << 20;
const PIECE: u32 = 128 << 10;
/// The seeder's upload cap: the download takes about four seconds, long enough to be killed
/// mid-way many times.
const RATE: u64 = 6 << 20;
const KILLS: usize = 10;
/// What one kill may cost at most: requests in flight and pieces partly assembled.
const IN_FLIGHT: u64 = 4 << 20;

/// One run of `torrentedge download`; returns whether it finished, and its stderr.
fn run(torrent: &Path, out: &Path, seeder: u16, kill_after: Option<Duration>) -> (bool, String) {
    let log = out.with_extension("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .arg("download")
        .arg(torrent)
        .arg("-o")
        .arg(out)
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--quiet",
            "--no-dht",
            "--no-utp",
        ])
        .args(["--peer", &format!("127.0.0.1:{seeder}")])
        .env("RUST_LOG", "warn,engine::torrent::resume=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start torrentedge download");
    let deadline = Instant::now() + kill_after.unwrap_or(Duration::from_secs(120));
    let finished = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if Instant::now() >= deadline {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break false;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (finished, std::fs::read_to_string(&log).unwrap_or_default())
}

/// `(to_hash, of)` from the run's "resume plan" log line.
fn plan_of(log: &str) -> Option<(u64, u64)> {
    let line = log.lines().find(|l| l.contains("resume plan"))?;
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
    };
    Some((field("to_hash=")?, field("of=")?))
}

#[test]
fn killed_downloads_resume_without_refetching_or_rehashing() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut data = vec![0u8; SIZE];
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(src.join("payload.bin"), &data).unwrap();
    let torrent = work.path().join("payload.torrent");
    lt::lt_make_torrent(&src.join("payload.bin"), &torrent, PIECE);
    let seeder = lt::LtPeer::seed_waiting(&torrent, &src, RATE);
    let out = work.path().join("out");

    let mut kills = 0;
    let mut wait = 0x2545_f491u64;
    let mut plans = Vec::new();
    let mut finished = false;
    for _ in 0..KILLS + 20 {
        // 0.4–1.3 s per run, pseudo-random; after KILLS kills, let it finish.
        wait = wait
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let after = (kills < KILLS).then(|| Duration::from_millis(400 + (wait >> 33) % 900));
        let (done, log) = run(&torrent, &out, seeder.port, after);
        if let Some(p) = plan_of(&log) {
            plans.push(p);
        }
        if done {
            finished = true;
            break;
        }
        kills += 1;
    }
    assert!(finished, "never finished; plans {plans:?}");
    assert!(kills >= 3, "only {kills} kills landed mid-download");
    assert_eq!(
        std::fs::read(out.join("payload.bin")).unwrap(),
        data,
        "byte-identical after {kills} kills"
    );

    // Every restart that had a record hashed less than the whole torrent.
    let pieces = (SIZE as u64).div_ceil(u64::from(PIECE));
    assert!(plans.iter().all(|&(_, of)| of == pieces), "{plans:?}");
    let restarts: Vec<u64> = plans.iter().skip(1).map(|&(h, _)| h).collect();
    assert!(
        restarts.iter().all(|&h| h < pieces),
        "a restart rehashed everything: {plans:?}"
    );

    // Pieces verified before a kill were not fetched again.
    std::thread::sleep(Duration::from_millis(1500)); // the seeder reports once a second
    let uploaded = seeder.uploaded();
    let bound = SIZE as u64 + kills as u64 * IN_FLIGHT;
    eprintln!(
        "crash test: {kills} kills, seeder uploaded {uploaded} bytes for {SIZE} ({:.2}x), restart plans {plans:?}",
        uploaded as f64 / SIZE as f64
    );
    assert!(uploaded <= bound, "seeder uploaded {uploaded} > {bound}");

    // The finished folder: a last run hashes nothing and is done at once.
    let (done, log) = run(&torrent, &out, seeder.port, None);
    assert!(done, "{log}");
    assert_eq!(plan_of(&log), Some((0, pieces)), "{log}");
}
