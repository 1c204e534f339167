//! Strikes and bans (issue 10): one honest libtorrent seeder (127.0.0.1, capped so the
//! others get a share), a libtorrent seeder that corrupts one byte of every piece
//! (127.0.0.2), and a peer that pushes blocks nobody asked for (127.0.0.3). The download
//! completes byte-exact, both liars end banned with their reasons, the honest seeder is
//! never blamed.
//!
//! The pusher is this test's own raw peer: no real client sends unrequested data on
//! purpose, so no real one can play that part.
//!
//! `scripts/in-netns.sh cargo test -p engine --test bans`

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use engine::events::Event;
use engine::session::bans::BanReason;
use engine::wire::{read_handshake, write_handshake, Codec, Handshake, Message};
use engine::{Bitfield, InfoHash, PeerId};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Listens on 127.0.0.3; each connection gets a full bitfield, an unchoke, then a stream
/// of unrequested 16 KiB blocks until it is closed.
async fn pusher(ih: InfoHash, pieces: u32) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                if read_handshake(&mut s).await.is_err() {
                    return;
                }
                let ours = Handshake::new(ih, PeerId(*b"-XX0001-pushpushpush"));
                if write_handshake(&mut s, &ours).await.is_err() {
                    return;
                }
                let (mut rd, mut wr) = s.into_split();
                // Drain whatever the engine sends so its writes never stall.
                tokio::spawn(async move {
                    let mut sink = vec![0u8; 64 << 10];
                    while matches!(rd.read(&mut sink).await, Ok(n) if n > 0) {}
                });
                let mut out = BytesMut::new();
                let full = Bitfield::full(pieces as usize);
                Codec::encode(
                    &Message::Bitfield(Bytes::copy_from_slice(full.as_bytes())),
                    &mut out,
                );
                Codec::encode(&Message::Unchoke, &mut out);
                let block = Bytes::from(vec![0x5a; 16 << 10]);
                for i in 0u32.. {
                    Codec::encode(
                        &Message::Piece {
                            piece: i % pieces,
                            offset: 0,
                            data: block.clone(),
                        },
                        &mut out,
                    );
                    if wr.write_all(&out).await.is_err() {
                        return;
                    }
                    out.clear();
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn liars_are_banned_and_the_download_completes_from_the_honest_seeder() {
    hard_timeout(TEST_TIMEOUT, "bans", async {
        let fx = fixture(
            Layout::single("b.bin", 6 * MIB + 777, 256 * 1024),
            91,
            Maker::Libtorrent,
            &[],
        );
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let liar = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                corrupt: true,
                ..Default::default()
            },
        );
        assert_eq!(liar.addr().ip(), IpAddr::from([127, 0, 0, 2]));
        let honest = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                upload_limit: Some(2 * MIB),
                ..Default::default()
            },
        );
        let push = pusher(ih, fx.layout.num_pieces()).await;
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s
            .add(
                &fx.torrent,
                out.path(),
                vec![liar.addr(), honest.addr(), push],
            )
            .await;
        s.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));

        // Both liars end banned (the corrupt one may still be collecting strikes when the
        // download completes from the honest seeder and itself: keep seeding a little).
        let bans = loop {
            let bans = s.session.bans();
            if bans.len() >= 2 {
                break bans;
            }
            s.wait_for("a PeerBanned event", Duration::from_secs(30), |e| {
                matches!(e, Event::PeerBanned { .. })
            })
            .await;
        };
        let reason = |ip: [u8; 4]| {
            bans.iter()
                .find(|b| b.ip == IpAddr::from(ip))
                .map(|b| b.reason.clone())
        };
        assert!(
            matches!(reason([127, 0, 0, 2]), Some(BanReason::CorruptData { strikes }) if strikes >= 3),
            "{bans:?}"
        );
        assert_eq!(reason([127, 0, 0, 3]), Some(BanReason::UnrequestedData), "{bans:?}");
        assert_eq!(reason([127, 0, 0, 1]), None, "the honest seeder was banned: {bans:?}");

        let ends = h.recent_disconnects();
        assert!(
            ends.iter().any(|e| e.addr == push
                && e.reason == engine::peer::DisconnectReason::UnrequestedData),
            "{ends:?}"
        );
        assert!(
            h.peers().iter().all(|p| p.addr.ip() != IpAddr::from([127, 0, 0, 2])
                && p.addr.ip() != IpAddr::from([127, 0, 0, 3])),
            "banned peers still connected: {:?}",
            h.peers()
        );
        assert!(s.session.unban(IpAddr::from([127, 0, 0, 3])));
        assert_eq!(s.session.bans().len(), 1);
        s.shutdown().await;
    })
    .await
}

/// A manual ban drops the address's connections within a second and refuses it after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_ban_disconnects_and_refuses() {
    hard_timeout(TEST_TIMEOUT, "manual ban", async {
        let fx = fixture(
            Layout::single("m.bin", 4 * MIB, 256 * 1024),
            92,
            Maker::Libtorrent,
            &[],
        );
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let seeder = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                upload_limit: Some(256 << 10),
                ip: Some(std::net::Ipv4Addr::new(127, 0, 0, 4).into()),
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        let ip = seeder.addr().ip();
        s.wait_for("connected", Duration::from_secs(20), |e| {
            matches!(e, Event::PeerConnected { addr, .. } if addr.ip() == ip)
        })
        .await;
        assert!(s.session.ban(ip));
        assert!(!s.session.ban(ip), "already banned");
        s.wait_for("disconnected", Duration::from_secs(5), |e| {
            matches!(e, Event::PeerDisconnected { addr, info_hash, .. } if addr.ip() == ip && *info_hash == ih)
        })
        .await;
        let ends = h.recent_disconnects();
        assert!(
            ends.iter().any(|e| e.addr.ip() == ip
                && e.reason == engine::peer::DisconnectReason::Banned(BanReason::Manual)),
            "{ends:?}"
        );
        // Re-dialling is refused while banned; after unban the download finishes.
        h.add_peers(vec![seeder.addr()]);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(h.peers().is_empty(), "a banned address got back in: {:?}", h.peers());
        assert!(s.session.unban(ip));
        h.add_peers(vec![seeder.addr()]);
        s.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        s.shutdown().await;
    })
    .await
}
