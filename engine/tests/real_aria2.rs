//! TorrentEdge against real aria2 1.36 peers on 127.0.0.1 (by .torrent and by magnet).
//!
//! aria2 runs with DHT, LPD and PEX off, bound to 127.0.0.1. Without DHT it
//! does not use UDP trackers, so it meets peers through an HTTP tracker
//! (opentracker) or by being dialled.
//!
//! `scripts/in-netns.sh cargo test -p engine --test real_aria2`

mod support;

use std::time::Duration;

use engine::events::Event;
use support::*;

/// Harness self-check (no engine): aria2 leeches from a libtorrent seeder
/// through opentracker, and a libtorrent leecher dials an aria2 seeder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_aria2_and_libtorrent_exchange_data() {
    hard_timeout(TEST_TIMEOUT, "reference aria2 <-> lt", async {
        let fx = fixture(Layout::multi_mixed(), 41, Maker::Libtorrent, &[]);
        let tracker = Opentracker::start(&[&fx.ih_hex]);
        set_trackers(&fx.torrent, &[vec![tracker.http_url()]]);
        let _lt = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                tracker: Some(tracker.http_url()),
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut a = Aria2::leech(&fx.torrent, out.path());
        a.wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));

        let seeder = Aria2::seed(&fx.torrent, &fx.src);
        let out2 = temp_dir("out2");
        let mut l = LtPeer::leech(
            &fx.torrent,
            out2.path(),
            LtOpts {
                connect: vec![seeder.addr()],
                ..Default::default()
            },
        );
        l.wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out2.path()));
    })
    .await
}

/// The engine dials an aria2 seeder and downloads a multi-file torrent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_aria2_seeder() {
    hard_timeout(TEST_TIMEOUT, "engine <- aria2", async {
        let fx = fixture(Layout::multi_mixed(), 42, Maker::Libtorrent, &[]);
        let seeder = Aria2::seed(&fx.torrent, &fx.src);
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// An aria2 leecher finds the engine seeder through an HTTP tracker and
/// downloads a single file with an odd last piece; aria2 checks every piece.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2_leecher_downloads_from_engine_seeder() {
    hard_timeout(TEST_TIMEOUT, "aria2 <- engine", async {
        let fx = fixture(Layout::single_odd(), 43, Maker::Libtorrent, &[]);
        let tracker = Opentracker::start(&[&fx.ih_hex]);
        set_trackers(&fx.torrent, &[vec![tracker.http_url()]]);
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
        let url = tracker.http_url();
        s.seen_or_wait(
            "the seeder's announce",
            Duration::from_secs(30),
            |e| matches!(e, Event::TrackerAnnounced { url: u, result: Ok(_), .. } if *u == url),
        )
        .await;
        let out = temp_dir("out");
        let mut a = Aria2::leech(&fx.torrent, out.path());
        a.wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            h.status().uploaded >= fx.layout.total_len(),
            "engine uploaded less than the torrent: {:?}",
            h.status()
        );
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// A magnet whose only source is an aria2 seeder (`x.pe`): a second real client besides
/// libtorrent serves the engine the info dictionary over BEP 9, then the data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_fetches_a_magnet_from_aria2_seeder() {
    hard_timeout(TEST_TIMEOUT, "magnet <- aria2", async {
        let fx = fixture(Layout::multi_mixed(), 43, Maker::Libtorrent, &[]);
        let seeder = Aria2::seed(&fx.torrent, &fx.src);
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let uri = format!("magnet:?xt=urn:btih:{}&x.pe={}", fx.ih_hex, seeder.addr());
        let magnet = engine::magnet::Magnet::parse(&uri).expect("magnet");
        let opts = engine::session::AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            ..Default::default()
        };
        let h = s.session.add_magnet(&magnet, opts).expect("add magnet");
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        let meta = h.metainfo().expect("metadata from aria2");
        assert_eq!(meta.info_hash.to_hex(), fx.ih_hex);
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
