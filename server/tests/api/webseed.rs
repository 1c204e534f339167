//! TorrentEdge as a BEP 19 web seed: a torrent created with `webSeed` carries this server's
//! `/ws/...` URL in its `url-list`, and real clients that cannot reach any peer (no tracker,
//! no DHT, and not told of TorrentEdge's peer port) download it byte-exact over HTTP alone:
//! aria2c and libtorrent, on a multi-file torrent (BEP 19's `name/path` URL rule).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::lt::free_port;
use crate::support::*;

fn write_album(dir: &Path) {
    write_random(&dir.join("01 intro.bin"), 300_001, 31);
    write_random(&dir.join("cd2/02-long.bin"), 1_200_000, 32);
    write_random(&dir.join("notes.txt"), 999, 33);
}

fn same_files(expected: &Path, got: &Path) {
    for rel in ["01 intro.bin", "cd2/02-long.bin", "notes.txt"] {
        let (a, b) = (
            std::fs::read(expected.join(rel)),
            std::fs::read(got.join(rel)),
        );
        assert!(b.is_ok(), "{} missing", got.join(rel).display());
        assert!(a.unwrap() == b.unwrap(), "{rel} differs");
    }
}

/// Runs a client to completion (it must exit 0 within `secs`).
fn run(mut cmd: Command, what: &str, secs: u64) {
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("start {what}: {e}"));
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{what} exited with {status}");
            return;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish in {secs} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_clients_download_over_http_from_our_web_seed_only() {
    let srv = Server::start(Backend::Sqlite).await;
    // The first user is the admin, whose folder is the downloads folder.
    let alice = srv.user("alice").await;
    let album = srv.downloads().join("album");
    write_album(&album);
    let res = srv
        .req(Method::POST, "/api/torrents/create", Some(&alice))
        .json(&json!({ "path": "album", "webSeed": true, "pieceLength": 65536 }))
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
    let meta = engine::metainfo::Metainfo::from_bytes(&bytes).unwrap();
    let ih = meta.info_hash.to_hex();
    assert_eq!(meta.web_seeds.len(), 1, "{:?}", meta.web_seeds);
    let url = &meta.web_seeds[0];
    assert!(
        url.starts_with(&format!("{}/ws/{ih}/", srv.base)) && url.ends_with('/'),
        "{url}"
    );
    srv.wait_torrent(&alice, &ih, 60, |t| t["state"] == "seeding")
        .await;
    // The .torrent the API gives later carries the web seed too.
    let later = srv
        .req(
            Method::GET,
            &format!("/api/torrents/{ih}/torrent"),
            Some(&alice),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        engine::metainfo::Metainfo::from_bytes(&later)
            .unwrap()
            .web_seeds,
        meta.web_seeds
    );

    let work = tempfile::tempdir().unwrap();
    let torrent = work.path().join("album.torrent");
    std::fs::write(&torrent, &bytes).unwrap();

    // aria2c: no tracker, DHT off, nobody to dial: the url-list is the only source.
    let out = work.path().join("aria2");
    let mut aria = Command::new("aria2c");
    aria.args([
        "--no-conf",
        "--enable-dht=false",
        "--enable-dht6=false",
        "--bt-enable-lpd=false",
        "--enable-peer-exchange=false",
        "--disable-ipv6=true",
        "--file-allocation=none",
        "--summary-interval=0",
        "--console-log-level=warn",
        "--seed-time=0",
        "--check-integrity=true",
    ])
    .arg(format!("--listen-port={}", free_port()))
    .arg("-d")
    .arg(&out)
    .arg(&torrent);
    run(aria, "aria2c", 90);
    same_files(&album, &out.join("album"));

    // libtorrent (python3-libtorrent): the same, through its own web seed code.
    let out = work.path().join("lt");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/peers/lt_peer.py");
    let mut lt = Command::new("/usr/bin/python3");
    lt.arg(script).arg("leech").arg(&torrent).arg(&out).args([
        "--listen",
        "127.0.0.1:0",
        "--timeout",
        "90",
        "--no-recheck",
    ]);
    run(lt, "libtorrent leecher", 100);
    same_files(&album, &out.join("album"));

    // Anything else under /ws is one 404: a wrong key, an unknown file, a bad hash.
    let key = url.trim_end_matches('/').rsplit('/').next().unwrap();
    for path in [
        format!("/ws/{ih}/{}/album/notes.txt", "0".repeat(32)),
        format!("/ws/{ih}/{key}/album/nope.txt"),
        format!("/ws/{ih}/{key}/album%2F..%2F..%2Fjwt-secret"),
        format!("/ws/zz/{key}/album/notes.txt"),
    ] {
        let res = reqwest::get(srv.url(&path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = reqwest::Client::new()
        .get(srv.url(&format!("/ws/{ih}/{key}/album/notes.txt")))
        .header("range", "bytes=-9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let notes = std::fs::read(album.join("notes.txt")).unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &notes[990..]);

    // Web seed answers share the upload limit with peers: 1.2 MB at 200 kB/s takes seconds.
    let (s, body) = srv
        .call(
            Method::PATCH,
            "/api/settings",
            Some(&alice),
            Some(json!({ "uploadLimit": 200_000 })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let started = std::time::Instant::now();
    let long = reqwest::get(srv.url(&format!("/ws/{ih}/{key}/album/cd2/02-long.bin")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(long.len(), 1_200_000);
    assert!(
        took >= Duration::from_secs(4),
        "1.2 MB in {took:?} despite a 200 kB/s limit"
    );
}

/// TorrentEdge as a web seed *client*: server B gets the .torrent that server A created with
/// its own web seed, has no tracker, no DHT and no peer address, and downloads everything over
/// HTTP from A's `/ws/...` URL. B's detail shows the web seed's state and bytes (REST), and the
/// compatibility APIs list it (qBittorrent `torrents/webseeds`, Transmission `webseeds`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_torrentedge_downloads_from_our_web_seed_only() {
    let a = Server::start(Backend::Sqlite).await;
    let alice = a.user("alice").await;
    let album = a.downloads().join("album");
    write_album(&album);
    let (s, bytes) = {
        let res = a
            .req(Method::POST, "/api/torrents/create", Some(&alice))
            .json(&json!({ "path": "album", "webSeed": true, "pieceLength": 65536 }))
            .send()
            .await
            .unwrap();
        (res.status(), res.bytes().await.unwrap())
    };
    assert_eq!(
        s,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let meta = engine::metainfo::Metainfo::from_bytes(&bytes).unwrap();
    let ih = meta.info_hash.to_hex();
    let url = meta.web_seeds[0].clone();
    a.wait_torrent(&alice, &ih, 60, |t| t["state"] == "seeding")
        .await;

    let b = Server::start(Backend::Sqlite).await;
    let bob = b.user("bob").await;
    let (s, body) = b.upload(&bob, &bytes, &[]).await;
    assert!(s.is_success(), "{body}");
    let done = b
        .wait_torrent(&bob, &ih, 60, |t| t["state"] == "seeding")
        .await;
    assert_eq!(done["peers"], 0, "no peer took part: {done}");
    same_files(&album, &b.downloads().join("album"));
    let seeds = done["webSeedStatus"].as_array().expect("webSeedStatus");
    assert_eq!(seeds.len(), 1, "{done}");
    assert_eq!(seeds[0]["url"], url.as_str());
    assert!(
        seeds[0]["downloaded"].as_u64().unwrap() >= 1_501_000,
        "{done}"
    );
    assert_eq!(seeds[0]["failures"], 0, "{done}");

    let qbit = crate::qbittorrent::Qbit::login(&b, "bob").await;
    let listed = qbit.json("torrents/webseeds", &[("hash", &ih)]).await;
    assert_eq!(listed, json!([{ "url": url }]));
    let (s, r) = crate::transmission::rpc(
        &b,
        "bob",
        json!({ "method": "torrent-get", "arguments": { "fields": ["webseeds", "webseedsSendingToUs"] } }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let t = &r["arguments"]["torrents"][0];
    assert_eq!(t["webseeds"], json!([url]), "{r}");
    assert_eq!(t["webseedsSendingToUs"], 0, "done: nothing in flight: {r}");
}
