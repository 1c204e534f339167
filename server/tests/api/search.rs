//! Search across TorrentEdge servers: two servers federated on loopback (B finds what A
//! marked public by a word of its name, with odd case and accents, and downloads it
//! byte-exact from A), private torrents never listed, a server that never answers reported
//! as timed out without delaying the answer, federation tokens checked, and catalogs that
//! are huge, malformed or hostile reported per server.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::both_backends;
use crate::support::*;

const TOKEN_A: &str = "federation-token-of-server-a";

/// Creates a torrent of `rel` (in the admin's downloads folder) on `srv`; waits until it
/// seeds; returns its info-hash.
async fn create_seeding(srv: &Server, token: &str, rel: &str) -> String {
    let res = srv
        .req(Method::POST, "/api/torrents/create", Some(token))
        .json(&json!({ "path": rel, "pieceLength": 65536 }))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.bytes().await.unwrap();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let ih = engine::metainfo::Metainfo::from_bytes(&bytes)
        .unwrap()
        .info_hash
        .to_hex();
    srv.wait_torrent(token, &ih, 60, |t| t["state"] == "seeding")
        .await;
    ih
}

async fn set_public(srv: &Server, token: &str, ih: &str, on: bool) -> Value {
    let (s, t) = srv
        .call(
            Method::PATCH,
            &format!("/api/torrents/{ih}"),
            Some(token),
            Some(json!({ "public": on })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["public"], on, "{t}");
    t
}

/// A loopback "server" that accepts connections and never answers; returns its URL.
async fn silent_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    url
}

/// A loopback HTTP server answering every request with `head` then `body` (then closing).
async fn canned_server(head: String, body: Vec<u8>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let (head, body) = (head.clone(), body.clone());
            tokio::spawn(async move {
                let mut req = Vec::new();
                let mut buf = [0u8; 4096];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    url
}

fn json_response(body: &[u8]) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
}

/// Reads `/api/search/stream?q=` to its end: each snapshot with when it arrived.
async fn search_stream(srv: &Server, token: &str, q: &str) -> Vec<(Duration, Value)> {
    let started = Instant::now();
    let mut res = srv
        .http
        .get(srv.url(&format!("/api/search/stream?q={q}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let (mut buf, mut out) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(30), res.chunk())
        .await
        .expect("the stream ends")
        .unwrap()
    {
        buf.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            for data in frame.lines().filter_map(|l| l.strip_prefix("data: ")) {
                out.push((started.elapsed(), serde_json::from_str(data).unwrap()));
            }
        }
    }
    assert!(!out.is_empty(), "no snapshot");
    out
}

fn status_of<'a>(answer: &'a Value, server: &str) -> &'a Value {
    answer["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server"] == server)
        .unwrap_or_else(|| panic!("no status for {server}: {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_torrent_on_a_is_found_on_b_and_downloads_from_a() {
    let a =
        Server::start_with(Options::new(Backend::Sqlite).env("FEDERATION_TOKEN", TOKEN_A)).await;
    let alice = a.user("alice").await;
    let public_name = "Café Ñandú Report 2024.bin";
    write_random(&a.downloads().join(public_name), 700_001, 71);
    write_random(&a.downloads().join("Café secret report.bin"), 50_000, 72);
    let public_ih = create_seeding(&a, &alice, public_name).await;
    let secret_ih = create_seeding(&a, &alice, "Café secret report.bin").await;
    set_public(&a, &alice, &public_ih, true).await;
    // Only the owner can publish.
    let mallory = a.user("mallory").await;
    let (s, _) = a
        .call(
            Method::PATCH,
            &format!("/api/torrents/{secret_ih}"),
            Some(&mallory),
            Some(json!({ "public": true })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A's catalog: the token is required, and only the public torrent is there.
    let catalog = |token: Option<&str>| {
        let r = a.http.get(a.url("/federation/catalog?q=REPORT"));
        match token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    };
    assert_eq!(send(catalog(None)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(catalog(Some("wrong"))).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(catalog(Some(alice.as_str()))).await.0,
        StatusCode::UNAUTHORIZED,
        "a login token is not the federation token"
    );
    let (s, page) = send(catalog(Some(TOKEN_A))).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["infoHash"], public_ih.as_str());
    assert_eq!(items[0]["complete"], true);
    assert!(
        items[0]["webSeed"]
            .as_str()
            .unwrap()
            .contains(&format!("/ws/{public_ih}/")),
        "{page}"
    );
    let (_, all) = send(
        a.http
            .get(a.url("/federation/catalog"))
            .bearer_auth(TOKEN_A),
    )
    .await;
    assert_eq!(
        all["total"], 1,
        "no query lists every public torrent, and only those: {all}"
    );
    assert!(!all.to_string().contains(&secret_ih));

    let slow = silent_server().await;
    let timeout_ms = 1500;
    let b = Server::start_with(
        Options::new(Backend::Sqlite)
            .env(
                "FEDERATION_PEERS",
                &format!("{}|{TOKEN_A}, {slow}|whatever", a.base),
            )
            .env("FEDERATION_TIMEOUT_MS", &timeout_ms.to_string()),
    )
    .await;
    let bob = b.user("bob").await;
    // B has no FEDERATION_TOKEN: no catalog at all.
    let (s, _) = send(b.http.get(b.url("/federation/catalog")).bearer_auth("x")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = b.get("/api/search?q=", &bob).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an empty query");
    let (s, _) = send(b.http.get(b.url("/api/search?q=report"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "searching needs a login");

    let started = Instant::now();
    let (s, answer) = b
        .get("/api/search?q=rEpOrT%20NANDU%20cafe%CC%81", &bob)
        .await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert!(
        took < Duration::from_millis(timeout_ms + 1500),
        "the silent server delayed the answer: {took:?}"
    );
    assert_eq!(status_of(&answer, "this server")["status"], "ok");
    assert_eq!(status_of(&answer, &a.base)["status"], "ok", "{answer}");
    assert_eq!(status_of(&answer, &slow)["status"], "timeout", "{answer}");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{answer}");
    let r = &results[0];
    assert_eq!(r["infoHash"], public_ih.as_str());
    assert_eq!(r["name"], public_name);
    assert_eq!(r["holders"][0]["server"], a.base.as_str());
    assert!(
        r["holders"][0]["peer"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{r}"
    );

    // Live: a snapshot at once, A's result while the silent server is still asked, and the
    // stream ends with the silent one timed out and nothing pending.
    let started = Instant::now();
    let snapshots = search_stream(&b, &bob, "rEpOrT%20NANDU%20cafe%CC%81").await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(timeout_ms + 1500), "{took:?}");
    let first = &snapshots[0].1;
    assert_eq!(status_of(first, &slow)["status"], "pending", "{first}");
    assert_eq!(first["pending"], 2, "{first}");
    let (at, from_a) = snapshots
        .iter()
        .find(|(_, s)| status_of(s, &a.base)["status"] == "ok")
        .expect("A answered");
    assert_eq!(status_of(from_a, &slow)["status"], "pending", "{from_a}");
    assert_eq!(
        from_a["results"][0]["infoHash"],
        public_ih.as_str(),
        "{from_a}"
    );
    assert!(
        *at < Duration::from_millis(timeout_ms),
        "A's result waited for the silent server: {at:?}"
    );
    let (_, last) = snapshots.last().unwrap();
    assert_eq!(last["pending"], 0, "{last}");
    assert_eq!(status_of(last, &slow)["status"], "timeout", "{last}");
    assert_eq!(
        last["results"], answer["results"],
        "the stream ends where /api/search does"
    );
    let (s, _) = send(b.http.get(b.url("/api/search/stream?q=report"))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "searching needs a login");
    let (s, _) = send(
        b.http
            .get(b.url("/api/search/stream?q=%20"))
            .bearer_auth(&bob),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an empty query");

    // The private torrent matches "secret" but is never listed.
    let (_, none) = b.get("/api/search?q=secret", &bob).await;
    assert_eq!(none["results"], json!([]), "{none}");

    // Add it from its holders: it downloads from A, byte-exact.
    let h = &r["holders"][0];
    let (s, added) = b
        .post(
            "/api/search/add",
            &bob,
            json!({ "infoHash": public_ih, "name": r["name"], "peers": [h["peer"]],
                    "webSeeds": h.get("webSeed").map(|w| vec![w.clone()]).unwrap_or_default() }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    b.wait_torrent(&bob, &public_ih, 90, |t| t["state"] == "seeding")
        .await;
    let (want, got) = (
        std::fs::read(a.downloads().join(public_name)).unwrap(),
        std::fs::read(b.downloads().join(public_name)).unwrap(),
    );
    assert!(want == got, "the downloaded file differs");

    // Taken out of the catalog, it is no longer found.
    set_public(&a, &alice, &public_ih, false).await;
    let (_, gone) = b.get("/api/search?q=nandu", &bob).await;
    let from_a: Vec<&Value> = gone["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["holders"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["server"] == a.base.as_str())
        })
        .collect();
    assert!(from_a.is_empty(), "{gone}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_catalogs_are_reported_per_server() {
    let good_item = |ih: &str, name: &str| {
        json!({ "infoHash": ih, "name": name, "totalBytes": 5, "fileCount": 1,
                "files": [{ "path": name, "length": 5 }], "seeders": 1, "complete": true })
    };
    let page = |items: Vec<Value>| {
        serde_json::to_vec(&json!({ "server": { "peerPort": 1 }, "total": items.len(),
            "page": 1, "perPage": 200, "items": items }))
        .unwrap()
    };
    let garbage = b"{\"server\": [1, 2".to_vec();
    let malformed = canned_server(json_response(&garbage), garbage).await;
    // Declares 64 MiB.
    let declared_huge = canned_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 67108864\r\n\r\n"
            .into(),
        vec![b' '; 1024],
    )
    .await;
    // No length, 5 MiB of a JSON string that never ends.
    let mut endless = b"{\"items\": [\"".to_vec();
    endless.resize(5 << 20, b'a');
    let streamed_huge = canned_server(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".into(),
        endless,
    )
    .await;
    let refused = canned_server(
        "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
        Vec::new(),
    )
    .await;
    // Plausible entries among junk, and one that does not match the query.
    let mixed_body = page(vec![
        good_item(&"ab".repeat(20), "Hostile Match"),
        good_item("not-a-hash", "hostile bad hash"),
        good_item(&"cd".repeat(20), "unrelated spam"),
        json!({ "infoHash": "ef".repeat(20), "name": "hostile\u{0}nul" }),
    ]);
    let mixed = canned_server(json_response(&mixed_body), mixed_body).await;
    let too_many = page(
        (0..201)
            .map(|i| good_item(&format!("{i:040x}"), "hostile"))
            .collect(),
    );
    let crowded = canned_server(json_response(&too_many), too_many).await;
    let down = format!("http://127.0.0.1:{}", crate::lt::free_port());

    let peers: Vec<String> = [
        &malformed,
        &declared_huge,
        &streamed_huge,
        &refused,
        &mixed,
        &crowded,
        &down,
    ]
    .iter()
    .map(|u| format!("{u}|t"))
    .collect();
    let b = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("FEDERATION_PEERS", &peers.join(","))
            .env("FEDERATION_TIMEOUT_MS", "5000"),
    )
    .await;
    let bob = b.user("bob").await;
    let (s, answer) = b.get("/api/search?q=hostile", &bob).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    for (url, why) in [
        (&malformed, "not a catalog"),
        (&declared_huge, "over"),
        (&streamed_huge, "over"),
        (&refused, "401"),
        (&crowded, "entries"),
        (&down, "cannot reach"),
    ] {
        let st = status_of(&answer, url);
        assert_eq!(st["status"], "error", "{url}: {st}");
        assert!(st["message"].as_str().unwrap().contains(why), "{url}: {st}");
    }
    assert_eq!(status_of(&answer, &mixed)["status"], "ok");
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "only the plausible match: {answer}");
    assert_eq!(results[0]["name"], "Hostile Match");
    assert_eq!(
        results[0]["holders"][0]["peer"], "127.0.0.1:1",
        "its host, its peer port"
    );
    assert!(
        b.logs().lines().all(|l| !l.contains("panicked")),
        "{}",
        b.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalog_is_rate_limited_per_address() {
    let a = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("FEDERATION_TOKEN", TOKEN_A)
            .env("FEDERATION_RATE_LIMIT", "3"),
    )
    .await;
    for _ in 0..3 {
        let (s, _) = send(
            a.http
                .get(a.url("/federation/catalog"))
                .bearer_auth(TOKEN_A),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let res = a
        .http
        .get(a.url("/federation/catalog"))
        .bearer_auth(TOKEN_A)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    // Guessing tokens counts too.
    let (s, _) = send(
        a.http
            .get(a.url("/federation/catalog"))
            .bearer_auth("guess"),
    )
    .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
}

/// The public flag is stored: it survives a restart on every backend.
async fn the_public_flag_survives_a_restart(backend: Backend) {
    let a = Server::start_with(Options::new(backend).env("FEDERATION_TOKEN", TOKEN_A)).await;
    let alice = a.user("alice").await;
    write_random(&a.downloads().join("kept public.bin"), 40_000, 73);
    write_random(&a.downloads().join("kept private.bin"), 40_000, 74);
    let ih = create_seeding(&a, &alice, "kept public.bin").await;
    let private_ih = create_seeding(&a, &alice, "kept private.bin").await;
    set_public(&a, &alice, &ih, true).await;
    let (_, t) = a.get(&format!("/api/torrents/{private_ih}"), &alice).await;
    assert_eq!(t["public"], false, "private by default: {t}");
    let a = a.restart().await;
    let (_, t) = a.get(&format!("/api/torrents/{ih}"), &alice).await;
    assert_eq!(t["public"], true, "{t}");
    a.wait_torrent(&alice, &ih, 60, |t| t["state"] == "seeding")
        .await;
    let (s, page) = send(
        a.http
            .get(a.url("/federation/catalog?q=kept"))
            .bearer_auth(TOKEN_A),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["infoHash"], ih.as_str());
}

both_backends!(the_public_flag_survives_a_restart);
