//! Peer exchange (BEP 11) with real libtorrent 2.0.8 peers on loopback.
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test pex`

mod support;

use std::time::{Duration, Instant};

use engine::status::PeerSource;
use support::*;

/// The engine knows only a libtorrent leecher; that leecher knows two seeders. Through its
/// `ut_pex` messages the engine learns the seeders, dials them and downloads from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_learns_seeders_through_pex_and_uses_them() {
    hard_timeout(TEST_TIMEOUT, "pex", async {
        let fx = fixture(
            Layout::single("pex.bin", 3 << 20, 65536),
            31,
            Maker::Libtorrent,
            &[],
        );
        let pex = |connect| LtOpts {
            pex: true,
            connect,
            // Slow seeders keep the relay a leecher (libtorrent only sends PEX while it has
            // more than one peer, and its seeders drop it once it is a seed).
            upload_limit: Some(256 << 10),
            ..Default::default()
        };
        // The seeders keep PEX off: they must not learn our address and dial us, or the
        // test could not tell a connection made because of PEX from an incoming one.
        let quiet = LtOpts {
            pex: false,
            ..pex(vec![])
        };
        let s1 = LtPeer::seed(&fx.torrent, &fx.src, quiet.clone());
        let s2 = LtPeer::seed(&fx.torrent, &fx.src, quiet);
        let leech_dir = temp_dir("leech");
        let mut relay = LtPeer::leech(
            &fx.torrent,
            leech_dir.path(),
            pex(vec![s1.addr(), s2.addr()]),
        );
        // libtorrent sends a new peer its whole peer list at once, then only a diff a
        // minute later: the relay must know both seeders before we meet it.
        relay
            .wait_peers(2, Duration::from_secs(20))
            .await
            .unwrap_or_else(|e| panic!("relay never met both seeders: {e}"));
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![relay.addr()]).await;
        let seeders = [s1.addr(), s2.addr()];
        let deadline = Instant::now() + DL_TIMEOUT;
        let used = loop {
            let via_pex: Vec<_> = h
                .peers()
                .into_iter()
                .filter(|p| {
                    p.source == PeerSource::Pex && seeders.contains(&p.addr) && p.downloaded > 0
                })
                .collect();
            if let Some(p) = via_pex.first() {
                break p.addr;
            }
            assert!(
                Instant::now() < deadline,
                "no seeder learned through PEX was used: {:?}",
                h.peers()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(seeders.contains(&used));
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
