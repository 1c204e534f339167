//! A minimal client for A/B benchmarks of the engine without building the server crate.
//!
//! ```sh
//! bench_client download <torrent> <out-dir> <peer-addr>   # exits when every piece is verified
//! bench_client recheck <torrent> <complete-data-dir>     # exits once the check found it complete
//! ```
//!
//! It does what `torrentedge download --bind 127.0.0.1 --port 0 --quiet` does (default session
//! settings, multi-threaded runtime), so the caller's rusage of this process is comparable with
//! the CLI's. `bench/ab.py` drives it. For experiments only, `TE_HASH_THREADS` and
//! `TE_BUFFER_MIB` override `hash_threads` and `max_buffered_bytes`, and `TE_ENCRYPTION`
//! (`disabled`/`enabled`/`required`) the encryption policy (RC4 cost: `required`).

use std::time::{Duration, Instant};

use engine::config::SessionConfig;
use engine::events::Event;
use engine::metainfo::Metainfo;
use engine::session::{AddTorrentOptions, Session};
use engine::status::TorrentState;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: bench_client download <torrent> <dir> <peer> | recheck <torrent> <dir>";
    let (mode, torrent, dir) = match args.as_slice() {
        [_, m, t, d, ..] => (m.as_str(), t, d),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let peers = match (mode, args.get(4)) {
        ("download", Some(p)) => vec![p.parse().expect("peer address")],
        ("recheck", None) => Vec::new(),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let meta = Metainfo::from_bytes(&std::fs::read(torrent).expect("read torrent")).expect("parse");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t0 = Instant::now();
    let ok = runtime.block_on(async move {
        let mut config = SessionConfig {
            listen_addr: "127.0.0.1:0".parse().expect("addr"),
            allow_local_trackers: true,
            ..Default::default()
        };
        // For experiments only: the CLI always uses the default.
        if let Some(n) = std::env::var("TE_HASH_THREADS").ok().and_then(|v| v.parse().ok()) {
            config.hash_threads = n;
        }
        if let Some(mib) = std::env::var("TE_BUFFER_MIB").ok().and_then(|v| v.parse::<usize>().ok()) {
            config.max_buffered_bytes = mib << 20;
        }
        if let Some(e) = std::env::var("TE_ENCRYPTION").ok().and_then(|v| v.parse().ok()) {
            config.encryption = e;
        }
        let session = Session::start(config).await.expect("session");
        let mut rx = session.subscribe();
        let ih = meta.info_hash;
        let opts = AddTorrentOptions {
            save_dir: dir.into(),
            paused: false,
            peers,
            ..Default::default()
        };
        let peers_empty = opts.peers.is_empty();
        let h = session.add_torrent(meta, opts).await.expect("add");
        // Like the CLI: events, plus a status poll every 500 ms while downloading. A recheck
        // that finds everything emits no `Completed`, so poll it finely to time it.
        let poll = if peers_empty { 10 } else { 500 };
        let mut tick = tokio::time::interval(Duration::from_millis(poll));
        let ok = loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Ok(Event::Completed { info_hash }) if info_hash == ih => break true,
                    Ok(Event::Error { message, .. }) => { eprintln!("error: {message}"); break false }
                    _ => {}
                },
                _ = tick.tick() => {
                    let s = h.status();
                    if s.state == TorrentState::Seeding && s.bytes_done == s.total_bytes {
                        break true;
                    }
                    if s.state == TorrentState::Error {
                        eprintln!("error: {:?}", s.error);
                        break false;
                    }
                }
            }
        };
        session.shutdown().await;
        ok
    });
    eprintln!("{mode} done in {:.2} s", t0.elapsed().as_secs_f64());
    std::process::exit(if ok { 0 } else { 1 });
}
