//! IPv6 (BEP 7) against real libtorrent on `::1`: the engine dials an IPv6 seeder, and an
//! IPv6 leecher reaches the engine's IPv6 listener, which shares the IPv4 listener's port.
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test ipv6`

mod support;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use engine::events::Event;
use support::*;

const V6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// The test session with an IPv6 listener on `::1` beside its IPv4 one.
async fn dual_stack_session() -> TestSession {
    let s = TestSession::start_with(engine::config::SessionConfig {
        listen_v6: Some(SocketAddr::new(V6_LOOPBACK, 0)),
        ..test_config()
    })
    .await;
    let v6 = s.session.local_addr_v6().expect("an IPv6 listener");
    assert_eq!(v6.ip(), V6_LOOPBACK);
    assert_eq!(v6.port(), s.addr().port(), "one port for both families");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_libtorrent_over_ipv6() {
    hard_timeout(TEST_TIMEOUT, "lt [::1] -> engine", async {
        let fx = fixture(Layout::multi_mixed(), 61, Maker::Libtorrent, &[]);
        let seeder = LtPeer::seed(
            &fx.torrent,
            &fx.src,
            LtOpts {
                ip: Some(V6_LOOPBACK),
                ..Default::default()
            },
        );
        assert!(seeder.addr().is_ipv6());
        dual_stack_session()
            .await
            .download_from(&fx, seeder.addr(), DL_TIMEOUT)
            .await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_downloads_from_the_engine_over_ipv6() {
    hard_timeout(TEST_TIMEOUT, "engine [::1] -> lt", async {
        let fx = fixture(Layout::single_odd(), 62, Maker::Engine, &[]);
        let mut s = dual_stack_session().await;
        let h = s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(h.info_hash(), DL_TIMEOUT).await;
        let ours = s.session.local_addr_v6().expect("an IPv6 listener");
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                ip: Some(V6_LOOPBACK),
                connect: vec![ours],
                ..Default::default()
            },
        );
        s.wait_for(
            "an incoming IPv6 peer",
            DL_TIMEOUT,
            |e| matches!(e, Event::PeerConnected { addr, .. } if addr.is_ipv6()),
        )
        .await;
        leech
            .wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
