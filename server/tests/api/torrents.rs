//! `/api/torrents...`: upload, magnet, list, detail, pause/resume, priority, files, peers,
//! pieces, remove (with and without data), create; cross-user isolation; bad input.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::*;

both_backends!(
    torrent_lifecycle,
    users_only_see_their_own_torrents,
    bad_input_is_refused
);

async fn torrent_lifecycle(backend: Backend) {
    let srv = Server::start(backend).await;
    let admin = srv.user("admin").await;
    // Data already in the save folder: the torrent checks it and seeds.
    let data = srv.downloads().join("seed/movie.bin");
    write_random(&data, 300_000, 7);
    let (torrent, ih) = make_torrent(&data, Some(32768));
    let (s, added) = srv
        .upload(
            &admin,
            &torrent,
            &[("savePath", "seed"), ("priority", "high")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    assert_eq!(added["infoHash"], ih);
    assert_eq!(added["name"], "movie.bin");
    assert_eq!(added["priority"], "high");
    assert_eq!(added["totalBytes"], 300_000);
    assert!(
        added["savePath"]
            .as_str()
            .unwrap()
            .ends_with("downloads/seed"),
        "{added}"
    );

    let t = srv
        .wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;
    assert_eq!(t["progress"], 1.0);
    assert_eq!(t["bytesDone"], 300_000);
    assert_eq!(t["numPieces"], 10);
    assert_eq!(t["piecesDone"], 10);
    assert_eq!(t["pieceLength"], 32768);
    assert_eq!(t["files"][0]["path"], "movie.bin");
    assert_eq!(t["files"][0]["progress"], 1.0);
    assert!(t["trackers"].is_array());
    assert!(t["ratio"].is_number() && t["peers"] == 0);
    assert!(t["completedAt"].is_null() || t["completedAt"].is_i64());

    let (s, list) = srv.get("/api/torrents", &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["infoHash"], ih);

    let (s, files) = srv.get(&format!("/api/torrents/{ih}/files"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        files,
        json!([{ "path": "movie.bin", "length": 300000, "bytesDone": 300000, "progress": 1.0, "priority": "normal" }])
    );
    let (s, peers) = srv.get(&format!("/api/torrents/{ih}/peers"), &admin).await;
    assert_eq!((s, peers), (StatusCode::OK, json!([])));
    let (s, pieces) = srv.get(&format!("/api/torrents/{ih}/pieces"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(pieces["numPieces"], 10);
    assert_eq!(pieces["piecesDone"], 10);
    assert_eq!(pieces["bitfield"], "ffc0", "10 pieces, high bit first");

    let (s, t) = srv
        .post(&format!("/api/torrents/{ih}/pause"), &admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    srv.wait_torrent(&admin, &ih, 10, |t| t["state"] == "paused")
        .await;
    let (s, _) = srv
        .post(&format!("/api/torrents/{ih}/resume"), &admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    srv.wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;

    let (s, t) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih}/priority"),
            Some(&admin),
            Some(json!({ "priority": "low" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(t["priority"], "low");
    let (s, body) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih}/priority"),
            Some(&admin),
            Some(json!({ "priority": "urgent" })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    let (s, _) = srv
        .post(
            &format!("/api/torrents/{ih}/peers"),
            &admin,
            json!({ "peers": ["127.0.0.1:1"] }),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let (s, _) = srv
        .post(
            &format!("/api/torrents/{ih}/peers"),
            &admin,
            json!({ "peers": ["not an address"] }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Adding it again is a conflict.
    let (s, body) = srv.upload(&admin, &torrent, &[("savePath", "seed")]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");

    // Remove without data: the file stays.
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/torrents/{ih}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(data.exists());
    let (s, body) = srv.get(&format!("/api/torrents/{ih}"), &admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "not_found");
    let (_, list) = srv.get("/api/torrents", &admin).await;
    assert_eq!(list, json!([]));

    // Add again and remove with the data.
    let (s, _) = srv.upload(&admin, &torrent, &[("savePath", "seed")]).await;
    assert_eq!(s, StatusCode::CREATED);
    srv.wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/torrents/{ih}?deleteFiles=true"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!data.exists(), "deleteFiles=true removes the data");

    // A magnet: accepted, stored, fetching metadata.
    let magnet = "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=Linux+ISO&tr=udp%3A%2F%2Ftracker.example%3A80";
    let (s, m) = srv
        .post(
            "/api/torrents",
            &admin,
            json!({ "magnetURI": magnet, "paused": false }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["state"], "fetchingMetadata");
    assert_eq!(m["name"], "Linux ISO");
    assert_eq!(m["magnetUri"], magnet);
    let (s, _) = srv
        .post("/api/torrents", &admin, json!({ "magnetURI": magnet }))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, d) = srv
        .get(
            "/api/torrents/c12fe1c06bba254a9dc9f519b335aa7c1367a88a",
            &admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["files"], json!([]));
    let (s, p) = srv
        .get(
            "/api/torrents/c12fe1c06bba254a9dc9f519b335aa7c1367a88a/pieces",
            &admin,
        )
        .await;
    assert_eq!((s, &p["numPieces"]), (StatusCode::OK, &json!(0)));
}

async fn users_only_see_their_own_torrents(backend: Backend) {
    let srv = Server::start(backend).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let (ta, iha) = dummy_torrent(11);
    let (tb, ihb) = dummy_torrent(12);
    let (s, a) = srv.upload(&alice, &ta, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(
        std::path::Path::new(a["savePath"].as_str().unwrap()),
        srv.user_dir(&alice).await,
        "users save below their own folder: {a}"
    );
    assert_eq!(
        srv.upload(&bob, &tb, &[("paused", "true")]).await.0,
        StatusCode::CREATED
    );

    let names = |v: &Value| {
        let mut v: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["infoHash"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        names(&srv.get("/api/torrents", &alice).await.1),
        vec![iha.clone()]
    );
    assert_eq!(
        names(&srv.get("/api/torrents", &bob).await.1),
        vec![ihb.clone()]
    );
    let mut both = vec![iha.clone(), ihb.clone()];
    both.sort();
    assert_eq!(
        names(&srv.get("/api/torrents", &admin).await.1),
        both,
        "the admin sees all"
    );

    // Bob cannot touch Alice's torrent: every route says not found.
    let t = format!("/api/torrents/{iha}");
    for (m, path, body) in [
        (Method::GET, t.clone(), None),
        (Method::GET, format!("{t}/files"), None),
        (Method::GET, format!("{t}/peers"), None),
        (Method::GET, format!("{t}/pieces"), None),
        (Method::POST, format!("{t}/pause"), None),
        (Method::POST, format!("{t}/resume"), None),
        (
            Method::POST,
            format!("{t}/peers"),
            Some(json!({ "peers": [] })),
        ),
        (
            Method::PUT,
            format!("{t}/priority"),
            Some(json!({ "priority": "high" })),
        ),
        (Method::DELETE, format!("{t}?deleteFiles=true"), None),
    ] {
        let (s, body) = srv.call(m.clone(), &path, Some(&bob), body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {path}: {body}");
        assert_eq!(body["error"], "not_found");
    }
    assert_eq!(srv.get(&t, &alice).await.0, StatusCode::OK);
    // Bob cannot save into Alice's folder either.
    let (s, body) = srv
        .upload(&bob, &dummy_torrent(13).0, &[("savePath", "../alice")])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // The admin controls anyone's torrent.
    let (s, p) = srv
        .post(&format!("/api/torrents/{ihb}/resume"), &admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/torrents/{ihb}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(srv.get("/api/torrents", &bob).await.1, json!([]));
}

async fn bad_input_is_refused(backend: Backend) {
    let srv = Server::start_with(Options::new(backend).env("MAX_TORRENT_SIZE", "65536")).await;
    srv.user("admin").await;
    let tok = srv.user("alice").await;
    let check = |s: StatusCode, body: &Value, want: StatusCode, needle: &str| {
        assert_eq!(s, want, "{body}");
        let msg = body["message"].as_str().unwrap_or_default();
        assert!(
            msg.contains(needle),
            "message {msg:?} should mention {needle:?}"
        );
    };

    let (s, b) = srv.upload(&tok, b"this is not bencode", &[]).await;
    check(s, &b, StatusCode::BAD_REQUEST, "invalid torrent");
    let (s, b) = srv.upload(&tok, b"d4:infod4:name1:xee", &[]).await;
    check(s, &b, StatusCode::BAD_REQUEST, "invalid torrent");
    let (s, b) = srv.upload(&tok, &vec![b'x'; 100_000], &[]).await;
    check(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "");
    assert_eq!(b["error"], "payload_too_large");
    // Far beyond the body limit: refused from the declared length, before the body is sent
    // (as curl does with `Expect: 100-continue`).
    let (s, b) = oversized_declared(&srv, &tok).await;
    assert_eq!(s, 413, "{b}");
    assert!(b.contains("payload_too_large"), "{b}");

    let (torrent, _) = dummy_torrent(21);
    for (path, needle) in [
        ("../escape", ".."),
        ("a/../../escape", ".."),
        ("/etc", "outside"),
        ("a\\..\\b", "backslash"),
    ] {
        let (s, b) = srv.upload(&tok, &torrent, &[("savePath", path)]).await;
        check(s, &b, StatusCode::BAD_REQUEST, needle);
    }
    #[cfg(unix)]
    {
        let root = srv.user_dir(&tok).await;
        std::fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink("/tmp", root.join("out")).unwrap();
        let (s, b) = srv.upload(&tok, &torrent, &[("savePath", "out/x")]).await;
        check(s, &b, StatusCode::BAD_REQUEST, "symbolic link");
    }
    let (s, b) = srv.upload(&tok, &torrent, &[("priority", "max")]).await;
    check(s, &b, StatusCode::BAD_REQUEST, "priority");
    let (s, b) = srv.upload(&tok, &torrent, &[("bogus", "1")]).await;
    check(s, &b, StatusCode::BAD_REQUEST, "bogus");

    for bad in [
        "http://example.com/x.torrent",
        "magnet:?dn=nohash",
        "magnet:?xt=urn:btih:xyz",
    ] {
        let (s, b) = srv
            .post("/api/torrents", &tok, json!({ "magnetURI": bad }))
            .await;
        check(s, &b, StatusCode::BAD_REQUEST, "magnet");
    }
    let (s, b) = srv
        .post("/api/torrents", &tok, json!({ "nothing": 1 }))
        .await;
    check(s, &b, StatusCode::BAD_REQUEST, "magnetURI");
    let (s, b) = send(
        srv.req(Method::POST, "/api/torrents", Some(&tok))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    let (s, b) = send(
        srv.req(Method::POST, "/api/torrents", Some(&tok))
            .header("content-type", "text/plain")
            .body("x"),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{b}");

    let (s, b) = srv.get("/api/torrents/nothex", &tok).await;
    check(s, &b, StatusCode::BAD_REQUEST, "info-hash");
    let (s, b) = srv
        .get(&format!("/api/torrents/{}", "ab".repeat(20)), &tok)
        .await;
    check(s, &b, StatusCode::NOT_FOUND, "no such torrent");
    let (s, b) = srv.get("/api/no/such/route", &tok).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    // create: paths must be inside the user's folder.
    for path in ["../admin", "/etc/passwd", ""] {
        let (s, b) = srv
            .post("/api/torrents/create", &tok, json!({ "path": path }))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}: {b}");
    }
    // Nothing was added by any of this.
    assert_eq!(srv.get("/api/torrents", &tok).await.1, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_from_a_server_path_and_from_uploads() {
    let srv = Server::start(Backend::Sqlite).await;
    let tok = srv.user("admin").await;
    // From a folder already on the server.
    let dir = srv.downloads().join("share/album");
    write_random(&dir.join("a.bin"), 50_000, 1);
    write_random(&dir.join("sub/b.bin"), 70_000, 2);
    let res = srv
        .req(Method::POST, "/api/torrents/create", Some(&tok))
        .json(&json!({ "path": "share/album", "trackers": ["http://127.0.0.1:1/announce"], "comment": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()["content-type"], "application/x-bittorrent");
    let ih = res.headers()["x-info-hash"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    let meta = engine::metainfo::Metainfo::from_bytes(&bytes).expect("a valid torrent");
    assert_eq!(meta.info_hash.to_hex(), ih);
    assert_eq!(meta.name, "album");
    assert_eq!(meta.total_length, 120_000);
    assert_eq!(
        meta.trackers,
        vec![vec!["http://127.0.0.1:1/announce".to_owned()]]
    );
    let t = srv
        .wait_torrent(&tok, &ih, 30, |t| t["state"] == "seeding")
        .await;
    assert_eq!(t["progress"], 1.0);
    assert_eq!(t["comment"], "hi");

    // From uploads: two files under a name.
    let form = reqwest::multipart::Form::new()
        .text("name", "upload-set")
        .text("savePath", "made")
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![1u8; 40_000]).file_name("one.bin"),
        )
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![2u8; 30_000]).file_name("dir/two.bin"),
        );
    let res = srv
        .req(Method::POST, "/api/torrents/create", Some(&tok))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let ih2 = res.headers()["x-info-hash"].to_str().unwrap().to_owned();
    let meta = engine::metainfo::Metainfo::from_bytes(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(meta.name, "upload-set");
    assert_eq!(meta.files.len(), 2);
    let root = srv.downloads().join("made/upload-set");
    assert_eq!(
        std::fs::read(root.join("one.bin")).unwrap(),
        vec![1u8; 40_000]
    );
    assert_eq!(
        std::fs::read(root.join("dir/two.bin")).unwrap(),
        vec![2u8; 30_000]
    );
    srv.wait_torrent(&tok, &ih2, 30, |t| t["state"] == "seeding")
        .await;
    // No staging folders are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(srv.downloads())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".te-upload"))
        .collect();
    assert!(leftovers.is_empty());

    // Unsafe upload names are refused and leave nothing behind.
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(vec![1u8; 10]).file_name("../../evil.bin"),
    );
    let (s, b) = send(
        srv.req(Method::POST, "/api/torrents/create", Some(&tok))
            .multipart(form),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(!srv.data_dir().join("evil.bin").exists());
    // The same upload twice: the target exists.
    let form = reqwest::multipart::Form::new()
        .text("name", "upload-set")
        .text("savePath", "made")
        .part(
            "files",
            reqwest::multipart::Part::bytes(vec![3u8; 10]).file_name("x.bin"),
        );
    let (s, b) = send(
        srv.req(Method::POST, "/api/torrents/create", Some(&tok))
            .multipart(form),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

/// Sends only the headers of a 3 MiB upload with `Expect: 100-continue`; returns the status
/// and body of the answer.
async fn oversized_declared(srv: &Server, token: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = srv.base.trim_start_matches("http://").to_owned();
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/torrents HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n",
        3 << 20
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut answer))
        .await
        .expect("an answer without the body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}
