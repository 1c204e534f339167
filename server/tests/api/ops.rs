//! Statistics with history, health, metrics, the OpenAPI document, `serve --help`, the
//! config file, and the dashboard still being served.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::both_backends;
use crate::support::*;

both_backends!(statistics_are_scoped_and_sampled);

async fn statistics_are_scoped_and_sampled(backend: Backend) {
    let srv = Server::start_with(Options::new(backend).env("STATS_INTERVAL", "1")).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let data = srv.downloads().join("s/x.bin");
    write_random(&data, 200_000, 5);
    let (t, ih) = make_torrent(&data, Some(16384));
    assert_eq!(
        srv.upload(&admin, &t, &[("savePath", "s")]).await.0,
        StatusCode::CREATED
    );
    srv.wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;
    assert_eq!(
        srv.upload(&alice, &dummy_torrent(51).0, &[("paused", "true")])
            .await
            .0,
        StatusCode::CREATED
    );

    let (s, mine) = srv.get("/api/statistics", &alice).await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    assert_eq!(mine["torrents"], 1);
    let states = mine["byState"].as_object().unwrap();
    for k in [
        "fetchingMetadata",
        "checking",
        "downloading",
        "seeding",
        "paused",
        "error",
    ] {
        assert!(states.contains_key(k), "{k} missing from {mine}");
    }
    assert_eq!(mine["byState"]["seeding"], 0);
    let (_, all) = srv.get("/api/statistics", &admin).await;
    assert_eq!(all["torrents"], 2);
    assert_eq!(all["byState"]["seeding"], 1);

    // The sampler records history for each user and for the whole server.
    let mut waited = 0;
    let (mine, all) = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        waited += 1;
        let (_, mine) = srv.get("/api/statistics", &alice).await;
        let (_, all) = srv.get("/api/statistics", &admin).await;
        let ready = |v: &Value| v["history"].as_array().is_some_and(|h| h.len() >= 2);
        if ready(&mine) && ready(&all) {
            break (mine, all);
        }
        assert!(waited < 30, "no history after 15 s: {mine} {all}");
    };
    let last = |v: &Value| v["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last(&mine)["torrents"], 1);
    assert_eq!(last(&all)["torrents"], 2);
    let ats: Vec<i64> = all["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["at"].as_i64().unwrap())
        .collect();
    assert!(
        ats.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {ats:?}"
    );
    let (s, _) = srv.get("/api/statistics?range=nope", &admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_openapi() {
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("METRICS_TOKEN", "scrape-me-please"))
            .await;
    // Without login: only whether each part works, no detail (issue 11).
    let (s, h) = srv.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(h["status"], "ok");
    for part in ["database", "engine", "peerListener"] {
        assert_eq!(
            h[part],
            serde_json::json!({ "ok": true, "detail": "ok" }),
            "{h}"
        );
    }

    let admin = srv.user("admin").await;
    let (s, h) = srv
        .call(Method::GET, "/api/health", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{h}");
    assert_eq!(
        h["database"],
        serde_json::json!({ "ok": true, "detail": "sqlite" })
    );
    assert_eq!(h["engine"]["ok"], true);
    assert_eq!(h["peerListener"]["ok"], true);
    assert!(h["peerListener"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let user = srv.user("bob").await;
    let data = srv.downloads().join("m.bin");
    write_random(&data, 50_000, 3);
    let (t, ih) = make_torrent(&data, Some(16384));
    srv.upload(&admin, &t, &[]).await;
    srv.wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;

    let scrape = |token: &str| {
        let r = srv.req(Method::GET, "/metrics", Some(token));
        async move {
            let res = r.send().await.unwrap();
            let status = res.status();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, ct, res.text().await.unwrap())
        }
    };
    let (s, ct, text) = scrape(&admin).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.unwrap().starts_with("text/plain; version=0.0.4"));
    for needle in [
        "# TYPE torrentedge_download_rate_bytes gauge",
        "torrentedge_torrents{state=\"seeding\"} 1",
        "torrentedge_torrents{state=\"paused\"} 0",
        "torrentedge_events_dropped_total 0",
        "torrentedge_peers 0",
        "torrentedge_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 2",
        "torrentedge_http_requests_total{method=\"POST\",route=\"/api/auth/login\",status=\"200\"} 2",
        "torrentedge_uploaded_bytes_total 0",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // Every sample line is `name{labels} value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "bad sample line {line}");
    }
    assert_eq!(scrape("scrape-me-please").await.0, StatusCode::OK);
    assert_eq!(scrape(&user).await.0, StatusCode::FORBIDDEN);
    assert_eq!(scrape("wrong").await.0, StatusCode::UNAUTHORIZED);

    let (s, doc) = srv.get("/api/openapi.json", &user).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/torrents",
        "/api/torrents/{infoHash}",
        "/api/events",
        "/metrics",
        "/api/health",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} undocumented");
    }
    assert_eq!(
        doc["paths"]["/api/health"]["get"]["security"],
        serde_json::json!([])
    );

    // The dashboard is still served.
    let page = srv.http.get(srv.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("TorrentEdge"));
    assert_eq!(
        srv.http
            .get(srv.url("/style.css"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        srv.http
            .get(srv.url("/no-such-page"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn serve_help_documents_every_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "PORT",
        "DATABASE_URL",
        "JWT_SECRET",
        "DOWNLOAD_PATH",
        "MAX_CONCURRENT_TORRENTS",
        "MAX_PEER_CONNECTIONS",
        "UPLOAD_LIMIT",
        "DHT",
        "DHT_PORT",
        "DHT_BOOTSTRAP",
        "DOWNLOAD_LIMIT",
        "ALT_UPLOAD_LIMIT",
        "ALT_DOWNLOAD_LIMIT",
        "ALT_SCHEDULE",
        "PEER_PORT",
        "DATA_DIR",
        "TORRENTEDGE_CONFIG",
        "ALLOW_REGISTRATION",
        "LOGIN_RATE_LIMIT",
        "TOKEN_TTL",
        "TRUSTED_PROXIES",
        "REGISTER_RATE_LIMIT",
        "ALLOW_LOCAL_TRACKERS",
        "MAX_HTTP_CONNECTIONS",
        "HEADER_TIMEOUT",
        "REQUEST_TIMEOUT",
        "MAX_TORRENTS_PER_USER",
        "MAX_DISK_PER_USER",
    ] {
        let shown =
            help.contains(&format!("env: {var}=")) || help.contains(&format!("env: {var}]"));
        assert!(shown, "{var} not in --help:\n{help}");
    }
    assert!(
        help.contains("PATCH /api/settings"),
        "the help says where limits change at run time"
    );
    assert!(!help.contains(JWT_SECRET));
    assert!(help.contains("--trusted-proxies <IPS>"), "{help}");
    assert!(help.contains("--no-dht"), "{help}");
    assert!(help.contains("router.bittorrent.com:6881"), "{help}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_is_read_and_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let downloads = dir.path().join("elsewhere");
    let file = dir.path().join("te.toml");
    std::fs::write(
        &file,
        format!(
            "download_path = {:?}\nmax_torrent_size = 1000\nallow_registration = false\n",
            downloads.display().to_string()
        ),
    )
    .unwrap();
    let srv = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("TORRENTEDGE_CONFIG", file.to_str().unwrap())
            .env("ALLOW_REGISTRATION", "true"),
    )
    .await;
    let tok = srv.user("admin").await;
    assert_eq!(
        srv.register("second").await.0,
        StatusCode::CREATED,
        "the environment overrides the file"
    );
    let (s, _) = srv.upload(&tok, &vec![b'd'; 2000], &[]).await;
    assert_eq!(
        s,
        StatusCode::PAYLOAD_TOO_LARGE,
        "max_torrent_size from the file"
    );
    let (t, _) = dummy_torrent(61);
    assert!(t.len() <= 1000, "the dummy torrent fits the limit");
    let (s, body) = srv.upload(&tok, &t, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let root = downloads.canonicalize().unwrap();
    assert!(
        body["savePath"]
            .as_str()
            .unwrap()
            .starts_with(&*root.to_string_lossy()),
        "download_path from the file: {body}"
    );
}
