//! `/api/notifications`: made when a real download (from a libtorrent seeder) completes,
//! when a torrent added already complete starts seeding, and when the engine fails a
//! torrent; for their owner only (admins included), live as `notification`, kept across
//! restarts, marked read.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::lt::{free_port, LtPeer, SeedData};
use crate::sse::{Msg, Reader};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(30);

both_backends!(
    a_finished_download_notifies_its_owner_only,
    seeding_and_errors_notify_and_are_marked_read,
);

fn notifications(msgs: &[Msg]) -> Vec<&Msg> {
    msgs.iter().filter(|m| m.event == "notification").collect()
}

async fn a_finished_download_notifies_its_owner_only(backend: Backend) {
    const SIZE: usize = 2 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 4321), 32768);
    let torrent = std::fs::read(&seed.torrent_path).unwrap();

    let port = free_port();
    let mut opts = Options::new(backend);
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let mut alice_events = Reader::open(&srv.base, &alice, None).await;
    let mut admin_events = Reader::open(&srv.base, &admin, None).await;
    let mut bob_events = Reader::open(&srv.base, &bob, None).await;

    let seeder = LtPeer::seed(
        &seed.torrent_path,
        &seed.seed_dir,
        0,
        &format!("127.0.0.1:{port}"),
    );
    let (s, body) = srv
        .upload(
            &alice,
            &torrent,
            &[("peers", &format!("127.0.0.1:{}", seeder.port))],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    let seen = alice_events
        .until("notification", Duration::from_secs(120))
        .await;
    let n = seen.last().unwrap().data.clone();
    assert_eq!(n["kind"], "completed", "{n}");
    assert_eq!(n["infoHash"], seed.ih.as_str());
    assert_eq!(n["name"], "payload.bin");
    assert_eq!(n["message"], "payload.bin finished downloading");
    assert_eq!(n["read"], false);
    assert!(n["id"].is_i64() && n["createdAt"].as_i64().unwrap() > 1_000_000_000_000);
    // By then the download really is complete.
    let done = srv
        .wait_torrent(&alice, &seed.ih, 30, |t| t["state"] == "seeding")
        .await;
    assert_eq!(done["bytesDone"], SIZE as u64);
    assert_eq!(
        std::fs::read(srv.user_dir(&alice).await.join("payload.bin")).unwrap(),
        std::fs::read(&seed.source).unwrap()
    );
    // A download that completes starts seeding too, but that is not a second notification.
    let later = alice_events.drain(Duration::from_secs(2)).await;
    assert!(notifications(&later).is_empty(), "{later:?}");

    let (s, list) = srv.get("/api/notifications", &alice).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list, json!({ "unread": 1, "items": [n] }));

    // Nobody else sees it: not bob, not even the admin (who does see alice's torrents).
    for token in [&admin, &bob] {
        let (_, list) = srv.get("/api/notifications", token).await;
        assert_eq!(list, json!({ "unread": 0, "items": [] }));
    }
    let admin_saw = admin_events.drain(Duration::from_millis(500)).await;
    assert!(
        admin_saw.iter().any(|m| m.event == "torrent:complete"),
        "{admin_saw:?}"
    );
    assert!(notifications(&admin_saw).is_empty(), "{admin_saw:?}");
    let bob_saw = bob_events.drain(Duration::from_millis(500)).await;
    assert!(notifications(&bob_saw).is_empty(), "{bob_saw:?}");

    // Someone else cannot mark it read; its owner can.
    let id = n["id"].as_i64().unwrap();
    let (s, _) = srv
        .post("/api/notifications/read", &bob, json!({ "ids": [id] }))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(srv.get("/api/notifications", &alice).await.1["unread"], 1);
    let (s, _) = srv
        .post("/api/notifications/read", &alice, json!({ "ids": [id] }))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = srv.get("/api/notifications", &alice).await;
    assert_eq!(list["unread"], 0);
    assert_eq!(list["items"][0]["read"], true);
    assert_eq!(list["items"][0]["id"], id);
}

async fn seeding_and_errors_notify_and_are_marked_read(backend: Backend) {
    let srv = Server::start(backend).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let mut events = Reader::open(&srv.base, &alice, None).await;

    // Data already in alice's folder: the torrent is complete when added and seeds at once.
    let share = srv.user_dir(&alice).await.join("share.bin");
    write_random(&share, 200_000, 5);
    let (t, ih) = make_torrent(&share, Some(16384));
    let (s, body) = srv.upload(&alice, &t, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let seeding = events.until("notification", WAIT).await.pop().unwrap().data;
    assert_eq!(seeding["kind"], "seeding", "{seeding}");
    assert_eq!(seeding["infoHash"], ih.as_str());
    assert_eq!(seeding["message"], "share.bin is complete and seeding");

    // A file where the torrent needs a folder: the engine's check of the data fails.
    let src = tempfile::tempdir().unwrap();
    write_random(&src.path().join("pack/a.bin"), 40_000, 6);
    write_random(&src.path().join("pack/b.bin"), 40_000, 7);
    let (t, ihe) = make_torrent(&src.path().join("pack"), Some(16384));
    std::fs::write(srv.user_dir(&alice).await.join("pack"), b"not a folder").unwrap();
    let (s, body) = srv.upload(&alice, &t, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let failed = events.until("notification", WAIT).await.pop().unwrap().data;
    assert_eq!(failed["kind"], "error", "{failed}");
    assert_eq!(failed["infoHash"], ihe.as_str());
    assert_eq!(failed["name"], "pack");
    let message = failed["message"].as_str().unwrap();
    assert!(message.starts_with("pack stopped: "), "{message}");
    let t = srv
        .wait_torrent(&alice, &ihe, 10, |t| t["state"] == "error")
        .await;
    assert!(message.ends_with(t["error"].as_str().unwrap()), "{t}");

    // Newest first; `limit` caps the items, not the unread count.
    let (_, list) = srv.get("/api/notifications", &alice).await;
    assert_eq!(list, json!({ "unread": 2, "items": [failed, seeding] }));
    let (_, list) = srv.get("/api/notifications?limit=1", &alice).await;
    assert_eq!(list, json!({ "unread": 2, "items": [failed] }));
    let (_, list) = srv.get("/api/notifications", &admin).await;
    assert_eq!(list, json!({ "unread": 0, "items": [] }));

    // Refused: bad bodies, no token, cookie without the CSRF header.
    let (s, _) = srv
        .post("/api/notifications/read", &alice, json!({ "ids": "all" }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, e) = srv
        .post(
            "/api/notifications/read",
            &alice,
            json!({ "ids": (0..1001).collect::<Vec<i64>>() }),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    for (method, path) in [
        (Method::GET, "/api/notifications"),
        (Method::POST, "/api/notifications/read"),
    ] {
        let (s, _) = srv.call(method, path, None, Some(json!({}))).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{path}");
    }
    let (cookie, csrf) = srv.cookie_login("alice").await;
    let read_all = || {
        srv.req(Method::POST, "/api/notifications/read", None)
            .header("Cookie", &cookie)
            .json(&json!({}))
    };
    assert_eq!(send(read_all()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(srv.get("/api/notifications", &alice).await.1["unread"], 2);

    // `{}` marks everything read (ids that do not exist are fine too).
    let (s, _) = send(read_all().header("X-CSRF-Token", &csrf)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = srv
        .post(
            "/api/notifications/read",
            &alice,
            json!({ "ids": [987654] }),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = srv.get("/api/notifications", &alice).await;
    assert_eq!(list["unread"], 0);
    let read: Vec<&Value> = list["items"].as_array().unwrap().iter().collect();
    assert_eq!(read.len(), 2);
    assert!(read.iter().all(|n| n["read"] == true), "{list}");

    // Kept across a restart, where torrents that seed again are not notified again.
    let srv = srv.restart().await;
    let alice = srv.login("alice", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.wait_torrent(&alice, &ih, 30, |t| t["state"] == "seeding")
        .await;
    srv.wait_torrent(&alice, &ihe, 30, |t| t["state"] == "error")
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (_, after) = srv.get("/api/notifications", &alice).await;
    assert_eq!(after, list);
}
