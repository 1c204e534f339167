//! `/api/bans` and a torrent's ended connections over the REST API. Bans live in the
//! engine session (not the database), so one backend is enough; the engine's own tests
//! (engine/tests/bans.rs) ban real liars.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_ban_and_unban_everyone_reads() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;

    let (s, body) = srv
        .post("/api/bans", &admin, json!({ "ip": "127.0.0.9" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body[0]["ip"], "127.0.0.9", "{body}");
    let (s, _) = srv
        .post("/api/bans", &admin, json!({ "ip": "127.0.0.9" }))
        .await;
    assert_eq!(s, StatusCode::OK, "banned already");
    let (s, body) = srv
        .post("/api/bans", &admin, json!({ "ip": "not-an-ip" }))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, _) = srv
        .post("/api/bans", &alice, json!({ "ip": "127.0.0.8" }))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, list) = srv.get("/api/bans", &alice).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["kind"], "manual", "{list}");
    assert_eq!(list[0]["reason"], "banned by a user", "{list}");
    assert!(
        list[0]["since"].as_u64().unwrap_or(0) > 1_700_000_000,
        "{list}"
    );

    let del = |token: &str| send(srv.req(Method::DELETE, "/api/bans/127.0.0.9", Some(token)));
    assert_eq!(del(&alice).await.0, StatusCode::FORBIDDEN);
    assert_eq!(del(&admin).await.0, StatusCode::NO_CONTENT);
    assert_eq!(del(&admin).await.0, StatusCode::NOT_FOUND);
    assert_eq!(srv.get("/api/bans", &alice).await.1, json!([]));

    // A torrent's ended connections: empty at first, and private to its owner.
    let (torrent, ih) = dummy_torrent(77);
    let (s, body) = srv.upload(&alice, &torrent, &[]).await;
    assert!(s.is_success(), "{body}");
    let (s, ends) = srv
        .get(&format!("/api/torrents/{ih}/peers/ended"), &alice)
        .await;
    assert_eq!((s, ends), (StatusCode::OK, json!([])));
    let bob = srv.user("bob").await;
    let (s, _) = srv
        .get(&format!("/api/torrents/{ih}/peers/ended"), &bob)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// `superSeeding` over `PATCH /api/torrents/{infoHash}` and qBittorrent's
/// `torrents/setSuperSeeding`, shown in the summary (engine/tests/super_seed.rs checks what it
/// does with real leechers).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn super_seeding_is_switched_over_the_api() {
    let srv = Server::start(Backend::Sqlite).await;
    let alice = srv.user("alice").await;
    let (torrent, ih) = dummy_torrent(78);
    let (s, body) = srv.upload(&alice, &torrent, &[]).await;
    assert!(s.is_success(), "{body}");
    let path = format!("/api/torrents/{ih}");
    let patch = |on: bool| {
        send(
            srv.req(Method::PATCH, &path, Some(&alice))
                .json(&json!({ "superSeeding": on })),
        )
    };
    let (s, body) = patch(true).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["superSeeding"], true, "{body}");
    assert_eq!(srv.get(&path, &alice).await.1["superSeeding"], true);
    let (s, body) = patch(false).await;
    assert_eq!(
        (s, body["superSeeding"].clone()),
        (StatusCode::OK, json!(false))
    );
    let bob = srv.user("bob").await;
    let (s, _) = send(
        srv.req(Method::PATCH, &path, Some(&bob))
            .json(&json!({ "superSeeding": true })),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not bob's torrent");
}
