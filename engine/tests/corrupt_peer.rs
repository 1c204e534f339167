//! A libtorrent seeder that serves corrupt data (one flipped byte in every
//! piece, `lt_peer.py seed --corrupt`) next to an honest one: the engine
//! must still end up with byte-identical data, and say which peer sent the
//! bad piece (`Event::PieceFailed`, the hook for bans).
//!
//! `scripts/in-netns.sh cargo test -p engine --test corrupt_peer`

mod support;

use std::time::Duration;

use engine::events::Event;
use support::*;

/// Harness self-check: the corrupt seeder really serves bad pieces (a
/// libtorrent leecher sees hash failures from it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_corrupt_seeder_serves_bad_pieces() {
    hard_timeout(TEST_TIMEOUT, "corrupt seeder self-check", async {
        let fx = fixture(
            Layout::single("c.bin", 2 * MIB, 256 * 1024),
            50,
            Maker::Libtorrent,
            &[],
        );
        let bad = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                corrupt: true,
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut l = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![bad.addr()],
                timeout: Some(Duration::from_secs(30)),
                ..Default::default()
            },
        );
        l.proc
            .wait_line_async("HASHFAIL", Duration::from_secs(30))
            .await
            .unwrap_or_else(|e| panic!("the corrupt seeder served no bad piece: {e}"));
    })
    .await
}

/// The engine first meets only the corrupt seeder: every piece it gets
/// fails, and each failure names that peer. Then an honest seeder is added
/// and the download completes with exactly the original bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_reports_corrupt_peer_and_completes_from_honest_one() {
    hard_timeout(TEST_TIMEOUT, "corrupt then honest", async {
        let fx = fixture(
            Layout::single("c.bin", 4 * MIB + 4321, 256 * 1024),
            51,
            Maker::Libtorrent,
            &[],
        );
        let bad = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                corrupt: true,
                ..Default::default()
            },
        );
        let good = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![bad.addr()]).await;
        let ih = h.info_hash();
        let bad_addr = bad.addr();
        let ev = s
            .wait_for(
                "PieceFailed from the corrupt seeder",
                Duration::from_secs(30),
                |e| matches!(e, Event::PieceFailed { info_hash, .. } if *info_hash == ih),
            )
            .await;
        let Event::PieceFailed { piece, peers, .. } = ev else {
            unreachable!()
        };
        assert!(
            piece < fx.layout.num_pieces(),
            "PieceFailed names piece {piece} of {}",
            fx.layout.num_pieces()
        );
        assert_eq!(
            peers,
            vec![bad_addr],
            "the failed piece came from the corrupt seeder alone"
        );
        assert!(
            !s.seen
                .iter()
                .any(|e| matches!(e, Event::PieceVerified { info_hash, .. } if *info_hash == ih)),
            "a piece from the corrupt seeder was accepted as verified"
        );

        h.add_peers(vec![good.addr()]);
        s.wait_completed(ih, DL_TIMEOUT).await;
        for (piece, peers) in s.piece_failures(ih) {
            assert!(
                peers.contains(&bad_addr),
                "piece {piece} failed without the corrupt peer: {peers:?}"
            );
            assert!(
                !peers.contains(&good.addr()) || peers.len() > 1,
                "honest peer blamed alone for piece {piece}"
            );
        }
        let st = h.status();
        assert!(
            st.wasted > 0,
            "bytes of failed pieces should count as wasted: {st:?}"
        );
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// Both seeders at once (the corrupt one fast, the honest one capped at
/// 1 MiB/s), multi-file: data is byte-identical, and no failure is ever
/// blamed on the honest seeder alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_completes_multi_file_with_corrupt_and_honest_seeders_together() {
    hard_timeout(TEST_TIMEOUT, "corrupt and honest together", async {
        let fx = fixture(Layout::multi_mixed(), 52, Maker::Libtorrent, &[]);
        let bad = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                corrupt: true,
                ..Default::default()
            },
        );
        let good = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                upload_limit: Some(MIB),
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s
            .add(&fx.torrent, out.path(), vec![bad.addr(), good.addr()])
            .await;
        let ih = h.info_hash();
        assert_eq!(ih.to_hex(), fx.ih_hex);
        s.wait_completed(ih, DL_TIMEOUT).await;
        for (piece, peers) in s.piece_failures(ih) {
            assert!(
                peers.contains(&bad.addr()),
                "piece {piece} failed but the corrupt peer is not named: {peers:?}"
            );
            assert_ne!(
                peers,
                vec![good.addr()],
                "honest peer blamed alone for piece {piece}"
            );
        }
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
