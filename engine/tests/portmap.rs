//! Port mapping against a real router: miniupnpd on the test namespace's loopback. The
//! engine maps its listening port by NAT-PMP, and by UPnP IGD found through SSDP, and
//! deletes the mapping when it shuts down.
//!
//! `scripts/in-netns.sh cargo test -p engine --test portmap`

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use engine::config::SessionConfig;
use engine::portmap::{Mapping, Method, PortMapConfig, Protocol};
use support::*;

/// One router at a time: both would take NAT-PMP's port and the one nftables table.
static ROUTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn wait_mapping(s: &TestSession, timeout: Duration) -> Mapping {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(m) = s.session.port_mappings().into_iter().next() {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "no port mapping after {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Maps with `cfg`, checks the router forwards the listening port, then that shutdown
/// removes the rule.
async fn maps_and_unmaps(cfg: PortMapConfig, method: Method) {
    let s = TestSession::start_with(SessionConfig {
        port_mapping: Some(cfg),
        ..test_config()
    })
    .await;
    let port = s.addr().port();
    let m = wait_mapping(&s, Duration::from_secs(20)).await;
    assert_eq!(m.method, method);
    assert_eq!(m.protocol, Protocol::Tcp);
    assert_eq!(m.internal, port);
    assert_eq!(m.external.ip(), ROUTER_PUBLIC.parse::<IpAddr>().unwrap());
    // The router may forward another external port (here its own loopback has ours taken).
    let rule = format!("dport {} dnat ip to 127.0.0.1:{port}", m.external.port());
    assert!(MiniUpnpd::rules().contains(&rule), "{}", MiniUpnpd::rules());
    s.shutdown().await;
    assert!(
        !MiniUpnpd::rules().contains(&rule),
        "still forwarded after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nat_pmp_maps_the_listening_port_and_removes_it_at_exit() {
    let _one = ROUTER.lock().await;
    let _router = MiniUpnpd::start(true, false);
    let cfg = PortMapConfig {
        gateway: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        upnp: false,
        ..Default::default()
    };
    maps_and_unmaps(cfg, Method::NatPmp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upnp_finds_the_router_by_ssdp_and_maps_the_listening_port() {
    let _one = ROUTER.lock().await;
    let _router = MiniUpnpd::start(false, true);
    let cfg = PortMapConfig {
        interface: Ipv4Addr::LOCALHOST,
        natpmp: false,
        ..Default::default()
    };
    maps_and_unmaps(cfg, Method::Upnp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_router_maps_nothing_and_harms_nothing() {
    let _one = ROUTER.lock().await;
    // No gateway answers: the session runs, and shows no mapping.
    let s = TestSession::start_with(SessionConfig {
        port_mapping: Some(PortMapConfig {
            gateway: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            interface: Ipv4Addr::LOCALHOST,
            ..Default::default()
        }),
        ..test_config()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert!(s.session.port_mappings().is_empty());
    s.shutdown().await;
}
