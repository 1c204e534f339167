//! The session's IPv6 DHT node (BEP 32) end to end, on `::1` only: a session with an IPv6
//! listener runs a second DHT node beside its IPv4 one, on the IPv6 uTP socket. It joins
//! through a real libtorrent 2.0.8 DHT node on `[::1]` (tests/support/lt_dht6.py, whose
//! only listen socket and DHT node are IPv6) and finds libtorrent's seeder for a bare
//! magnet; its table is saved with the IPv4 one and read back. The peer wire's `port`
//! goes to (and names) the node of the peer's family. Every node bootstraps from a
//! loopback node of the test, never a public router.
//!
//! `scripts/in-netns.sh cargo test -p engine --test dht_v6`

mod support;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::process::Command;
use std::time::Duration;

use engine::config::SessionConfig;
use engine::dht::{persist, Dht, DhtConfig, DhtStats};
use engine::events::Event;
use engine::magnet::Magnet;
use engine::session::{AddTorrentOptions, Session};
use engine::wire::{read_handshake, write_handshake, Codec, Handshake, Message};
use engine::{InfoHash, PeerId};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const V6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn v6(port: u16) -> SocketAddr {
    SocketAddr::new(V6_LOOPBACK, port)
}

/// `RUST_LOG=engine=debug` shows the engine's logs of a failing run.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// 127.0.0.1 and `[::1]`, uTP on, the DHT on the IPv4 listener's address (the IPv6 node
/// follows the IPv6 listener).
fn dual_stack(dht: DhtConfig) -> SessionConfig {
    SessionConfig {
        listen_v6: Some(v6(0)),
        utp: true,
        dht: Some(dht),
        ..test_config()
    }
}

async fn wait_until<F, Fut>(what: &str, limit: Duration, mut f: F) -> DhtStats
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<DhtStats>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(s) = f().await {
            return s;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The session's IPv6 node's stats once `f` holds.
async fn wait_v6(s: &Session, what: &str, limit: Duration, f: impl Fn(&DhtStats) -> bool) {
    wait_until(what, limit, || async {
        s.dht_stats_v6().await.filter(|st| f(st))
    })
    .await;
}

/// tests/support/lt_dht6.py seeding `torrent` on `[::1]`, joined through `bootstrap`.
fn lt_seed_v6(fx: &Fixture, bootstrap: SocketAddr) -> (ChildGuard, SocketAddr) {
    require_libtorrent();
    assert!(bootstrap.ip().is_loopback() && bootstrap.is_ipv6());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/lt_dht6.py");
    let mut cmd = Command::new(PYTHON);
    cmd.arg(script)
        .arg("seed")
        .arg(&fx.torrent)
        .arg(&fx.src)
        .arg("--listen")
        .arg("[::1]:0")
        .arg("--bootstrap")
        .arg(bootstrap.to_string())
        .arg("--timeout")
        .arg("110");
    let mut proc = ChildGuard::spawn("lt-dht6-seed", cmd);
    let line = proc
        .wait_line("READY", Duration::from_secs(20))
        .unwrap_or_else(|e| panic!("{e}"));
    let port = line
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("bad READY line: {line}"));
    (proc, v6(port))
}

/// libtorrent seeds on `[::1]` and announces through a plain IPv6 node of ours (`boot`).
/// A node of ours whose only bootstrap node is libtorrent's finds the seeder with
/// `get_peers` (libtorrent's `nodes6` lead it to `boot`, which holds the announce). Then a
/// session, whose only bootstrap node is libtorrent's too, gets a bare magnet's metadata
/// and every byte over IPv6: the only peer source is its IPv6 DHT node (its IPv4 node,
/// given no IPv4 bootstrap node, stays empty). The two find each other either way round
/// (our lookup finds libtorrent, or libtorrent's finds our announce), both through the
/// IPv6 DHT. The saved state holds the IPv6 table, and a session restarted from it alone
/// rejoins the IPv6 DHT with the same node id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magnet_found_through_libtorrent_on_the_ipv6_dht() {
    hard_timeout(TEST_TIMEOUT, "IPv6 DHT: magnet via libtorrent", async {
        logs();
        let fx = fixture(Layout::single_odd(), 91, Maker::Libtorrent, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let boot = Dht::start(dht_config(v6(0), &[])).await.unwrap();
        let (_seeder, lt_addr) = lt_seed_v6(&fx, boot.local_addr());
        // libtorrent's announce_peer over IPv6, with the token of our get_peers reply.
        wait_until(
            "libtorrent's announce at boot",
            Duration::from_secs(60),
            || async { boot.stats().await.ok().filter(|s| s.stored_torrents >= 1) },
        )
        .await;

        let searcher = Dht::start(dht_config(v6(0), &[lt_addr])).await.unwrap();
        let mut found = std::collections::HashSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
        while !found.contains(&lt_addr) && tokio::time::Instant::now() < deadline {
            let mut rx = searcher.get_peers(ih).unwrap();
            while let Some(p) = rx.recv().await {
                found.insert(p);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(
            found.contains(&lt_addr),
            "found {found:?}, not the seeder at {lt_addr}"
        );
        searcher.shutdown().await;

        let mut s = TestSession::start_with(dual_stack(dht_config(local(0), &[lt_addr]))).await;
        let dht6 = s.session.dht_addr_v6().expect("an IPv6 DHT node");
        assert_eq!(
            Some(dht6),
            s.session.utp_addr_v6(),
            "the IPv6 node shares the IPv6 uTP socket"
        );
        assert!(s.session.dht_addr().is_some_and(|a| a.is_ipv4()));
        let (v4_stats, v6_stats) = (
            s.session.dht_stats().await.unwrap(),
            s.session.dht_stats_v6().await.unwrap(),
        );
        assert_eq!(
            v4_stats.node_id, v6_stats.node_id,
            "one id for both (BEP 32)"
        );

        let magnet = Magnet::parse(&format!("magnet:?xt=urn:btih:{}", fx.ih_hex)).unwrap();
        assert!(magnet.trackers.is_empty() && magnet.peers.is_empty());
        let out = temp_dir("out");
        let opts = AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            ..Default::default()
        };
        s.session.add_magnet(&magnet, opts).expect("add magnet");
        s.seen_or_wait("metadata", DL_TIMEOUT, |e| {
            matches!(e, Event::MetadataReceived { .. })
        })
        .await;
        s.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let peers: Vec<SocketAddr> = s
            .seen
            .iter()
            .filter_map(|e| match e {
                Event::PeerConnected { addr, .. } => Some(*addr),
                _ => None,
            })
            .collect();
        assert!(
            !peers.is_empty() && peers.iter().all(|a| a.ip() == V6_LOOPBACK),
            "peers {peers:?}: want libtorrent over IPv6 only"
        );

        let v6_stats = s.session.dht_stats_v6().await.unwrap();
        assert!(v6_stats.nodes >= 1, "{v6_stats:#?}");
        assert!(v6_stats.lookups_done >= 1, "{v6_stats:#?}");
        let v4_stats = s.session.dht_stats().await.unwrap();
        assert_eq!(
            v4_stats.nodes, 0,
            "IPv6 nodes in the IPv4 table: {v4_stats:#?}"
        );

        let state = s.session.dht_state().await.expect("DHT state");
        let (id, nodes) = persist::decode(&state).expect("a readable state");
        assert_eq!(id, v6_stats.node_id);
        assert!(
            nodes.iter().any(|n| n.addr.is_ipv6()),
            "no IPv6 node saved: {nodes:?}"
        );
        s.shutdown().await;

        // Restarted from the saved state alone (no bootstrap node in either family).
        let mut again = dht_config(local(0), &[]);
        again.saved_table = Some(state);
        let third = TestSession::start_with(dual_stack(again)).await;
        let st = third.session.dht_stats_v6().await.expect("an IPv6 node");
        assert_eq!(st.node_id, v6_stats.node_id, "the saved id is reused");
        wait_v6(
            &third.session,
            "the IPv6 node to rejoin",
            Duration::from_secs(20),
            |s| s.good_nodes >= 1,
        )
        .await;
        third.shutdown().await;
        boot.shutdown().await;
    })
    .await
}

/// BEP 5's `port` over an IPv6 connection: the session names its IPv6 node's port, and
/// the peer's `port` makes the IPv6 node (not the IPv4 one) ping the peer's address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_message_goes_to_the_node_of_the_peers_family() {
    hard_timeout(TEST_TIMEOUT, "IPv6 port messages", async {
        logs();
        let fx = fixture(Layout::single_odd(), 92, Maker::Engine, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        // The IPv6 listener, and with it the IPv6 uTP socket and DHT node, on a port of its
        // own: the port a peer is told then says which node it names.
        let config = SessionConfig {
            listen_v6: Some(v6(free_port())),
            ..dual_stack(dht_config(local(0), &[]))
        };
        let mut s = TestSession::start_with(config).await;
        s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(ih, Duration::from_secs(30)).await;
        let (dht4, dht6) = (
            s.session.dht_addr().unwrap(),
            s.session.dht_addr_v6().unwrap(),
        );
        let listen6 = s.session.local_addr_v6().unwrap();
        assert_eq!(dht6, listen6, "the IPv6 node on the IPv6 listener's port");
        assert_ne!(dht4.port(), dht6.port());

        let mut stream = tokio::net::TcpStream::connect(listen6).await.unwrap();
        let ours = Handshake::new(ih, PeerId(*b"-XX0001-dht6porttest")).with_dht();
        write_handshake(&mut stream, &ours).await.unwrap();
        let theirs = read_handshake(&mut stream).await.unwrap();
        assert!(theirs.supports_dht(), "DHT bit missing: {theirs:?}");
        let mut buf = bytes::BytesMut::new();
        let codec = Codec::default();
        let port = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Some(m) = codec.decode(&mut buf).unwrap() {
                    if let Message::Port(p) = m {
                        return p;
                    }
                    continue;
                }
                let n = stream.read_buf(&mut buf).await.unwrap();
                assert!(n > 0, "the session closed the connection");
            }
        })
        .await
        .expect("no port message within 10 s");
        assert_eq!(
            port,
            dht6.port(),
            "an IPv6 peer is told the IPv6 node's port"
        );

        // A real IPv6 node of ours as the peer's DHT node: the session's IPv6 node pings it
        // and takes it into its table; the IPv4 node cannot reach it and stays empty.
        let peer_node = Dht::start(dht_config(v6(0), &[])).await.unwrap();
        let mut out = bytes::BytesMut::new();
        Codec::encode(&Message::Port(peer_node.local_addr().port()), &mut out);
        stream.write_all(&out).await.unwrap();
        wait_v6(
            &s.session,
            "the peer's node in the IPv6 table",
            Duration::from_secs(10),
            |st| st.nodes >= 1,
        )
        .await;
        let v4 = s.session.dht_stats().await.unwrap();
        assert_eq!(v4.nodes, 0, "{v4:#?}");
        assert_eq!(
            v4.queries_out, 0,
            "the IPv4 node ({dht4}) pinged an IPv6 peer: {v4:#?}"
        );
        drop(stream);
        s.shutdown().await;
        peer_node.shutdown().await;
    })
    .await
}
