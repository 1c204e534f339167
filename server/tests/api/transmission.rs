//! Transmission's RPC at `/transmission/rpc`: Basic auth and the session-id handshake as
//! Transmission answers them, both protocols (legacy and JSON-RPC 2.0), Debian's
//! `transmission-remote` and the PyPI `transmission-rpc` client against real downloads.

use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::lt::{free_port, LtPeer, SeedData};
use crate::qbittorrent::{python, seed_once_added};
use crate::support::*;

pub(crate) fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

/// One RPC call with the handshake done; returns the HTTP status and body.
pub(crate) async fn rpc(srv: &Server, user: &str, body: Value) -> (StatusCode, Value) {
    let url = srv.url("/transmission/rpc");
    let first = srv
        .http
        .post(&url)
        .header("Authorization", basic(user, PASSWORD))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CONFLICT);
    let sid = first.headers()["x-transmission-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let res = srv
        .http
        .post(&url)
        .header("Authorization", basic(user, PASSWORD))
        .header("X-Transmission-Session-Id", sid)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmission_handshake_auth_and_protocols() {
    let srv = Server::start(Backend::Sqlite).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let url = srv.url("/transmission/rpc");
    let body = json!({ "method": "session-get", "tag": 7 });

    // No or wrong credentials: 401 with a Basic challenge, before any session id.
    for auth in [
        None,
        Some(basic("alice", "wrong password")),
        Some("Bearer x".to_owned()),
    ] {
        let mut r = srv.http.post(&url).json(&body);
        if let Some(a) = &auth {
            r = r.header("Authorization", a);
        }
        let res = r.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            res.headers()["www-authenticate"],
            "Basic realm=\"Transmission\""
        );
    }
    // Right credentials without the id, or a stale one: 409 and the id.
    let res = srv
        .http
        .post(&url)
        .header("Authorization", basic("alice", PASSWORD))
        .header("X-Transmission-Session-Id", "stale")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.headers().contains_key("x-transmission-session-id"));

    // Legacy protocol: result, arguments, tag.
    let (s, r) = rpc(&srv, "alice", body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (r["result"].clone(), r["tag"].clone()),
        (json!("success"), json!(7))
    );
    assert_eq!(r["arguments"]["rpc-version"], 17);
    assert_eq!(
        std::path::Path::new(r["arguments"]["download-dir"].as_str().unwrap()),
        srv.user_dir(&alice).await
    );

    // Torrents: each user sees their own; ids are numbers.
    let (t, ih) = dummy_torrent(31);
    let (_, a) = srv.upload(&alice, &t, &[("tags", "hd")]).await;
    let (bt, _) = dummy_torrent(32);
    let (_, b) = srv.upload(&bob, &bt, &[]).await;
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-get", "arguments": { "fields": ["id", "hashString", "labels", "status", "percentDone"] } })).await;
    let ts = r["arguments"]["torrents"].as_array().unwrap().clone();
    assert_eq!(ts.len(), 1, "{r}");
    assert_eq!(
        (
            ts[0]["id"].clone(),
            ts[0]["hashString"].clone(),
            ts[0]["labels"].clone()
        ),
        (a["id"].clone(), json!(ih), json!(["hd"]))
    );
    assert!(
        ts[0]["status"].is_i64() && ts[0]["percentDone"].is_f64(),
        "{r}"
    );
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "method": "torrent-get", "arguments": { "ids": [b["id"]], "fields": ["id"] } }),
    )
    .await;
    assert_eq!(
        r["arguments"]["torrents"],
        json!([]),
        "bob's id is not alice's"
    );
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-remove", "arguments": { "ids": [b["id"]], "delete-local-data": true } })).await;
    assert_eq!(r["result"], "success");
    let (s, _) = srv
        .get(
            &format!("/api/torrents/{}", b["infoHash"].as_str().unwrap()),
            &bob,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "bob's torrent is untouched");

    // JSON-RPC 2.0 with snake_case names.
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "jsonrpc": "2.0", "id": 3, "method": "torrent_get",
        "params": { "ids": [ih], "fields": ["hash_string", "percent_done", "download_dir"] } }),
    )
    .await;
    assert_eq!(r["id"], 3);
    let t0 = &r["result"]["torrents"][0];
    assert_eq!(t0["hash_string"], ih.as_str());
    assert!(
        t0["download_dir"].is_string() && t0.get("hashString").is_none(),
        "{r}"
    );
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "jsonrpc": "2.0", "id": 4, "method": "torrent_set",
        "params": { "ids": [ih], "labels": ["a", "b"] } }),
    )
    .await;
    assert_eq!(r["result"], json!({}), "{r}");
    let (_, d) = srv.get(&format!("/api/torrents/{ih}"), &alice).await;
    assert_eq!(d["tags"], json!(["a", "b"]));
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "jsonrpc": "2.0", "id": 5, "method": "no_such_method" }),
    )
    .await;
    assert_eq!(r["error"]["code"], -32601);
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "jsonrpc": "2.0", "id": 6, "method": "torrent_verify", "params": { "ids": [ih] } }),
    )
    .await;
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not support"),
        "{r}"
    );
    let (s, _) = rpc(
        &srv,
        "alice",
        json!({ "jsonrpc": "2.0", "method": "session_stats" }),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "a notification has no answer");
    // A torrent's limits, in kB/s of 1000 bytes.
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-set", "arguments": { "ids": [ih], "downloadLimited": true, "downloadLimit": 100 } })).await;
    assert_eq!(r["result"], "success", "{r}");
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-get", "arguments": { "ids": [ih], "fields": ["downloadLimit", "downloadLimited", "uploadLimited"] } })).await;
    let t = &r["arguments"]["torrents"][0];
    assert_eq!(
        (
            t["downloadLimit"].clone(),
            t["downloadLimited"].clone(),
            t["uploadLimited"].clone()
        ),
        (json!(100), json!(true), json!(false)),
        "{r}"
    );
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "method": "torrent-set", "arguments": { "ids": [ih], "downloadLimited": false } }),
    )
    .await;
    assert_eq!(r["result"], "success", "{r}");
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-get", "arguments": { "ids": [ih], "fields": ["downloadLimited"] } })).await;
    assert_eq!(
        r["arguments"]["torrents"][0]["downloadLimited"], false,
        "{r}"
    );
    // Seeding goals: the torrent's own ratio, no idle limit; sequential order.
    let (_, r) = rpc(&srv, "alice", json!({ "method": "torrent-set", "arguments": { "ids": [ih],
        "seedRatioMode": 1, "seedRatioLimit": 2.5, "seedIdleMode": 2, "sequentialDownload": true } })).await;
    assert_eq!(r["result"], "success", "{r}");
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "method": "torrent-get", "arguments": { "ids": [ih],
        "fields": ["seedRatioMode", "seedRatioLimit", "seedIdleMode", "sequentialDownload"] } }),
    )
    .await;
    let t = &r["arguments"]["torrents"][0];
    assert_eq!(
        [
            &t["seedRatioMode"],
            &t["seedRatioLimit"],
            &t["seedIdleMode"],
            &t["sequentialDownload"]
        ],
        [&json!(1), &json!(2.5), &json!(2), &json!(true)],
        "{r}"
    );
    let (_, r) = rpc(
        &srv,
        "alice",
        json!({ "method": "torrent-set", "arguments": { "ids": [ih], "seedRatioMode": 7 } }),
    )
    .await;
    assert_ne!(r["result"], "success", "{r}");
    // Server-wide limits and the alternative speed: admins only.
    let (_, r) = rpc(&srv, "alice", json!({ "method": "session-set", "arguments": { "speed-limit-down-enabled": true, "speed-limit-down": 50 } })).await;
    assert!(r["result"].as_str().unwrap().contains("admin"), "{r}");
    let (_, r) = rpc(
        &srv,
        "admin",
        json!({ "method": "session-set", "arguments": {
        "speed-limit-down-enabled": true, "speed-limit-down": 50, "alt-speed-up": 20,
        "alt-speed-time-enabled": true, "alt-speed-time-begin": 60, "alt-speed-time-end": 120,
        "alt-speed-time-day": 62, "alt-speed-enabled": true } }),
    )
    .await;
    assert_eq!(r["result"], "success", "{r}");
    let (_, r) = rpc(&srv, "alice", json!({ "method": "session-get" })).await;
    let a = &r["arguments"];
    assert_eq!(
        (
            a["speed-limit-down-enabled"].clone(),
            a["speed-limit-down"].clone(),
            a["alt-speed-up"].clone(),
            a["alt-speed-enabled"].clone()
        ),
        (json!(true), json!(50), json!(20), json!(true)),
        "{r}"
    );
    assert_eq!(
        (
            a["alt-speed-time-begin"].clone(),
            a["alt-speed-time-end"].clone(),
            a["alt-speed-time-day"].clone()
        ),
        (json!(60), json!(120), json!(62)),
        "weekdays, 01:00 to 02:00: {r}"
    );
    let (_, settings) = srv.get("/api/settings", &alice).await;
    assert_eq!(settings["downloadLimit"], 50_000, "{settings}");
    assert_eq!(
        settings["altSchedule"]["days"],
        json!(["mon", "tue", "wed", "thu", "fri"]),
        "{settings}"
    );
    let (_, r) = rpc(&srv, "alice", json!({ "method": "port-test" })).await;
    assert_ne!(r["result"], "success");
}

/// `transmission-remote` with alice's credentials against the server; its output.
fn remote(port: u16, args: &[&str]) -> (bool, String) {
    let o = Command::new("transmission-remote")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--auth", &format!("alice:{PASSWORD}")])
        .args(args)
        .output()
        .expect("run transmission-remote (Debian package transmission-cli)");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn ok(port: u16, args: &[&str]) -> String {
    let (success, out) = remote(port, args);
    assert!(
        success && !out.contains("Error"),
        "transmission-remote {args:?}:\n{out}"
    );
    out
}

/// The `-l` row of the torrent named `name`: its columns split on 2+ spaces.
fn row(list: &str, name: &str) -> Vec<String> {
    let line = list
        .lines()
        .find(|l| l.trim_end().ends_with(name))
        .unwrap_or_else(|| panic!("{name} not in:\n{list}"));
    line.split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transmission_remote_drives_torrentedge() {
    const SIZE: usize = 2 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 777), 32768);
    let ih = &seed.ih;
    let peer_port = free_port();
    let mut opts = Options::new(Backend::Sqlite);
    opts.peer_port = peer_port;
    let srv = Server::start_with(opts).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let port: u16 = srv.base.rsplit(':').next().unwrap().parse().unwrap();
    let out = ok(port, &["-a", seed.torrent_path.to_str().unwrap()]);
    assert!(out.contains("success"), "{out}");
    let _seeder = LtPeer::seed(
        &seed.torrent_path,
        &seed.seed_dir,
        0,
        &format!("127.0.0.1:{peer_port}"),
    );
    let magnet = format!("magnet:?xt=urn:btih:{}&dn=waiting", "cd".repeat(20));
    assert!(ok(port, &["-a", &magnet]).contains("success"));

    // -l until the download is done: ID, Done, ..., Status, Name.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (id, cols) = loop {
        let list = ok(port, &["-l"]);
        let cols = row(&list, "payload.bin");
        if cols[1] == "100%"
            && (cols.contains(&"Seeding".to_owned()) || cols.contains(&"Idle".to_owned()))
        {
            assert!(
                row(&list, "waiting").len() >= 3,
                "the magnet is listed:\n{list}"
            );
            assert!(list.lines().last().unwrap().starts_with("Sum:"), "{list}");
            break (cols[0].trim_end_matches('*').to_owned(), cols);
        }
        assert!(Instant::now() < deadline, "not complete:\n{list}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(id.parse::<u32>().is_ok(), "{cols:?}");

    let info = ok(port, &["-t", &id, "-i"]);
    for want in [
        format!("Hash: {ih}"),
        "Name: payload.bin".into(),
        "Percent Done: 100%".into(),
    ] {
        assert!(info.contains(&want), "-i lacks {want:?}:\n{info}");
    }
    let files = ok(port, &["-t", &id, "-if"]);
    assert!(
        files.contains("payload.bin") && files.contains("100%"),
        "{files}"
    );
    ok(port, &["-t", &id, "-it"]);
    ok(port, &["-t", &id, "-ip"]);

    ok(port, &["-t", &id, "-S"]);
    assert!(row(&ok(port, &["-l"]), "payload.bin").contains(&"Stopped".to_owned()));
    ok(port, &["-t", &id, "-s"]);
    assert!(!row(&ok(port, &["-l"]), "payload.bin").contains(&"Stopped".to_owned()));

    ok(port, &["-t", &id, "-L", "sonarr,tv"]);
    assert!(
        ok(port, &["-t", &id, "-i"]).contains("sonarr"),
        "labels are shown"
    );
    ok(port, &["-t", &id, "-d", "100"]);
    let info = ok(port, &["-t", &id, "-i"]);
    assert!(
        info.contains("Download Limit: 100"),
        "a torrent's limit is shown:\n{info}"
    );

    ok(port, &["-t", &id, "-sr", "2.5"]);
    let info = ok(port, &["-t", &id, "-i"]);
    assert!(info.contains("Ratio Limit: 2.5"), "{info}");

    let file = srv.user_dir(&alice).await.join("payload.bin");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        std::fs::read(&seed.source).unwrap()
    );
    ok(port, &["-t", &id, "--remove-and-delete"]);
    assert!(!file.exists(), "removed with its data");
    assert!(!ok(port, &["-l"]).contains("payload.bin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sonarr_through_transmission_rpc() {
    const SIZE: usize = 2 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 4242), 32768);
    let peer_port = free_port();
    let mut opts = Options::new(Backend::Sqlite);
    opts.peer_port = peer_port;
    let srv = Server::start_with(opts).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let port = srv.base.rsplit(':').next().unwrap().to_owned();
    let args: Vec<String> = vec![
        port,
        "alice".into(),
        PASSWORD.into(),
        seed.torrent_path.display().to_string(),
        seed.ih.clone(),
        SIZE.to_string(),
    ];
    let script = tokio::task::spawn_blocking(move || python("sonarr_transmission.py", &args));
    let _seeder = seed_once_added(
        &srv,
        &alice,
        &seed.ih,
        &seed.torrent_path,
        &seed.seed_dir,
        peer_port,
    )
    .await;
    let out = script.await.unwrap();
    assert!(out.contains("OK"), "{out}\n{}", srv.logs());
    assert!(!srv.downloads().join("alice/tv/payload.bin").exists());
}
