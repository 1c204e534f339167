//! Local service discovery (BEP 14) on the test namespace's loopback, where
//! `scripts/in-netns.sh` switches multicast on: peers find each other with no tracker,
//! DHT or address given, and a private torrent is never announced.
//!
//! `scripts/in-netns.sh cargo test -p engine --test lsd`

mod support;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

use engine::config::SessionConfig;
use engine::events::Event;
use engine::lsd::LsdConfig;
use support::*;

fn require_netns() {
    assert!(
        std::env::var_os("TORRENTEDGE_IN_NETNS").is_some(),
        "LSD multicasts: run this test inside scripts/in-netns.sh"
    );
}

async fn lsd_session() -> TestSession {
    TestSession::start_with(SessionConfig {
        lsd: Some(LsdConfig {
            interface: Ipv4Addr::LOCALHOST,
            ..LsdConfig::default()
        }),
        ..test_config()
    })
    .await
}

/// A private torrent of `content`, made by the engine.
fn private_torrent(content: &Path, out: &Path) {
    let opts = engine::create::CreateOptions {
        piece_length: Some(64 * 1024),
        private: true,
        ..Default::default()
    };
    let bytes = engine::create::create_torrent(content, &opts, &|_| {}).expect("create");
    std::fs::write(out, bytes).expect("write torrent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_find_each_other_and_private_torrents_stay_quiet() {
    require_netns();
    hard_timeout(TEST_TIMEOUT, "engine <-LSD-> engine", async {
        let public = fixture(Layout::single_odd(), 71, Maker::Engine, &[]);
        let secret_dir = temp_dir("secret");
        let secret_file = secret_dir.path().join("secret.bin");
        write_random_file(&secret_file, 300_000, 72);
        let secret_torrent = secret_dir.path().join("secret.torrent");
        private_torrent(&secret_file, &secret_torrent);

        let mut seeder = lsd_session().await;
        let h1 = seeder.add(&public.torrent, &public.src, vec![]).await;
        let h2 = seeder.add(&secret_torrent, secret_dir.path(), vec![]).await;
        seeder.wait_seeding(h1.info_hash(), DL_TIMEOUT).await;
        seeder.wait_seeding(h2.info_hash(), DL_TIMEOUT).await;

        let out = temp_dir("out");
        let mut leech = lsd_session().await;
        let pub_h = leech.add(&public.torrent, out.path(), vec![]).await;
        let sec_h = leech.add(&secret_torrent, out.path(), vec![]).await;
        // No tracker, DHT or address was given: only LSD can have brought them together.
        leech.wait_completed(pub_h.info_hash(), DL_TIMEOUT).await;
        // Both torrents were due in the same announce round: the private one heard nothing.
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(
            sec_h.status().bytes_done,
            0,
            "a private torrent found a peer by LSD"
        );
        assert!(sec_h.peers().is_empty(), "{:?}", sec_h.peers());
        assert!(!leech.seen.iter().any(|e| matches!(e,
            Event::PeerConnected { info_hash, .. } if *info_hash == sec_h.info_hash())));
        leech.shutdown().await;
        seeder.shutdown().await;
        assert_same_tree(
            &public.layout.root_in(&public.src),
            &public.layout.root_in(out.path()),
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_finds_a_libtorrent_seeder_on_the_lan() {
    require_netns();
    hard_timeout(TEST_TIMEOUT, "lt -LSD-> engine", async {
        let fx = fixture(Layout::multi_mixed(), 73, Maker::Libtorrent, &[]);
        let _seeder = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                lsd: true,
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut s = lsd_session().await;
        let h = s.add(&fx.torrent, out.path(), vec![]).await;
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_libtorrent_leecher_finds_the_engine_on_the_lan() {
    require_netns();
    hard_timeout(TEST_TIMEOUT, "engine -LSD-> lt", async {
        let fx = fixture(Layout::single_odd(), 74, Maker::Engine, &[]);
        let mut s = lsd_session().await;
        let h = s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(h.info_hash(), DL_TIMEOUT).await;
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                lsd: true,
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
