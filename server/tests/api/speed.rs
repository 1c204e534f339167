//! Rate limits over the REST API: the server-wide speed settings (`/api/settings`) and a
//! torrent's own limits (`PATCH /api/torrents/{infoHash}`), both kept across a restart.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::support::*;

both_backends!(speed_settings_and_torrent_limits_survive_a_restart);

async fn speed_settings_and_torrent_limits_survive_a_restart(backend: Backend) {
    let srv = Server::start_with(
        Options::new(backend)
            .env("DOWNLOAD_LIMIT", "4194304")
            .env("ALT_UPLOAD_LIMIT", "65536")
            .env("ALT_SCHEDULE", "sat,sun 00:00-00:00"),
    )
    .await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;

    // The configuration gives the starting values; everyone may read them.
    let (s, got) = srv.get("/api/settings", &alice).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["downloadLimit"], 4194304, "{got}");
    assert_eq!(got["uploadLimit"], 0, "{got}");
    assert_eq!(got["altUploadLimit"], 65536, "{got}");
    assert_eq!(got["altSchedule"]["enabled"], true, "{got}");
    assert_eq!(got["altSchedule"]["days"], json!(["sat", "sun"]), "{got}");

    // Only admins change them; bad values change nothing.
    let (s, _) = patch(&srv, &alice, json!({ "uploadLimit": 1000 })).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let bad_schedule = json!({ "uploadLimit": 5, "altSchedule": { "enabled": true, "from": "25:00", "to": "06:00", "days": ["mon"] } });
    let (s, body) = patch(&srv, &admin, bad_schedule).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = patch(&srv, &admin, json!({ "uploadLimits": 5 })).await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {body}"
    );
    assert_eq!(srv.get("/api/settings", &admin).await.1["uploadLimit"], 0);

    let (s, got) = patch(
        &srv,
        &admin,
        json!({
            "uploadLimit": 1048576,
            "altDownloadLimit": 131072,
            "altSchedule": { "enabled": true, "from": "22:00", "to": "06:30", "days": ["fri", "mon"] },
            "altEnabled": true
        }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["uploadLimit"], 1048576, "{got}");
    assert_eq!(got["downloadLimit"], 4194304, "fields not sent stay: {got}");
    assert_eq!(got["altDownloadLimit"], 131072, "{got}");
    assert_eq!(got["altSchedule"]["days"], json!(["mon", "fri"]), "{got}");
    assert_eq!(
        (got["altEnabled"].clone(), got["altManual"].clone()),
        (json!(true), json!(true)),
        "{got}"
    );

    // The engine got the alternative pair (the toggle is on).
    let metrics = srv
        .req(Method::GET, "/metrics", Some(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "torrentedge_download_limit_bytes 131072",
        "torrentedge_upload_limit_bytes 65536",
        "torrentedge_alt_speed_enabled 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }

    // A torrent's own limits.
    let (torrent, ih) = dummy_torrent(41);
    let (s, body) = srv.upload(&alice, &torrent, &[("paused", "true")]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["downloadLimit"].clone(), body["uploadLimit"].clone()),
        (json!(0), json!(0)),
        "{body}"
    );
    let path = format!("/api/torrents/{ih}");
    let (s, body) = srv
        .call(
            Method::PATCH,
            &path,
            Some(&alice),
            Some(json!({ "downloadLimit": 512000, "uploadLimit": 256000 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        (body["downloadLimit"].clone(), body["uploadLimit"].clone()),
        (json!(512000), json!(256000)),
        "{body}"
    );
    let (s, body) = srv
        .call(
            Method::PATCH,
            &path,
            Some(&alice),
            Some(json!({ "uploadLimit": 0 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        (body["downloadLimit"].clone(), body["uploadLimit"].clone()),
        (json!(512000), json!(0)),
        "one field, one change: {body}"
    );
    let (s, _) = srv
        .call(
            Method::PATCH,
            &path,
            Some(&alice),
            Some(json!({ "downloadLimit": -1 })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let bob = srv.user("bob").await;
    let (s, _) = srv
        .call(
            Method::PATCH,
            &path,
            Some(&bob),
            Some(json!({ "downloadLimit": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "someone else's torrent");
    let (_, detail) = srv.get(&path, &alice).await;
    assert_eq!(detail["downloadLimit"], 512000, "{detail}");

    // The server-rendered pages show them: the torrent's own, the server's, and the toggle.
    let page = |path: &str, token: &str| {
        let r = srv
            .http
            .get(srv.url(path))
            .header("Cookie", format!("te_session={token}"));
        async move { r.send().await.unwrap().text().await.unwrap() }
    };
    let html = page(&path.replace("/api", ""), &alice).await;
    assert!(
        html.contains("Limits: ↓ 500 KiB/s, ↑ unlimited"),
        "no limits on the detail page:\n{html}"
    );
    assert!(
        html.contains("id=\"limit-down\""),
        "no limit field:\n{html}"
    );
    let html = page("/settings", &admin).await;
    assert!(
        html.contains(
            "Global: ↓ 4.00 MiB/s, ↑ 1.00 MiB/s. Alternative: ↓ 128 KiB/s, ↑ 64.0 KiB/s."
        ),
        "no limits on the settings page:\n{html}"
    );
    assert!(
        html.contains("Alternative limits are on (set by hand"),
        "{html}"
    );
    // The top bar's toggle is drawn in the browser only (end2end/tests/speed.test.mjs).
    assert!(!html.contains("id=\"alt-speed\""), "{html}");
    assert!(
        !html.contains("<fieldset disabled"),
        "an admin may edit:\n{html}"
    );
    let html = page("/settings", &alice).await;
    assert!(
        html.contains("<fieldset disabled"),
        "others only read:\n{html}"
    );

    // Both come back after a restart.
    let srv = srv.restart().await;
    let (_, got) = srv.get("/api/settings", &admin).await;
    assert_eq!(got["uploadLimit"], 1048576, "{got}");
    assert_eq!(got["downloadLimit"], 4194304, "{got}");
    assert_eq!(got["altDownloadLimit"], 131072, "{got}");
    assert_eq!(got["altSchedule"]["from"], "22:00", "{got}");
    assert_eq!(got["altSchedule"]["to"], "06:30", "{got}");
    assert_eq!(
        (got["altEnabled"].clone(), got["altManual"].clone()),
        (json!(true), json!(true)),
        "the toggle too: {got}"
    );
    let detail = srv
        .wait_torrent(&alice, &ih, 30, |t| t["downloadLimit"] == 512000)
        .await;
    assert_eq!(detail["uploadLimit"], 0, "{detail}");

    // The toggle off holds whatever the schedule says, until its next edge.
    let (s, got) = srv
        .call(
            Method::PATCH,
            "/api/settings",
            Some(&admin),
            Some(json!({ "altEnabled": false })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(
        (got["altEnabled"].clone(), got["altManual"].clone()),
        (json!(false), json!(true)),
        "{got}"
    );
}

async fn patch(
    srv: &Server,
    token: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    srv.call(Method::PATCH, "/api/settings", Some(token), Some(body))
        .await
}

/// `DOWNLOAD_LIMIT` holds against a libtorrent seeder, and lifting it through the API lets
/// the rest arrive at full speed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_limit_from_the_environment_is_enforced() {
    use crate::lt::{free_port, LtPeer, SeedData};
    use std::time::{Duration, Instant};

    let seed = SeedData::new("payload.bin", &random_bytes(12 << 20, 77), 262144);
    let ih = &seed.ih;
    let torrent = std::fs::read(&seed.torrent_path).unwrap();

    let port = free_port();
    let mut opts = Options::new(Backend::Sqlite).env("DOWNLOAD_LIMIT", "1048576");
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    let admin = srv.user("admin").await;
    let _seeder = LtPeer::seed(
        &seed.torrent_path,
        &seed.seed_dir,
        0,
        &format!("127.0.0.1:{port}"),
    );
    let (s, body) = srv.upload(&admin, &torrent, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    let t = srv
        .wait_torrent(&admin, &seed.ih, 60, |t| {
            t["downloaded"].as_u64().unwrap() >= 512 << 10
        })
        .await;
    let (d0, t0) = (t["downloaded"].as_u64().unwrap(), Instant::now());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, t) = srv.get(&format!("/api/torrents/{ih}"), &admin).await;
    let rate = (t["downloaded"].as_u64().unwrap() - d0) as f64 / t0.elapsed().as_secs_f64();
    assert!(
        (rate / 1048576.0 - 1.0).abs() < 0.15,
        "{rate:.0} B/s under a 1 MiB/s limit"
    );

    let (s, got) = patch(&srv, &admin, json!({ "downloadLimit": 0 })).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    let lifted = Instant::now();
    srv.wait_torrent(&admin, &seed.ih, 30, |t| t["state"] == "seeding")
        .await;
    assert!(
        lifted.elapsed() < Duration::from_secs(4),
        "the rest (over 6 MiB) took {:?} without a limit",
        lifted.elapsed()
    );
}
