//! Super-seeding (BEP 16) with real libtorrent leechers: TorrentEdge is the only seeder of
//! a torrent three libtorrent leechers want; every leecher completes and TorrentEdge uploads
//! at most 1.5 times the torrent's size (each leecher downloading it whole from the seeder
//! would make that 3 times).
//!
//! `scripts/in-netns.sh cargo test -p engine --test super_seed`

mod support;

use std::time::Duration;

use engine::InfoHash;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_leechers_complete_while_the_seeder_uploads_about_one_copy() {
    hard_timeout(TEST_TIMEOUT, "super-seeding", async {
        let fx = fixture(
            Layout::single("s.bin", 8 * MIB, 256 * 1024),
            94,
            Maker::Libtorrent,
            &[],
        );
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(ih, Duration::from_secs(30)).await;
        assert!(h.set_super_seeding(true));
        assert!(h.super_seeding());

        // Each leecher dials the seeder and the leechers started before it.
        let mut leechers: Vec<(LtPeer, tempfile::TempDir)> = Vec::new();
        for _ in 0..3 {
            let out = temp_dir("leech");
            let mut connect = vec![s.addr()];
            connect.extend(leechers.iter().map(|(l, _)| l.addr()));
            let l = LtPeer::leech(
                &fx.torrent,
                out.path(),
                LtOpts {
                    connect,
                    ..Default::default()
                },
            );
            leechers.push((l, out));
        }
        for (l, out) in &mut leechers {
            l.wait_done(DL_TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("a leecher did not finish: {e}"));
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        }
        let up = h.status().uploaded;
        let size = fx.layout.total_len();
        assert!(
            up * 2 <= size * 3,
            "the super-seeder uploaded {up} bytes for a {size}-byte torrent"
        );
        s.shutdown().await;
    })
    .await
}
