//! `torrentedge download --max-down` and `torrentedge seed --max-up` against real libtorrent
//! peers on 127.0.0.1: the transfer of 8 MiB at 2 MiB/s takes at least the four seconds the
//! limit allows (and not much more).
//!
//! `scripts/in-netns.sh cargo test -p server --test cli_rate`

#[path = "cli/support.rs"]
mod cli;
#[path = "api/lt.rs"]
mod lt;

use std::path::Path;
use std::time::{Duration, Instant};

const SIZE: usize = 8 << 20;
const RATE: &str = "2M";
/// SIZE at 2 MiB/s, less one bucket (50 ms) of slack.
const FLOOR: Duration = Duration::from_millis(3_900);
/// Start-up, checking and the last piece's hashing on a busy machine.
const CEILING: Duration = Duration::from_secs(9);

fn payload(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let seed_dir = dir.join("seed");
    std::fs::create_dir_all(&seed_dir).unwrap();
    let source = seed_dir.join("payload.bin");
    std::fs::write(&source, cli::bytes(SIZE, 0)).unwrap();
    let torrent = dir.join("payload.torrent");
    lt::lt_make_torrent(&source, &torrent, 262144);
    (seed_dir, torrent)
}

fn assert_paced(what: &str, took: Duration) {
    assert!(
        took >= FLOOR,
        "{what}: 8 MiB in {took:?} is faster than {RATE}/s allows"
    );
    assert!(took <= CEILING, "{what}: 8 MiB took {took:?} at {RATE}/s");
}

#[test]
fn download_honours_max_down() {
    let work = tempfile::tempdir().unwrap();
    let (seed_dir, torrent) = payload(work.path());
    let seeder = lt::LtPeer::seed(&torrent, &seed_dir, 0, "127.0.0.1:1");
    let out = work.path().join("out");
    let log = work.path().join("download.log");
    let start = Instant::now();
    let mut child = cli::spawn(
        &[
            "download",
            torrent.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--quiet",
            "--no-dht",
            "--no-utp",
            "--peer",
            &format!("127.0.0.1:{}", seeder.port),
            "--max-down",
            RATE,
        ],
        &log,
    );
    assert!(
        cli::wait_exit(&mut child, Duration::from_secs(60), &log),
        "download failed"
    );
    assert_paced("download", start.elapsed());
    assert_eq!(
        std::fs::read(out.join("payload.bin")).unwrap(),
        std::fs::read(seed_dir.join("payload.bin")).unwrap()
    );
}

#[test]
fn seed_honours_max_up() {
    let work = tempfile::tempdir().unwrap();
    let (seed_dir, torrent) = payload(work.path());
    let port = lt::free_port();
    let log = work.path().join("seed.log");
    let mut seed = cli::spawn(
        &[
            "seed",
            torrent.to_str().unwrap(),
            seed_dir.to_str().unwrap(),
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--quiet",
            "--no-dht",
            "--no-utp",
            "--max-up",
            RATE,
        ],
        &log,
    );
    // Let the seed check its data before the leecher's clock starts.
    std::thread::sleep(Duration::from_millis(1500));
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let start = Instant::now();
    let end = cli::lt_leech(&torrent, &out, port);
    let took = start.elapsed();
    let _ = seed.kill();
    let _ = seed.wait();
    assert!(
        end.as_deref().is_some_and(|l| l.starts_with("DONE")),
        "the leecher did not finish: {end:?}"
    );
    assert_paced("seed", took);
    assert_eq!(
        std::fs::read(out.join("payload.bin")).unwrap(),
        std::fs::read(seed_dir.join("payload.bin")).unwrap(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
