//! `torrentedge download --only-files --sequential` and `torrentedge seed --ratio` against
//! real libtorrent peers on 127.0.0.1.
//!
//! `scripts/in-netns.sh cargo test -p server --test cli_select`

#[path = "cli/support.rs"]
mod cli;
#[path = "api/lt.rs"]
mod lt;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const FILES: [(&str, usize); 4] = [
    ("a.bin", 300_001),
    ("b.bin", 500_000),
    ("c.bin", 70_003),
    ("d.bin", 400_000),
];

/// `seed/album/{a,b,c,d}.bin` and its torrent (64 KiB pieces: files share pieces).
fn album(dir: &Path) -> (PathBuf, PathBuf) {
    let seed_dir = dir.join("seed");
    std::fs::create_dir_all(seed_dir.join("album")).unwrap();
    for (i, (name, len)) in FILES.iter().enumerate() {
        std::fs::write(
            seed_dir.join("album").join(name),
            cli::bytes(*len, i as u64),
        )
        .unwrap();
    }
    let torrent = dir.join("album.torrent");
    lt::lt_make_torrent(&seed_dir.join("album"), &torrent, 65536);
    (seed_dir, torrent)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run torrentedge")
}

/// File numbers as `torrentedge info --json` lists them, by path inside the torrent.
fn numbers(torrent: &Path) -> Vec<(u64, String)> {
    let out = run(&["info", "--json", torrent.to_str().unwrap()]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["index"].as_u64().unwrap(),
                f["path"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn download_only_files_skips_the_rest() {
    let work = tempfile::tempdir().unwrap();
    let (seed_dir, torrent) = album(work.path());
    let listed = numbers(&torrent);
    let number = |name: &str| {
        listed
            .iter()
            .find(|(_, p)| p.ends_with(name))
            .map(|(i, _)| *i)
            .unwrap_or_else(|| panic!("{name} not in {listed:?}"))
    };
    // The text listing shows the same numbers.
    let text = String::from_utf8(run(&["info", torrent.to_str().unwrap()]).stdout).unwrap();
    assert!(
        text.lines().any(
            |l| l.split_whitespace().next() == Some(&number("c.bin").to_string())
                && l.ends_with("c.bin")
        ),
        "{text}"
    );
    let wanted = format!("{},{}", number("a.bin"), number("c.bin"));
    let seeder = lt::LtPeer::seed_waiting(&torrent, &seed_dir, 0);
    let out = work.path().join("out");
    let log = work.path().join("download.log");
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
            "--only-files",
            &wanted,
            "--sequential",
            "--first-last-piece",
        ],
        &log,
    );
    assert!(
        cli::wait_exit(&mut child, Duration::from_secs(60), &log),
        "download failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    for (name, _) in FILES {
        let got = out.join("album").join(name);
        if name == "a.bin" || name == "c.bin" {
            assert!(
                std::fs::read(&got).unwrap()
                    == std::fs::read(seed_dir.join("album").join(name)).unwrap(),
                "{name} differs"
            );
        } else {
            assert!(!got.exists(), "skipped {name} was created");
        }
    }
    let bad = run(&[
        "download",
        torrent.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--only-files",
        "0",
    ]);
    assert!(!bad.status.success(), "file numbers start at 1");
}

#[test]
fn seed_stops_at_ratio() {
    let work = tempfile::tempdir().unwrap();
    let (seed_dir, torrent) = album(work.path());
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
            "--ratio",
            "1",
        ],
        &log,
    );
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // lt_peer.py re-dials until connected, so it may start before the seed listens.
    let end = cli::lt_leech(&torrent, &out, port);
    assert!(
        end.as_deref().is_some_and(|l| l.starts_with("DONE")),
        "the leecher did not finish: {end:?}"
    );
    // One full copy uploaded: ratio 1 reached, the seed exits by itself, successfully.
    assert!(
        cli::wait_exit(&mut seed, Duration::from_secs(20), &log),
        "seed --ratio 1 failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
