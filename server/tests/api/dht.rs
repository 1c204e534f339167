//! The DHT as the server runs it: `/api/statistics` reports the node, which joins through
//! a loopback bootstrap node (never a public router), and its table is saved at shutdown
//! and loaded at the next start.

use std::time::{Duration, Instant};

use engine::dht::{Dht, DhtConfig, DhtLimits};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// A loopback node to bootstrap from; the server's node shares 127.0.0.1 with it.
async fn boot_node() -> Dht {
    let mut c = DhtConfig::new("127.0.0.1:0".parse().unwrap());
    c.limits = DhtLimits {
        query_rate_per_ip: 10_000,
        query_burst_per_ip: 10_000,
        ..DhtLimits::default()
    };
    Dht::start(c).await.expect("boot node")
}

async fn dht_stats(srv: &Server, token: &str) -> Value {
    let (s, body) = srv.get("/api/statistics", token).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    body["dht"].clone()
}

#[tokio::test]
async fn statistics_report_the_dht_node_and_its_state_survives_a_restart() {
    let boot = boot_node().await;
    let opts = Options::new(Backend::Sqlite)
        .env("DHT", "true")
        .env("DHT_BOOTSTRAP", &boot.local_addr().to_string());
    let srv = Server::start_with(opts).await;
    let admin = srv.user("admin").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let dht = loop {
        let dht = dht_stats(&srv, &admin).await;
        assert_eq!(dht["enabled"], true, "{dht}");
        if dht["nodes"].as_u64().unwrap_or(0) >= 1 {
            break dht;
        }
        assert!(
            Instant::now() < deadline,
            "never joined: {dht}\n{}",
            srv.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(dht["port"].as_u64().is_some_and(|p| p > 0), "{dht}");
    let metrics = srv
        .req(reqwest::Method::GET, "/metrics", Some(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("torrentedge_dht_nodes ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    // The boot node heard from the server's node and took it into its table.
    let deadline = Instant::now() + Duration::from_secs(20);
    while boot.stats().await.unwrap().nodes < 1 {
        assert!(
            Instant::now() < deadline,
            "boot node never saw the server's node"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Stopping saves the table; the next start rejoins from it with no bootstrap at all.
    let state = srv.data_dir().join("dht.state");
    let mut opts = srv.opts.clone();
    opts.env.retain(|(k, _)| k != "DHT_BOOTSTRAP");
    let opts = opts.env("DHT_BOOTSTRAP", "");
    let mut srv = srv;
    srv.opts = opts;
    let srv = srv.restart().await;
    assert!(
        std::fs::metadata(&state).is_ok_and(|m| m.len() > 20),
        "no saved DHT state at {}",
        state.display()
    );
    let token = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let dht = dht_stats(&srv, &token).await;
        if dht["goodNodes"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never rejoined from the saved state: {dht}\n{}",
            srv.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    boot.shutdown().await;
}

/// With IPv6 on (a test server listens on `[::1]` beside 127.0.0.1), a second DHT node
/// runs on IPv6 (BEP 32): it joins through the IPv6 entry of the bootstrap list (the IPv4
/// node through the IPv4 one), and the statistics report its table and UDP port beside
/// the IPv4 node's.
#[tokio::test]
async fn statistics_report_the_ipv6_dht_node_beside_the_ipv4_one() {
    let boot4 = boot_node().await;
    let mut c = DhtConfig::new("[::1]:0".parse().unwrap());
    c.limits = DhtLimits {
        query_rate_per_ip: 10_000,
        query_burst_per_ip: 10_000,
        ..DhtLimits::default()
    };
    let boot6 = Dht::start(c).await.expect("IPv6 boot node");
    let list = format!("{},{}", boot4.local_addr(), boot6.local_addr());
    let opts = Options::new(Backend::Sqlite)
        .env("DHT", "true")
        .env("IPV6", "true")
        .env("DHT_BOOTSTRAP", &list);
    let srv = Server::start_with(opts).await;
    let admin = srv.user("admin").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let dht = loop {
        let dht = dht_stats(&srv, &admin).await;
        assert_eq!(dht["enabled"], true, "{dht}");
        let v4 = dht["nodes"].as_u64().unwrap_or(0);
        let v6 = dht["nodesV6"].as_u64().unwrap_or(0);
        if v4 >= 1 && v6 >= 1 {
            break dht;
        }
        assert!(
            Instant::now() < deadline,
            "the two nodes never joined: {dht}\n{}",
            srv.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(dht["portV6"].as_u64().is_some_and(|p| p > 0), "{dht}");
    // Each boot node has only its own family's node of the server in its table.
    let deadline = Instant::now() + Duration::from_secs(20);
    while boot6.stats().await.unwrap().nodes < 1 {
        assert!(
            Instant::now() < deadline,
            "the IPv6 boot node never saw the server's IPv6 node"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        srv.logs().contains("IPv6 DHT node on [::1]"),
        "{}",
        srv.logs()
    );
    boot4.shutdown().await;
    boot6.shutdown().await;
}

#[tokio::test]
async fn statistics_say_when_the_dht_is_off() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let dht = dht_stats(&srv, &admin).await;
    assert_eq!(dht["enabled"], false, "{dht}");
    assert_eq!(dht["nodes"], 0, "{dht}");
    assert!(dht["port"].is_null(), "{dht}");
    assert!(srv.logs().contains("DHT off"), "{}", srv.logs());
    let metrics = srv
        .req(reqwest::Method::GET, "/metrics", Some(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!metrics.contains("torrentedge_dht_nodes"), "{metrics}");
    // The server-rendered Statistics page says so too.
    let html = srv
        .http
        .get(srv.url("/statistics"))
        .header("Cookie", format!("te_session={admin}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let card = html
        .split("id=\"dht-nodes\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no DHT card in the page:\n{html}"));
    let shown = card[card.find('>').unwrap() + 1..]
        .split('<')
        .next()
        .unwrap();
    assert_eq!(shown.trim(), "off", "{card:.200}");
}

/// The product path: one server seeds a torrent that has no tracker, another gets only its
/// bare magnet link through the API; both run the DHT from the same loopback bootstrap node,
/// and the second finds the first there, fetches the metadata and downloads every byte.
#[tokio::test]
async fn a_magnet_without_trackers_downloads_between_servers_through_the_dht() {
    let boot = boot_node().await;
    let dht_opts = || {
        Options::new(Backend::Sqlite)
            .env("DHT", "true")
            .env("DHT_BOOTSTRAP", &boot.local_addr().to_string())
    };
    let seeder = Server::start_with(dht_opts()).await;
    let sa = seeder.user("admin").await;
    let data = seeder.downloads().join("s/film.bin");
    write_random(&data, 600_000, 17);
    let (torrent, ih) = make_torrent(&data, Some(16384));
    assert_eq!(
        seeder.upload(&sa, &torrent, &[("savePath", "s")]).await.0,
        StatusCode::CREATED
    );
    seeder
        .wait_torrent(&sa, &ih, 30, |t| t["state"] == "seeding")
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while boot.stats().await.unwrap().stored_torrents < 1 {
        assert!(
            Instant::now() < deadline,
            "the seeder never announced:\n{}",
            seeder.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let leecher = Server::start_with(dht_opts()).await;
    let la = leecher.user("admin").await;
    let (s, t) = leecher
        .post(
            "/api/torrents",
            &la,
            json!({ "magnetURI": format!("magnet:?xt=urn:btih:{ih}"), "savePath": "got" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    let done = leecher
        .wait_torrent(&la, &ih, 60, |t| t["state"] == "seeding")
        .await;
    assert_eq!(done["name"], "film.bin", "{done}");
    assert_eq!(
        std::fs::read(leecher.downloads().join("got/film.bin")).unwrap(),
        std::fs::read(&data).unwrap()
    );
    boot.shutdown().await;
}
