//! uTP (BEP 29) against real libtorrent 2.0.8 with TCP off both ways (so every byte moved
//! went over uTP), and through a lossy, reordering loopback link (`tc netem`).
//!
//! Run inside a private network namespace (the netem test refuses to run outside one):
//! `scripts/in-netns.sh cargo test -p engine --test utp`

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use engine::config::SessionConfig;
use support::*;

/// The tests share the namespace's loopback link, which the netem test degrades: one at a
/// time.
static LINK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `RUST_LOG=engine=debug` shows the engine's logs of a failing run.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn utp_config() -> SessionConfig {
    logs();
    SessionConfig {
        utp: true,
        ..test_config()
    }
}

fn lt_utp() -> LtOpts {
    LtOpts {
        transport: Some("utp"),
        ..Default::default()
    }
}

/// libtorrent (uTP only) seeds; the engine dials it and downloads `fx`; returns MiB/s from
/// the add to completion.
async fn engine_from_lt(fx: &Fixture) -> f64 {
    let seeder = LtPeer::seed(&fx.torrent, &fx.src, lt_utp());
    let out = temp_dir("out");
    let mut s = TestSession::start_with(utp_config()).await;
    let start = Instant::now();
    let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
    s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
    let took = start.elapsed();
    s.shutdown().await;
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
}

/// A libtorrent leecher (uTP only) downloads `fx` from a libtorrent seeder (uTP only);
/// returns MiB/s from the leecher's start to its FINISHED.
async fn lt_from_lt(fx: &Fixture) -> f64 {
    let seeder = LtPeer::seed(&fx.torrent, &fx.src, lt_utp());
    let out = temp_dir("out");
    let start = Instant::now();
    let mut leech = LtPeer::leech(
        &fx.torrent,
        out.path(),
        LtOpts {
            connect: vec![seeder.addr()],
            no_recheck: true,
            ..lt_utp()
        },
    );
    leech
        .proc
        .wait_line_async("FINISHED", DL_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("libtorrent leecher: {e}"));
    let took = start.elapsed();
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_libtorrent_over_utp_only() {
    let _link = LINK.lock().await;
    hard_timeout(TEST_TIMEOUT, "lt seeder (uTP only) -> engine", async {
        let fx = fixture(Layout::single_odd(), 61, Maker::Libtorrent, &[]);
        let rate = engine_from_lt(&fx).await;
        eprintln!("libtorrent -> TorrentEdge over uTP: {rate:.1} MiB/s");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_downloads_from_engine_over_utp_only() {
    let _link = LINK.lock().await;
    hard_timeout(
        TEST_TIMEOUT,
        "engine seeder -> lt leecher (uTP only)",
        async {
            let fx = fixture(Layout::single_odd(), 62, Maker::Mktorrent, &[]);
            let mut s = TestSession::start_with(utp_config()).await;
            let h = s.add(&fx.torrent, &fx.src, vec![]).await;
            s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
            assert_eq!(
                s.session.utp_addr().map(|a| a.port()),
                Some(s.addr().port()),
                "uTP listens on the TCP listener's port"
            );
            let out = temp_dir("out");
            let mut leech = LtPeer::leech(
                &fx.torrent,
                out.path(),
                LtOpts {
                    connect: vec![s.addr()],
                    ..lt_utp()
                },
            );
            leech
                .wait_done(DL_TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(
                leech.hash_failures().is_empty(),
                "engine served bad pieces: {:?}",
                leech.hash_failures()
            );
            s.shutdown().await;
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        },
    )
    .await
}

/// Degrades `lo` with netem while alive; only inside the test's private namespace.
struct Netem;

impl Netem {
    fn add(spec: &str) -> Netem {
        assert_eq!(
            std::env::var("TORRENTEDGE_IN_NETNS").as_deref(),
            Ok("1"),
            "the netem test changes the loopback link: run it under scripts/in-netns.sh"
        );
        let links = Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .expect("ip (iproute2) runs");
        let links = String::from_utf8_lossy(&links.stdout);
        assert_eq!(
            links.lines().count(),
            1,
            "not a private namespace with only lo: {links}"
        );
        let mut args = vec!["qdisc", "add", "dev", "lo", "root", "netem"];
        args.extend(spec.split_whitespace());
        let st = Command::new("tc").args(&args).status().expect("tc runs");
        assert!(st.success(), "tc {args:?} failed");
        Netem
    }
}

impl Drop for Netem {
    fn drop(&mut self) {
        let _ = Command::new("tc")
            .args(["qdisc", "del", "dev", "lo", "root"])
            .status();
    }
}

/// 5 ms each way, 1 % loss, 5 % reordered: the engine still gets every byte from
/// libtorrent over uTP; its rate is printed beside a libtorrent leecher's over the same
/// link (docs/benchmarks.md has the figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_link_transfer_completes_and_is_measured_beside_libtorrent() {
    let _link = LINK.lock().await;
    hard_timeout(TEST_TIMEOUT, "lossy link", async {
        let layout = Layout::single("lossy.bin", 4 * MIB, 256 * 1024);
        let fx = fixture(layout, 63, Maker::Libtorrent, &[]);
        let _netem = Netem::add("delay 5ms loss 1% reorder 5%");
        let te = engine_from_lt(&fx).await;
        let lt = lt_from_lt(&fx).await;
        eprintln!(
            "lossy uTP link (netem delay 5ms loss 1% reorder 5%), 4 MiB: \
             TorrentEdge {te:.2} MiB/s, libtorrent {lt:.2} MiB/s"
        );
        assert!(te > 0.0 && lt > 0.0);
    })
    .await
}
