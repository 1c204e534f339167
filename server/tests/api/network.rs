//! The network settings end to end: the IPv6 listener beside the IPv4 one on the same port,
//! local discovery, an admin's change stored for the next start, and the restart that
//! applies it. (Port mapping against a real router: engine/tests/portmap.rs.)

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// `(ipv4, ipv6)` peer listener addresses from the server's start-up line.
fn listeners(srv: &Server) -> (String, Option<String>) {
    let logs = srv.logs();
    let line = logs
        .lines()
        .rev()
        .find(|l| l.contains("peer listener"))
        .unwrap_or_else(|| panic!("no peer listener line:\n{logs}"));
    let rest = line.split(" on ").nth(1).expect("addresses").trim();
    match rest.split_once(" and ") {
        Some((v4, v6)) => (v4.to_string(), Some(v6.to_string())),
        None => (rest.to_string(), None),
    }
}

async fn network(srv: &Server, token: &str) -> Value {
    srv.get("/api/settings", token).await.1["network"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_and_lsd_are_chosen_stored_and_applied_at_restart() {
    // The test support turns LSD off; IPv6 is on by default.
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let n = network(&srv, &alice).await;
    assert_eq!(
        n,
        json!({ "utp": false, "ipv6": true, "lsd": false, "upnp": false, "portMappings": [], "restartRequired": false })
    );
    let (v4, v6) = listeners(&srv);
    let v6 = v6.expect("an IPv6 listener");
    let port = |a: &str| a.rsplit(':').next().unwrap().to_string();
    assert_eq!(port(&v4), port(&v6), "one port for both families");
    assert!(v6.starts_with("[::1]:"), "beside a loopback bind: {v6}");
    tokio::net::TcpStream::connect(&v6)
        .await
        .expect("the IPv6 listener accepts");

    let body = json!({ "network": { "utp": true, "ipv6": false, "lsd": true } });
    // (UPnP stays off: the test support turns it off, and no router runs here.)
    let (s, _) = send(
        srv.req(Method::PATCH, "/api/settings", Some(&alice))
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        srv.req(Method::PATCH, "/api/settings", Some(&admin))
            .json(&json!({ "network": { "utp": "maybe" } })),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, got) = send(
        srv.req(Method::PATCH, "/api/settings", Some(&admin))
            .json(&body),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(
        got["network"],
        json!({ "utp": true, "ipv6": false, "lsd": true, "upnp": false, "portMappings": [], "restartRequired": true })
    );
    // Still running as started until the restart.
    tokio::net::TcpStream::connect(&v6)
        .await
        .expect("still listening on IPv6");

    let srv = srv.restart().await;
    assert_eq!(
        network(&srv, &admin).await,
        json!({ "utp": true, "ipv6": false, "lsd": true, "upnp": false, "portMappings": [], "restartRequired": false })
    );
    let (_, v6) = listeners(&srv);
    assert_eq!(v6, None, "IPv4 only after the restart");
    assert!(
        !srv.logs().contains("local service discovery is off"),
        "LSD started: {}",
        srv.logs()
    );
}
