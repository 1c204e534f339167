//! Issue 11's hardening items, each against the real server: per-user folders, trusted
//! proxies and rate limits, open redirects, metrics labels, event streams that end with
//! their session, security headers, bounded uploads, slow clients, the tracker SSRF rule.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

/// An open `/api/events` response.
async fn open_stream(srv: &Server, token: &str) -> reqwest::Response {
    let res = srv
        .req(Method::GET, "/api/events", Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res
}

/// Whether the stream ends (the server closes it) within `wait`.
async fn ends_within(res: reqwest::Response, wait: Duration) -> bool {
    let mut body = res.bytes_stream();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Item 1: a user named like an admin's folder gets no access to it; names are unique
/// whatever their case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_cannot_reach_other_folders() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    // The admin's data, in DOWNLOAD_PATH/Movies.
    write_random(&srv.downloads().join("Movies/film.bin"), 20_000, 1);
    let (s, body) = srv
        .post(
            "/api/torrents/create",
            &admin,
            json!({ "path": "Movies/film.bin" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    let movies = srv.user("Movies").await;
    let (s, body) = srv
        .post(
            "/api/torrents/create",
            &movies,
            json!({ "path": "film.bin" }),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "the admin's file is not theirs: {body}"
    );
    let dir = srv.user_dir(&movies).await;
    assert!(
        dir.starts_with(srv.downloads().join("users")),
        "{}",
        dir.display()
    );

    let (s, body) = srv.register("ADMIN").await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (s, body) = srv.register("movies").await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
}

/// Item 3: `X-Forwarded-For` counts only from a trusted proxy; IPv6 clients share their /64;
/// registrations are limited per address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_use_the_forwarded_address_only_from_trusted_proxies() {
    let login = |srv: &Server, xff: &'static str| {
        srv.http
            .post(srv.url("/api/auth/login"))
            .header("X-Forwarded-For", xff)
            .json(&json!({ "username": "nobody", "password": "wrong password" }))
            .send()
    };
    let proxied = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("LOGIN_RATE_LIMIT", "2")
            .env("TRUSTED_PROXIES", "127.0.0.1, ::1")
            .env("REGISTER_RATE_LIMIT", "2"),
    )
    .await;
    for _ in 0..2 {
        let r = login(&proxied, "203.0.113.7").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&proxied, "203.0.113.7").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy has its own bucket.
    let r = login(&proxied, "198.51.100.1, 203.0.113.8").await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "right-most untrusted hop"
    );
    // IPv6: one bucket per /64.
    for _ in 0..2 {
        let r = login(&proxied, "2001:db8:1:2::1").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&proxied, "2001:db8:1:2:ffff::9").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "same /64");

    // Registrations: two per address, then 429 (the first user is the admin).
    let reg = |name: &str| {
        proxied
            .http
            .post(proxied.url("/api/auth/register"))
            .header("X-Forwarded-For", "192.0.2.50")
            .json(&json!({ "username": name, "password": PASSWORD }))
            .send()
    };
    assert_eq!(reg("first").await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(reg("second").await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(
        reg("third").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Without TRUSTED_PROXIES the header is ignored: every attempt is 127.0.0.1's.
    let direct =
        Server::start_with(Options::new(Backend::Sqlite).env("LOGIN_RATE_LIMIT", "2")).await;
    for xff in ["203.0.113.1", "203.0.113.2"] {
        let r = login(&direct, xff).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login(&direct, "203.0.113.3").await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Items 11 and 14: no redirect off the site after a form login; security headers; a
/// `Secure` cookie when a trusted proxy says the browser used HTTPS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_headers_and_secure_cookies() {
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("TRUSTED_PROXIES", "127.0.0.1")).await;
    srv.user("alice").await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for next in ["/%09/evil.example", "/%5Cevil.example", "//evil.example"] {
        let res = no_redirects
            .post(srv.url(&format!("/login?next={next}")))
            .form(&[("username", "alice"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/", "next={next}");
    }

    for path in ["/", "/api/health"] {
        let res = srv.http.get(srv.url(path)).send().await.unwrap();
        let h = res.headers();
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-content-type-options"], "nosniff");
    }

    let cookies = |proto: Option<&'static str>| {
        let mut r = srv
            .http
            .post(srv.url("/api/auth/login"))
            .json(&json!({ "username": "alice", "password": PASSWORD }));
        if let Some(p) = proto {
            r = r.header("X-Forwarded-Proto", p);
        }
        async move {
            let res = r.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(cookies(Some("https"))
        .await
        .iter()
        .all(|c| c.contains("; Secure")));
    assert!(cookies(None).await.iter().all(|c| !c.contains("Secure")));
    assert!(cookies(Some("http"))
        .await
        .iter()
        .all(|c| !c.contains("Secure")));
}

/// Items 12 and 14: logout revokes the token; open event streams end on logout, on a
/// password change and when the token expires; a user holds a bounded number of streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_everywhere() {
    let srv = Server::start(Backend::Sqlite).await;
    let alice = srv.user("alice").await;
    let stream = open_stream(&srv, &alice).await;
    let (s, _) = srv
        .call(Method::POST, "/api/auth/logout", Some(&alice), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(
        ends_within(stream, Duration::from_secs(5)).await,
        "logout ends the stream"
    );
    let (s, body) = srv.get("/api/users/me", &alice).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");

    let (_, login) = srv.login("alice", PASSWORD).await;
    let token = login["token"].as_str().unwrap().to_owned();
    let stream = open_stream(&srv, &token).await;
    let (s, body) = srv
        .call(
            Method::PUT,
            "/api/users/me",
            Some(&token),
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "another long password" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(
        ends_within(stream, Duration::from_secs(5)).await,
        "a password change ends the stream"
    );

    let token = body["token"].as_str().unwrap().to_owned();
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(open_stream(&srv, &token).await);
    }
    let res = srv
        .req(Method::GET, "/api/events", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // A stream the client drops gives its slot back once the server notices (at the latest
    // at the next keep-alive, 15 s).
    held.pop();
    let deadline = Instant::now() + Duration::from_secs(25);
    loop {
        let res = srv
            .req(Method::GET, "/api/events", Some(&token))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let short = Server::start_with(Options::new(Backend::Sqlite).env("TOKEN_TTL", "3")).await;
    let bob = short.user("bob").await;
    let started = Instant::now();
    let stream = open_stream(&short, &bob).await;
    assert!(
        ends_within(stream, Duration::from_secs(10)).await,
        "expiry ends the stream"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// Item 10: random methods share one metrics label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods_share_one_metrics_label() {
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("METRICS_TOKEN", "scrape-me-please"))
            .await;
    for i in 0..20 {
        let m = Method::from_bytes(format!("RANDOM{i}").as_bytes()).unwrap();
        let _ = srv.http.request(m, srv.url("/api/health")).send().await;
    }
    let text = srv
        .req(Method::GET, "/metrics", Some("scrape-me-please"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!text.contains("RANDOM"), "{text}");
    assert!(text.contains("method=\"other\""), "{text}");
}

/// Item 5: the create route bounds its JSON body and text fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_bounds_json_and_fields() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let big = "x".repeat(300 << 10);
    let (s, body) = srv
        .post(
            "/api/torrents/create",
            &admin,
            json!({ "path": "a", "comment": big }),
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // The next request (on the same client) must not meet the closing connection.
    let form = reqwest::multipart::Form::new()
        .text("comment", "y".repeat(100 << 10))
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("a.bin"),
        );
    let (s, body) = send(
        srv.req(Method::POST, "/api/torrents/create", Some(&admin))
            .multipart(form),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

/// Item 5 on every surface: an upload declared over the limit is refused at once with 413
/// and `Connection: close` (its body stays unread, so the connection cannot carry another
/// request and a client must not reuse it), by the REST API, the qBittorrent adapter and
/// the Transmission adapter alike. The requests declare 3 MiB and send none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_uploads_close_the_connection_on_every_surface() {
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("MAX_TORRENT_SIZE", "1024")).await;
    let admin = srv.user("admin").await;
    let qbt = crate::qbittorrent::Qbit::login(&srv, "admin").await;
    let auth = crate::transmission::basic("admin", PASSWORD);
    let first = srv.http.post(srv.url("/transmission/rpc"));
    let first = first.header("Authorization", &auth).send().await.unwrap();
    let tr_sid = first.headers()["x-transmission-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let multipart = "multipart/form-data; boundary=b";
    for (surface, path, headers) in [
        (
            "REST",
            "/api/torrents",
            vec![
                ("Authorization", format!("Bearer {admin}")),
                ("Content-Type", multipart.into()),
            ],
        ),
        (
            "qBittorrent",
            "/api/v2/torrents/add",
            vec![("Cookie", qbt.cookie()), ("Content-Type", multipart.into())],
        ),
        (
            "Transmission",
            "/transmission/rpc",
            vec![
                ("Authorization", auth.clone()),
                ("X-Transmission-Session-Id", tr_sid.clone()),
                ("Content-Type", "application/json".into()),
            ],
        ),
    ] {
        let head = declared_upload(&srv, path, &headers, 3 << 20).await;
        let status = head.lines().next().unwrap_or_default();
        assert!(status.starts_with("HTTP/1.1 413"), "{surface}: {head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("\r\nconnection: close\r\n"),
            "{surface}: {head}"
        );
    }
    // Transmission's RPC asks for credentials before it reads a byte.
    let json = [("Content-Type", "application/json".to_owned())];
    let head = declared_upload(&srv, "/transmission/rpc", &json, 1 << 20).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
}

/// Sends a POST's head declaring `len` body bytes and no body; returns the answer's head.
async fn declared_upload(
    srv: &Server,
    path: &str,
    headers: &[(&str, String)],
    len: usize,
) -> String {
    let addr = srv.base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut req = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {len}\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await;
        match read.expect("an answer before the body") {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Item 8: a client that never finishes its headers is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_disconnected() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("HEADER_TIMEOUT", "1")).await;
    let addr = srv.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was closed");
    assert!(started.elapsed() >= Duration::from_millis(800));
    // The server still serves others.
    let (s, _) = srv.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

/// Item 2: without ALLOW_LOCAL_TRACKERS a tracker on a local address is contacted only at
/// `/announce`; another path is refused before any connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_trackers_follow_the_ssrf_rule() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal = listener.local_addr().unwrap();
    let contacted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = contacted.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("ALLOW_LOCAL_TRACKERS", "false"))
            .await;
    let admin = srv.user("admin").await;
    let data = tempfile::tempdir().unwrap();
    write_random(&data.path().join("t.bin"), 20_000, 9);
    let opts = engine::create::CreateOptions {
        trackers: vec![vec![format!("http://{internal}/admin?x=1")]],
        ..Default::default()
    };
    let torrent =
        engine::create::create_torrent(&data.path().join("t.bin"), &opts, &|_| {}).unwrap();
    let ih = engine::metainfo::Metainfo::from_bytes(&torrent)
        .unwrap()
        .info_hash
        .to_hex();
    let (s, body) = srv.upload(&admin, &torrent, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let t = srv
        .wait_torrent(&admin, &ih, 30, |t: &Value| {
            t["trackers"][0]["lastResult"].is_object()
        })
        .await;
    let result = &t["trackers"][0]["lastResult"];
    assert_eq!(result["ok"], false, "{t}");
    assert!(result["error"].as_str().unwrap().contains("refused"), "{t}");
    assert_eq!(contacted.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Item 7: quotas on torrents and bytes per user; admins are exempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_limit_users_but_not_admins() {
    let srv = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("MAX_TORRENTS_PER_USER", "2")
            .env("MAX_DISK_PER_USER", "150000"),
    )
    .await;
    let admin = srv.user("admin").await;
    let bob = srv.user("bob").await;
    // dummy torrents are 100 000 bytes each.
    let (t1, _) = dummy_torrent(1);
    let (t2, _) = dummy_torrent(2);
    assert_eq!(srv.upload(&bob, &t1, &[]).await.0, StatusCode::CREATED);
    let (s, body) = srv.upload(&bob, &t2, &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "over the byte quota: {body}");
    assert!(
        body["message"].as_str().unwrap().contains("quota"),
        "{body}"
    );
    let magnet = |n: u8| json!({ "magnetURI": format!("magnet:?xt=urn:btih:{}", format!("{n:02x}").repeat(20)) });
    let (s, body) = srv.post("/api/torrents", &bob, magnet(1)).await;
    assert_eq!(s, StatusCode::CREATED, "a magnet has no size yet: {body}");
    let (s, body) = srv.post("/api/torrents", &bob, magnet(2)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "over the torrent count: {body}");
    for (i, t) in [t2, dummy_torrent(3).0, dummy_torrent(4).0]
        .iter()
        .enumerate()
    {
        let (s, body) = srv.upload(&admin, t, &[]).await;
        assert_eq!(s, StatusCode::CREATED, "admin #{i}: {body}");
    }
}
