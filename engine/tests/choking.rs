//! Tit-for-tat with a real libtorrent peer (issue 10): with one upload slot, the peer that
//! uploads to us keeps it over one that never uploads anything.
//!
//! The engine holds the first half of the data, a libtorrent leecher the third quarter (it
//! uploads to us at 64 KiB/s, slowly enough to keep trading through several rechokes), and
//! nobody the last quarter, so neither side completes and leaves during the test; our own
//! upload is capped as well, so the trader stays interested in us. The
//! freeloader is this test's own raw peer on 127.0.0.3: it has nothing, says it is
//! interested, and never sends a block (no real client can be told to behave so).
//!
//! `scripts/in-netns.sh cargo test -p engine --test choking`

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use engine::wire::{read_handshake, write_handshake, Codec, Handshake, Message};
use engine::{InfoHash, PeerId};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FREELOADER: [u8; 4] = [127, 0, 0, 3];

/// Connects from 127.0.0.3, says it is interested, and only reads from then on.
async fn freeloader(to: SocketAddr, ih: InfoHash) -> tokio::task::JoinHandle<()> {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::from((FREELOADER, 0))).unwrap();
    let mut s = sock.connect(to).await.unwrap();
    let ours = Handshake::new(ih, PeerId(*b"-XX0001-freeloader00"));
    write_handshake(&mut s, &ours).await.unwrap();
    read_handshake(&mut s).await.unwrap();
    let mut out = BytesMut::new();
    Codec::encode(&Message::Interested, &mut out);
    s.write_all(&out).await.unwrap();
    tokio::spawn(async move {
        let mut sink = vec![0u8; 64 << 10];
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
    })
}

/// Zeroes `range` of the file at `path` (so the hash check drops those pieces).
fn zero(path: &std::path::Path, range: std::ops::Range<usize>) {
    let mut data = std::fs::read(path).unwrap();
    data[range].fill(0);
    std::fs::write(path, data).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_that_uploads_to_us_keeps_the_only_slot() {
    hard_timeout(TEST_TIMEOUT, "tit-for-tat", async {
        const LEN: usize = 8 * MIB as usize;
        let fx = fixture(
            Layout::single("t.bin", LEN as u64, 64 * 1024),
            93,
            Maker::Libtorrent,
            &[],
        );
        let src = fx.layout.root_in(&fx.src);
        let ours = temp_dir("ours");
        let theirs = temp_dir("theirs");
        for (dir, zeroed) in [(&ours, LEN / 2..LEN), (&theirs, 0..LEN / 2)] {
            let f = fx.layout.root_in(dir.path());
            std::fs::copy(&src, &f).unwrap();
            zero(&f, zeroed);
            zero(&f, LEN * 3 / 4..LEN);
        }
        let trader = LtPeer::leech(
            &fx.torrent,
            theirs.path(),
            LtOpts {
                upload_limit: Some(64 << 10),
                ..Default::default()
            },
        );
        let mut cfg = test_config();
        cfg.upload_slots_per_torrent = 1;
        let mut s = TestSession::start_with(cfg).await;
        let h = s.add(&fx.torrent, ours.path(), vec![trader.addr()]).await;
        let ih = h.info_hash();
        // Our upload is capped too, so the trader keeps wanting our pieces (and stays
        // interested) for the whole test.
        h.set_rate_limits(0, 64 << 10);
        // Incoming peers are refused while the torrent checks its data.
        s.seen_or_wait("downloading", Duration::from_secs(20), |e| {
            matches!(
                e,
                engine::events::Event::StateChanged {
                    state: engine::status::TorrentState::Downloading,
                    ..
                }
            )
        })
        .await;
        let _free = freeloader(s.addr(), ih).await;

        let is_free = |a: &SocketAddr| a.ip() == IpAddr::from(FREELOADER);
        let is_trader = |a: &SocketAddr| a.ip() != IpAddr::from(FREELOADER);
        // The trader must be trading first (its dial may need a retry while libtorrent
        // still checks its files).
        let since = Instant::now() + Duration::from_secs(60);
        while !h
            .peers()
            .iter()
            .any(|p| is_trader(&p.addr) && p.downloaded > 0)
        {
            assert!(
                Instant::now() < since,
                "the trader never sent a block: {:?}",
                h.peers()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Within two rechokes the trader holds the slot and the freeloader waits (even one
        // that got the slot first, while the trader was not connected yet).
        let deadline = Instant::now() + Duration::from_secs(25);
        loop {
            let peers = h.peers();
            let trader_on = peers.iter().any(|p| is_trader(&p.addr) && !p.am_choking);
            let free_off = peers
                .iter()
                .any(|p| is_free(&p.addr) && p.am_choking && p.peer_interested);
            if trader_on && free_off {
                break;
            }
            if Instant::now() >= deadline {
                while let Ok(e) = s.events.try_recv() {
                    s.seen.push(e);
                }
                panic!(
                    "no tit-for-tat: {peers:?}\n{:?}\nends: {:?}\nevents: {:?}",
                    h.status(),
                    h.recent_disconnects(),
                    s.seen
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // ...and keeps it through the next rechoke (10 s), while it keeps uploading to us.
        let until = Instant::now() + Duration::from_secs(12);
        while Instant::now() < until {
            let peers = h.peers();
            let trader = peers
                .iter()
                .find(|p| is_trader(&p.addr))
                .expect("trader gone");
            let free = peers
                .iter()
                .find(|p| is_free(&p.addr))
                .expect("freeloader gone");
            assert!(!trader.am_choking, "the uploader lost its slot: {peers:?}");
            assert!(free.am_choking, "the freeloader got the slot: {peers:?}");
            assert_eq!(free.uploaded, 0, "{peers:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let trader = h.peers().into_iter().find(|p| is_trader(&p.addr)).unwrap();
        assert!(trader.downloaded > 0, "{trader:?}");
        s.shutdown().await;
        let _ = ih;
    })
    .await
}
