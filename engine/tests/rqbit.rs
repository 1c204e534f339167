//! uTP (BEP 29) against rqbit, a second independent uTP implementation (librqbit-utp) beside
//! libtorrent (tests/utp.rs): rqbit runs with TCP listening and TCP dialing off, so every
//! byte it moves goes over uTP, and its API's `conn_kind` of our connection must say `utp`.
//!
//! rqbit is built from crates.io into `~/.cache/torrentedge/rqbit` by `make rqbit`; without it
//! these tests print SKIPPED and pass. `make test-rqbit` builds it and runs them:
//! `scripts/in-netns.sh cargo test -p engine --test rqbit`

mod support;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_rqbit_over_utp_only() {
    let Some(bin) = rqbit_or_skip("engine_downloads_from_rqbit_over_utp_only") else {
        return;
    };
    hard_timeout(TEST_TIMEOUT, "rqbit seeder (uTP only) -> engine", async {
        let fx = fixture(Layout::single_odd(), 71, Maker::Mktorrent, &[]);
        let mut seeder = Rqbit::seed(&bin, &fx.torrent, &fx.src);
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
        assert_moved_over_utp(
            &seeder,
            "uploaded_bytes",
            fx.layout.total_len(),
            Dialed::ByEngine,
        )
        .await;
        s.shutdown().await;
        seeder.proc.stop();
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        eprintln!(
            "rqbit -> TorrentEdge over uTP: {:.1} MiB/s",
            fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rqbit_downloads_from_engine_over_utp_only() {
    let Some(bin) = rqbit_or_skip("rqbit_downloads_from_engine_over_utp_only") else {
        return;
    };
    hard_timeout(
        TEST_TIMEOUT,
        "engine seeder -> rqbit leecher (uTP only)",
        async {
            let fx = fixture(Layout::multi_mixed(), 72, Maker::Engine, &[]);
            let mut s = TestSession::start_with(utp_config()).await;
            let h = s.add(&fx.torrent, &fx.src, vec![]).await;
            s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
            let out = temp_dir("out");
            let start = Instant::now();
            let mut leech = Rqbit::leech(&bin, &fx.torrent, out.path(), s.addr());
            let stats = leech
                .wait_finished(DL_TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let took = start.elapsed();
            assert_eq!(
                stats["progress_bytes"].as_u64(),
                Some(fx.layout.total_len()),
                "rqbit finished with {stats}"
            );
            assert_moved_over_utp(
                &leech,
                "fetched_bytes",
                fx.layout.total_len(),
                Dialed::ByRqbit,
            )
            .await;
            leech.proc.stop();
            s.shutdown().await;
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
            eprintln!(
                "TorrentEdge -> rqbit over uTP: {:.1} MiB/s (including rqbit's start)",
                fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
            );
        },
    )
    .await
}
