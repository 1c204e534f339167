//! uTP (BEP 29) over IPv6: the session binds a second uTP socket beside its IPv6
//! listener. Against real libtorrent 2.0.8 on `::1` with TCP off both ways (so every byte
//! moved went over uTP, and over IPv6): the engine dials the IPv6 seeder over uTP, and an
//! IPv6 leecher reaches the engine's IPv6 uTP socket.
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test utp_v6`

mod support;

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use engine::config::SessionConfig;
use engine::events::Event;
use support::*;

const V6_LOOPBACK: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// `RUST_LOG=engine=debug` shows the engine's logs of a failing run.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A session with uTP on and an IPv6 listener on `::1`: its IPv6 uTP socket must be
/// bound on the IPv6 listener's address and port.
async fn dual_stack_utp_session() -> TestSession {
    logs();
    let s = TestSession::start_with(SessionConfig {
        listen_v6: Some(SocketAddr::new(V6_LOOPBACK, 0)),
        utp: true,
        ..test_config()
    })
    .await;
    let v6 = s.session.local_addr_v6().expect("an IPv6 listener");
    assert_eq!(
        s.session.utp_addr_v6(),
        Some(v6),
        "the IPv6 uTP socket shares the IPv6 listener's address and port"
    );
    assert!(
        s.session.utp_addr().is_some_and(|a| a.is_ipv4()),
        "the IPv4 uTP socket stays"
    );
    s
}

fn lt_utp_v6() -> LtOpts {
    LtOpts {
        ip: Some(V6_LOOPBACK),
        transport: Some("utp"),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_libtorrent_over_utp_on_ipv6() {
    hard_timeout(TEST_TIMEOUT, "lt [::1] (uTP only) -> engine", async {
        let fx = fixture(Layout::single_odd(), 71, Maker::Libtorrent, &[]);
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, lt_utp_v6());
        let seeder_addr = seeder.addr();
        assert!(seeder_addr.is_ipv6());
        // The seeder takes no TCP: a connection to it is a uTP one from our IPv6 socket.
        dual_stack_utp_session()
            .await
            .download_from(&fx, seeder_addr, DL_TIMEOUT)
            .await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_downloads_from_the_engine_over_utp_on_ipv6() {
    hard_timeout(TEST_TIMEOUT, "engine [::1] -> lt (uTP only)", async {
        let fx = fixture(Layout::single_odd(), 72, Maker::Engine, &[]);
        let mut s = dual_stack_utp_session().await;
        let h = s.add(&fx.torrent, &fx.src, vec![]).await;
        s.wait_seeding(h.info_hash(), DL_TIMEOUT).await;
        let ours = s.session.utp_addr_v6().expect("an IPv6 uTP socket");
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![ours],
                ..lt_utp_v6()
            },
        );
        s.wait_for(
            "an incoming IPv6 uTP peer",
            DL_TIMEOUT,
            |e| matches!(e, Event::PeerConnected { addr, .. } if addr.is_ipv6()),
        )
        .await;
        leech.expect_clean_download(DL_TIMEOUT).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}
