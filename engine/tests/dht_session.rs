//! The session's DHT end to end, on loopback only: every node (ours and libtorrent's)
//! bootstraps from a node started by the test on 127.0.0.1, never from a public router.
//!
//! `scripts/in-netns.sh cargo test -p engine --test dht_session`

#[path = "support/lt_dht.rs"]
mod lt_dht;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use engine::config::SessionConfig;
use engine::dht::{Dht, DhtConfig};
use engine::events::Event;
use engine::magnet::Magnet;
use engine::session::AddTorrentOptions;
use engine::wire::{read_handshake, write_handshake, Codec, Handshake, Message};
use engine::{InfoHash, PeerId};
use lt_dht::LtDht;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn session_config(dht: DhtConfig) -> SessionConfig {
    SessionConfig {
        dht: Some(dht),
        ..test_config()
    }
}

/// A seeding session with no tracker announces on the DHT; a second session that has only
/// the bare magnet (no tracker, no `x.pe`) and a loopback bootstrap node finds it, fetches
/// the metadata and every byte. The second session's table is then saved and a third
/// session, started from that state alone (no bootstrap), rejoins the DHT.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_found_through_the_dht_alone() {
    hard_timeout(TEST_TIMEOUT, "magnet through the DHT", async {
        let boot = Dht::start(dht_config(local(0), &[])).await.unwrap();
        let fx = fixture(Layout::multi_mixed(), 51, Maker::Engine, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();

        let mut seeder =
            TestSession::start_with(session_config(dht_config(local(0), &[boot.local_addr()])))
                .await;
        let seeder_dht = seeder
            .session
            .dht_addr()
            .expect("the seeder runs a DHT node");
        // Bind port 0 means: the TCP listener's port (free here).
        assert_eq!(seeder_dht.port(), seeder.addr().port());
        let h = seeder.add(&fx.torrent, &fx.src, vec![]).await;
        assert!(h
            .metainfo()
            .expect("metainfo")
            .trackers
            .iter()
            .all(|t| t.is_empty()));
        seeder.wait_seeding(ih, Duration::from_secs(30)).await;
        wait_dht_stats(
            &boot,
            "the seeder's announce",
            Duration::from_secs(30),
            |s| s.stored_torrents >= 1,
        )
        .await;
        // The stored peer is the seeder's TCP listener.
        let mut rx = boot.get_peers(ih).unwrap();
        let mut stored = Vec::new();
        while let Some(p) = rx.recv().await {
            stored.push(p);
        }
        assert!(
            stored.contains(&seeder.addr()),
            "{stored:?} lacks {}",
            seeder.addr()
        );

        let mut leecher =
            TestSession::start_with(session_config(dht_config(local(0), &[boot.local_addr()])))
                .await;
        let out = temp_dir("out");
        let magnet = Magnet::parse(&format!("magnet:?xt=urn:btih:{}", fx.ih_hex)).unwrap();
        assert!(magnet.trackers.is_empty() && magnet.peers.is_empty());
        let opts = AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            ..Default::default()
        };
        leecher
            .session
            .add_magnet(&magnet, opts)
            .expect("add magnet");
        leecher
            .wait_for("metadata", DL_TIMEOUT, |e| {
                matches!(e, Event::MetadataReceived { .. })
            })
            .await;
        leecher.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));

        let stats = leecher
            .session
            .dht_stats()
            .await
            .expect("leecher DHT stats");
        assert!(stats.nodes >= 1, "{stats:#?}");
        assert!(stats.lookups_done >= 1, "{stats:#?}");
        let state = leecher
            .session
            .dht_state()
            .await
            .expect("leecher DHT state");
        leecher.shutdown().await;

        // Restart from the saved table only: same id, and it rejoins without bootstrap.
        let mut again = dht_config(local(0), &[]);
        again.saved_table = Some(state);
        let third = TestSession::start_with(session_config(again)).await;
        assert_eq!(
            third.session.dht_stats().await.unwrap().node_id,
            stats.node_id,
            "the saved id is reused"
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let s = third.session.dht_stats().await.unwrap();
            if s.good_nodes >= 1 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never rejoined: {s:#?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        third.shutdown().await;
        seeder.shutdown().await;
        boot.shutdown().await;
    })
    .await
}

/// A session without a DHT config runs no node: no stats, no state, no UDP socket.
#[tokio::test]
async fn no_dht_without_config() {
    let s = TestSession::start().await;
    assert!(s.session.dht_addr().is_none());
    assert!(s.session.dht_stats().await.is_none());
    assert!(s.session.dht_state().await.is_none());
    s.shutdown().await;
}

/// BEP 27: a private torrent is never announced on the DHT, while a public one in the
/// same session is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_torrents_stay_off_the_dht() {
    hard_timeout(TEST_TIMEOUT, "private torrent off the DHT", async {
        let boot = Dht::start(dht_config(local(0), &[])).await.unwrap();
        let dir = temp_dir("private");
        let layout = Layout::single("secret.bin", 300 * KIB, 64 * 1024);
        layout.write(dir.path(), 61);
        let opts = engine::create::CreateOptions {
            private: true,
            piece_length: Some(layout.piece_size),
            ..Default::default()
        };
        let bytes =
            engine::create::create_torrent(&layout.root_in(dir.path()), &opts, &|_| {}).unwrap();
        let private = engine::metainfo::Metainfo::from_bytes(&bytes).unwrap();
        assert!(private.private);
        let private_ih = private.info_hash;
        let public = fixture(Layout::single_odd(), 62, Maker::Engine, &[]);
        let public_ih = InfoHash::from_hex(&public.ih_hex).unwrap();

        let mut s =
            TestSession::start_with(session_config(dht_config(local(0), &[boot.local_addr()])))
                .await;
        s.session
            .add_torrent(
                private,
                AddTorrentOptions {
                    save_dir: dir.path().to_path_buf(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        s.wait_seeding(private_ih, Duration::from_secs(30)).await;
        s.add(&public.torrent, &public.src, vec![]).await;
        s.wait_seeding(public_ih, Duration::from_secs(30)).await;
        wait_dht_stats(
            &boot,
            "the public announce",
            Duration::from_secs(30),
            |st| st.stored_torrents >= 1,
        )
        .await;
        // Both torrents started their rounds together; give a private one time to leak.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let st = boot.stats().await.unwrap();
        assert_eq!(st.stored_torrents, 1, "{st:#?}");
        let mut rx = boot.get_peers(public_ih).unwrap();
        let mut found = Vec::new();
        while let Some(p) = rx.recv().await {
            found.push(p);
        }
        assert!(found.contains(&s.addr()), "{found:?}");
        s.shutdown().await;
        boot.shutdown().await;
    })
    .await
}

/// A libtorrent leecher bootstrapped from a loopback node finds our seeder through the DHT
/// alone (no tracker, no peer given) and downloads every byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_finds_our_seeder_through_the_dht() {
    hard_timeout(TEST_TIMEOUT, "libtorrent leeches through the DHT", async {
        let boot = Dht::start(dht_config(local(0), &[])).await.unwrap();
        let fx = fixture(Layout::multi_mixed(), 71, Maker::Engine, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let mut seeder =
            TestSession::start_with(session_config(dht_config(local(0), &[boot.local_addr()])))
                .await;
        seeder.add(&fx.torrent, &fx.src, vec![]).await;
        seeder.wait_seeding(ih, Duration::from_secs(30)).await;
        wait_dht_stats(
            &boot,
            "the seeder's announce",
            Duration::from_secs(30),
            |s| s.stored_torrents >= 1,
        )
        .await;

        let out = temp_dir("lt-out");
        let mut lt = LtDht::leech(&fx.torrent, out.path(), "127.0.0.2", boot.local_addr());
        lt.proc
            .wait_line_async("DONE", DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("libtorrent did not finish: {e}"));
        let st = lt
            .proc
            .wait_exit_async(Duration::from_secs(10))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(st.success(), "libtorrent exited with {st}");
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        // The upload counter follows the last blocks a moment after libtorrent has them.
        let handle = seeder.session.get(&ih).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while handle.status().uploaded < fx.layout.total_len()
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let up = handle.status();
        assert!(up.uploaded >= fx.layout.total_len(), "{up:?}");
        seeder.shutdown().await;
        boot.shutdown().await;
    })
    .await
}

/// Connects to `peer` as a raw BitTorrent client whose handshake carries the DHT bit;
/// returns the stream, the session's handshake and the read buffer.
async fn raw_peer(
    peer: SocketAddr,
    ih: InfoHash,
) -> (tokio::net::TcpStream, Handshake, bytes::BytesMut) {
    let mut stream = tokio::net::TcpStream::connect(peer).await.unwrap();
    let ours = Handshake::new(ih, PeerId(*b"-XX0001-dhtporttest0")).with_dht();
    write_handshake(&mut stream, &ours).await.unwrap();
    let theirs = read_handshake(&mut stream).await.unwrap();
    (stream, theirs, bytes::BytesMut::new())
}

/// The next message from `stream` (panics after 10 s).
async fn next_message(stream: &mut tokio::net::TcpStream, buf: &mut bytes::BytesMut) -> Message {
    let codec = Codec::default();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(m) = codec.decode(buf).unwrap() {
                return m;
            }
            let n = stream.read_buf(buf).await.unwrap();
            assert!(n > 0, "the session closed the connection");
        }
    })
    .await
    .expect("no message within 10 s")
}

/// BEP 5 on the peer wire: a session with a DHT node sets the DHT bit and sends a peer that
/// sets it a `port` message naming its node; the peer's own `port` makes that node ping the
/// peer's UDP port. A session without a node sets no bit and sends no `port`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_messages_both_ways() {
    hard_timeout(TEST_TIMEOUT, "port messages", async {
        let fx = fixture(Layout::single_odd(), 81, Maker::Engine, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let mut s = TestSession::start_with(session_config(dht_config(local(0), &[]))).await;
        s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(ih, Duration::from_secs(30)).await;
        let dht = s.session.dht_addr().unwrap();

        let (mut stream, theirs, mut buf) = raw_peer(s.addr(), ih).await;
        assert!(theirs.supports_dht(), "DHT bit missing: {theirs:?}");
        let port = loop {
            if let Message::Port(p) = next_message(&mut stream, &mut buf).await {
                break p;
            }
        };
        assert_eq!(port, dht.port());

        // Our "DHT node": a UDP socket that should hear a ping from the session's node.
        let udp = tokio::net::UdpSocket::bind(local(0)).await.unwrap();
        let mut out = bytes::BytesMut::new();
        Codec::encode(&Message::Port(udp.local_addr().unwrap().port()), &mut out);
        stream.write_all(&out).await.unwrap();
        let mut dgram = [0u8; 1500];
        let (n, from) = tokio::time::timeout(Duration::from_secs(10), udp.recv_from(&mut dgram))
            .await
            .expect("no ping from the session's DHT node")
            .unwrap();
        assert_eq!(from.port(), dht.port());
        let text = String::from_utf8_lossy(&dgram[..n]);
        assert!(text.contains("1:q4:ping"), "not a ping: {text}");
        drop(stream);
        s.shutdown().await;

        let plain = TestSession::start().await;
        plain.add(&fx.torrent, &fx.src, vec![]).await;
        let (mut stream, theirs, mut buf) = raw_peer(plain.addr(), ih).await;
        assert!(!theirs.supports_dht(), "DHT bit without a node: {theirs:?}");
        // Its opening messages come without a `port` (a keep-alive would come much later).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while tokio::time::Instant::now() < deadline {
            let codec = Codec::default();
            match tokio::time::timeout(Duration::from_millis(200), stream.read_buf(&mut buf)).await
            {
                Ok(Ok(0)) => break,
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => panic!("{e}"),
            }
            while let Some(m) = codec.decode(&mut buf).unwrap() {
                assert!(!matches!(m, Message::Port(_)), "port without a DHT node");
            }
        }
        plain.shutdown().await;
    })
    .await
}
