//! uTP (BEP 29) against rqbit, a second independent uTP implementation (librqbit-utp) beside
//! libtorrent (tests/utp.rs): rqbit runs with TCP listening and TCP dialing off, so every
//! byte it moves goes over uTP, and its API's `conn_kind` of our connection must say `utp`.
//!
//! rqbit is built from crates.io into `~/.cache/torrentedge/rqbit` by `make rqbit`; without it
//! these tests print SKIPPED and pass. `make test-rqbit` builds it and runs them:
//! `scripts/in-netns.sh cargo test -p engine --test rqbit`

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use engine::config::SessionConfig;
use support::*;

/// `RUST_LOG=engine=debug` shows the engine's logs of a failing run.
fn utp_config() -> SessionConfig {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    SessionConfig {
        utp: true,
        ..test_config()
    }
}

/// Which way rqbit's connection to TorrentEdge was opened.
#[derive(Clone, Copy, PartialEq)]
enum Dialed {
    /// TorrentEdge dialed rqbit.
    ByEngine,
    /// rqbit dialed TorrentEdge.
    ByRqbit,
}

/// Asserts, from rqbit's API, that TorrentEdge moved the torrent over uTP: exactly one peer
/// moved data, at least `len` bytes in the direction `counter` (`fetched_bytes` or
/// `uploaded_bytes`, as rqbit sees it), over a connection opened the `dialed` way; its
/// `conn_kind` says `utp` (rqbit shows the kind only while the connection lives, so `null`
/// is accepted once both sides are complete and it has ended); rqbit dialed nobody over TCP
/// and its TCP port refuses connections, so no connection of it can be TCP.
async fn assert_moved_over_utp(rq: &Rqbit, counter: &str, len: u64, dialed: Dialed) {
    let peers = rq.peers().await.unwrap_or_else(|e| panic!("{e}"));
    let movers: Vec<_> = peers
        .iter()
        .filter(|(_, p)| p["counters"][counter].as_u64().unwrap_or(0) > 0)
        .collect();
    assert_eq!(
        movers.len(),
        1,
        "want exactly one peer (TorrentEdge) with {counter} > 0: {peers:?}"
    );
    let (addr, p) = movers[0];
    let moved = p["counters"][counter].as_u64().unwrap_or(0);
    assert!(
        moved >= len,
        "rqbit counts {moved} bytes {counter} with TorrentEdge ({addr}), the torrent has {len}"
    );
    assert!(
        p["conn_kind"] == "utp" || p["conn_kind"].is_null(),
        "rqbit's connection to TorrentEdge ({addr}) is not uTP: {p}"
    );
    let opened = match dialed {
        Dialed::ByEngine => "incoming_connections",
        Dialed::ByRqbit => "connections",
    };
    assert!(
        p["counters"][opened].as_u64().unwrap_or(0) >= 1,
        "rqbit counts no {opened} with TorrentEdge ({addr}): {p}"
    );
    let stats = rq.get("/stats").await.unwrap_or_else(|e| panic!("{e}"));
    let conns = &stats["connections"];
    for family in ["v4", "v6"] {
        assert_eq!(
            conns["tcp"][family]["attempts"].as_u64(),
            Some(0),
            "rqbit dialed over TCP: {conns}"
        );
    }
    if dialed == Dialed::ByRqbit {
        assert!(
            conns["utp"]["v4"]["successes"].as_u64().unwrap_or(0) >= 1,
            "rqbit connected to nobody over uTP: {conns}"
        );
    }
    rq.assert_live_settings().await;
}

/// rqbit (uTP only) seeds `fx`; the engine dials it and downloads; returns MiB/s from the
/// add to completion.
async fn engine_from_rqbit(bin: &Path, fx: &Fixture) -> f64 {
    let mut seeder = Rqbit::seed(bin, &fx.torrent, &fx.src);
    seeder
        .wait_finished(Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    seeder.assert_live_settings().await;
    let out = temp_dir("out");
    let mut s = TestSession::start_with(utp_config()).await;
    let start = Instant::now();
    let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
    s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
    let took = start.elapsed();
    let len = fx.layout.total_len();
    assert_moved_over_utp(&seeder, "uploaded_bytes", len, Dialed::ByEngine).await;
    s.shutdown().await;
    seeder.proc.stop();
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    len as f64 / MIB as f64 / took.as_secs_f64()
}

/// The engine seeds `fx`; rqbit (uTP only) dials it and downloads; returns MiB/s from rqbit's
/// start to its having every piece.
async fn rqbit_from_engine(bin: &Path, fx: &Fixture) -> f64 {
    let mut s = TestSession::start_with(utp_config()).await;
    let h = s.add(&fx.torrent, &fx.src, vec![]).await;
    s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
    let out = temp_dir("out");
    let start = Instant::now();
    let mut leech = Rqbit::leech(bin, &fx.torrent, out.path(), s.addr());
    let stats = leech
        .wait_finished(DL_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let took = start.elapsed();
    let len = fx.layout.total_len();
    assert_eq!(
        stats["progress_bytes"].as_u64(),
        Some(len),
        "rqbit finished with {stats}"
    );
    assert_moved_over_utp(&leech, "fetched_bytes", len, Dialed::ByRqbit).await;
    leech.proc.stop();
    s.shutdown().await;
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    len as f64 / MIB as f64 / took.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_rqbit_over_utp_only() {
    let Some(bin) = rqbit_or_skip("engine_downloads_from_rqbit_over_utp_only") else {
        return;
    };
    hard_timeout(TEST_TIMEOUT, "rqbit seeder (uTP only) -> engine", async {
        let fx = fixture(Layout::single_odd(), 71, Maker::Mktorrent, &[]);
        let rate = engine_from_rqbit(&bin, &fx).await;
        eprintln!("rqbit -> TorrentEdge over uTP: {rate:.1} MiB/s");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rqbit_downloads_from_engine_over_utp_only() {
    let Some(bin) = rqbit_or_skip("rqbit_downloads_from_engine_over_utp_only") else {
        return;
    };
    hard_timeout(TEST_TIMEOUT, "engine seeder -> rqbit (uTP only)", async {
        let fx = fixture(Layout::multi_mixed(), 72, Maker::Engine, &[]);
        let rate = rqbit_from_engine(&bin, &fx).await;
        eprintln!("TorrentEdge -> rqbit over uTP: {rate:.1} MiB/s (including rqbit's start)");
    })
    .await
}

/// rqbit leeches `fx` from an rqbit seeder (both uTP only): the reference for
/// [`rqbit_from_engine`] in the same run; returns MiB/s from the leecher's start.
async fn rqbit_from_rqbit(bin: &Path, fx: &Fixture) -> f64 {
    let mut seeder = Rqbit::seed(bin, &fx.torrent, &fx.src);
    seeder
        .wait_finished(Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let out = temp_dir("out");
    let start = Instant::now();
    let mut leech = Rqbit::leech(bin, &fx.torrent, out.path(), seeder.addr());
    leech
        .wait_finished(DL_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let took = start.elapsed();
    leech.proc.stop();
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
}

/// 64 MiB each way, so the transfer runs long enough for the congestion window, selective
/// ACKs and the receive window to matter (the small fixtures finish within a few round trips
/// of the window opening); rqbit to rqbit is measured beside it (reported, not asserted: the
/// machine is shared and noisy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_mib_both_ways_with_rqbit_over_utp_only() {
    let Some(bin) = rqbit_or_skip("sixty_four_mib_both_ways_with_rqbit_over_utp_only") else {
        return;
    };
    hard_timeout(
        TEST_TIMEOUT,
        "64 MiB both ways with rqbit over uTP",
        async {
            let fx = fixture(
                Layout::single("big.bin", 64 * MIB, 1024 * 1024),
                73,
                Maker::Engine,
                &[],
            );
            let down = engine_from_rqbit(&bin, &fx).await;
            let up = rqbit_from_engine(&bin, &fx).await;
            let reference = rqbit_from_rqbit(&bin, &fx).await;
            eprintln!(
                "64 MiB over uTP: rqbit -> TorrentEdge {down:.1} MiB/s, TorrentEdge -> rqbit \
             {up:.1} MiB/s, rqbit -> rqbit {reference:.1} MiB/s (the last two including \
             rqbit's start)"
            );
        },
    )
    .await
}
