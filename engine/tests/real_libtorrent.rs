//! TorrentEdge against real libtorrent 2.0.8 peers (tests/peers/lt_peer.py),
//! through a real tracker (opentracker, HTTP and UDP) on 127.0.0.1.
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test real_libtorrent`

mod support;

use std::time::Duration;

use engine::events::Event;
use engine::InfoHash;
use support::*;

fn ih(hex: &str) -> InfoHash {
    InfoHash::from_hex(hex).expect("info-hash hex")
}

/// Harness self-check (no engine): libtorrent seeds, libtorrent leeches
/// through opentracker over HTTP, data verified. If this fails, the engine
/// tests below cannot be trusted either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_libtorrent_to_libtorrent_via_http_tracker() {
    hard_timeout(TEST_TIMEOUT, "reference lt -> lt", async {
        let layout = Layout::multi_mixed();
        let fx = fixture(layout, 1, Maker::Libtorrent, &[]);
        let tracker = Opentracker::start(&[&fx.ih_hex]);
        set_trackers(&fx.torrent, &[vec![tracker.http_url()]]);
        let _seeder = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                tracker: Some(tracker.http_url()),
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                tracker: Some(tracker.http_url()),
                ..Default::default()
            },
        );
        leech
            .wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// The engine downloads `layout` from one libtorrent seeder that it finds
/// only through the tracker at `url_of(tracker)`.
async fn engine_from_lt_seeder_via_tracker(layout: Layout, seed: u64, udp: bool) {
    let fx = fixture(layout, seed, Maker::Libtorrent, &[]);
    let tracker = Opentracker::start(&[&fx.ih_hex]);
    let url = if udp {
        tracker.udp_url()
    } else {
        tracker.http_url()
    };
    set_trackers(&fx.torrent, &[vec![url.clone()]]);
    let _seeder = LtPeer::seed(
        &fx.torrent,
        &fx.src,
        LtOpts {
            tracker: Some(url.clone()),
            ..Default::default()
        },
    );

    let out = temp_dir("out");
    let mut s = TestSession::start().await;
    let h = s.add(&fx.torrent, out.path(), vec![]).await;
    assert_eq!(
        h.info_hash(),
        ih(&fx.ih_hex),
        "engine and libtorrent disagree on the info-hash"
    );
    // The engine must have learnt the seeder from this tracker.
    s.wait_for("a successful announce", DL_TIMEOUT, |e| {
        matches!(e, Event::TrackerAnnounced { url: u, result: Ok(sum), .. } if *u == url && sum.peers >= 1)
    })
    .await;
    s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
    let st = h.status();
    assert_eq!(st.total_bytes, fx.layout.total_len());
    assert_eq!(st.num_pieces, fx.layout.num_pieces());
    s.shutdown().await;
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_single_file_from_libtorrent_via_http_tracker() {
    hard_timeout(
        TEST_TIMEOUT,
        "single file over HTTP tracker",
        engine_from_lt_seeder_via_tracker(Layout::single_odd(), 11, false),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_multi_file_from_libtorrent_via_http_tracker() {
    hard_timeout(
        TEST_TIMEOUT,
        "multi file over HTTP tracker",
        engine_from_lt_seeder_via_tracker(Layout::multi_mixed(), 12, false),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_single_file_from_libtorrent_via_udp_tracker() {
    hard_timeout(
        TEST_TIMEOUT,
        "single file over UDP tracker",
        engine_from_lt_seeder_via_tracker(Layout::single_odd(), 13, true),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_multi_file_from_libtorrent_via_udp_tracker() {
    hard_timeout(
        TEST_TIMEOUT,
        "multi file over UDP tracker",
        engine_from_lt_seeder_via_tracker(Layout::multi_mixed(), 14, true),
    )
    .await
}

/// A torrent made by mktorrent, with a piece size larger than the file
/// (one short piece), given to the engine as a direct peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_file_smaller_than_a_piece_from_libtorrent() {
    hard_timeout(TEST_TIMEOUT, "file smaller than a piece", async {
        let fx = fixture(
            Layout::single("tiny.bin", 5_000, 64 * 1024),
            15,
            Maker::Mktorrent,
            &[],
        );
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        assert_eq!(h.status().num_pieces, 1);
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// Adds complete data to a fresh engine session and waits until it seeds.
async fn engine_seeder(fx: &Fixture) -> TestSession {
    let mut s = TestSession::start().await;
    let h = s.add(&fx.torrent, &fx.src, vec![]).await;
    s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
    let st = h.status();
    assert_eq!(
        st.pieces_done,
        fx.layout.num_pieces(),
        "seed data did not check out complete: {st:?}"
    );
    s
}

/// A libtorrent leecher dials the engine seeder directly; its download
/// passes libtorrent's own full recheck and matches byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_leecher_downloads_single_file_from_engine_seeder() {
    hard_timeout(TEST_TIMEOUT, "lt leecher <- engine seeder", async {
        let fx = fixture(Layout::single_odd(), 21, Maker::Mktorrent, &[]);
        let s = engine_seeder(&fx).await;
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                ..Default::default()
            },
        );
        leech.expect_clean_download(DL_TIMEOUT).await;
        let up = s
            .session
            .get(&ih(&fx.ih_hex))
            .expect("torrent")
            .status()
            .uploaded;
        assert!(
            up >= fx.layout.total_len(),
            "engine says it uploaded {up} bytes, less than the torrent"
        );
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// The engine seeds a multi-file torrent and announces it to an HTTP
/// tracker; a libtorrent leecher finds it only through the tracker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_leecher_finds_engine_seeder_via_http_tracker() {
    hard_timeout(
        TEST_TIMEOUT,
        "lt leecher <- engine seeder via tracker",
        async {
            let fx = fixture(Layout::multi_mixed(), 22, Maker::Libtorrent, &[]);
            let tracker = Opentracker::start(&[&fx.ih_hex]);
            set_trackers(&fx.torrent, &[vec![tracker.http_url()]]);
            let mut s = engine_seeder(&fx).await;
            let url = tracker.http_url();
            s.seen_or_wait(
                "the seeder's announce",
                Duration::from_secs(30),
                |e| matches!(e, Event::TrackerAnnounced { url: u, result: Ok(_), .. } if *u == url),
            )
            .await;
            let out = temp_dir("out");
            let mut leech = LtPeer::leech(
                &fx.torrent,
                out.path(),
                LtOpts {
                    tracker: Some(tracker.http_url()),
                    ..Default::default()
                },
            );
            leech.expect_clean_download(DL_TIMEOUT).await;
            s.shutdown().await;
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        },
    )
    .await
}

/// Two libtorrent seeders, each capped at 3 MiB/s, found through the
/// tracker: the engine completes and takes data from both of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_two_libtorrent_seeders_at_once() {
    hard_timeout(TEST_TIMEOUT, "two seeders", async {
        let fx = fixture(
            Layout::single("two.bin", 8 * MIB + 333, 128 * 1024),
            31,
            Maker::Libtorrent,
            &[],
        );
        let tracker = Opentracker::start(&[&fx.ih_hex]);
        set_trackers(&fx.torrent, &[vec![tracker.http_url()]]);
        let opts = LtOpts {
            tracker: Some(tracker.http_url()),
            upload_limit: Some(3 * MIB),
            ..Default::default()
        };
        let mut a = LtPeer::seed(&fx.torrent, &fx.src, opts.clone());
        let mut b = LtPeer::seed(&fx.torrent, &fx.src, opts);
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![]).await;
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let (ua, ub) = (a.stop_and_uploaded(), b.stop_and_uploaded());
        assert!(
            ua > 0 && ub > 0,
            "both seeders should have served data: {ua} and {ub} bytes"
        );
        assert!(
            ua + ub >= fx.layout.total_len(),
            "seeders uploaded {ua} + {ub} bytes, less than the torrent"
        );
    })
    .await
}

/// A torrent made by the engine's own creator: libtorrent accepts it,
/// downloads it from the engine seeder and its recheck passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_leecher_downloads_engine_made_multi_file_torrent() {
    hard_timeout(TEST_TIMEOUT, "lt leecher <- engine-made torrent", async {
        let fx = fixture(Layout::multi_mixed(), 23, Maker::Engine, &[]);
        let s = engine_seeder(&fx).await;
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                ..Default::default()
            },
        );
        leech
            .wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
