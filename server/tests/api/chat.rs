//! `/api/chat`: posting, paging, validation, authentication and CSRF, the per-user rate
//! limit, and live delivery of `chat:message` to every signed-in user.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::sse::Reader;
use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

both_backends!(the_chat_room_stores_pages_and_broadcasts);

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap_or_else(|| panic!("not an array: {list}"))
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn the_chat_room_stores_pages_and_broadcasts(backend: Backend) {
    let srv = Server::start_with(Options::new(backend).env("CHAT_RATE_LIMIT", "0")).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let mut bob_events = Reader::open(&srv.base, &bob, None).await;
    let mut admin_events = Reader::open(&srv.base, &admin, None).await;

    let (s, empty) = srv.get("/api/chat", &alice).await;
    assert_eq!((s, empty), (StatusCode::OK, json!([])));

    let (s, first) = srv
        .post("/api/chat", &alice, json!({ "body": "  hello, room \n" }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["body"], "hello, room", "stored trimmed");
    assert_eq!(first["username"], "alice");
    let (_, me) = srv.get("/api/users/me", &alice).await;
    assert_eq!(first["userId"], me["id"]);
    let at = first["createdAt"].as_i64().unwrap();
    assert!((at - now_ms()).abs() < 60_000, "milliseconds: {at}");

    // Every other user gets it live, exactly as stored (admins too: chat is for everyone).
    for events in [&mut bob_events, &mut admin_events] {
        let seen = events.until("chat:message", WAIT).await;
        let msg = seen.last().unwrap();
        assert_eq!(msg.data, first);
        assert!(msg.id.is_some(), "chat events have ids for Last-Event-ID");
    }

    // Nine more, from both users: ids increase.
    let mut all = vec![first["id"].as_i64().unwrap()];
    for i in 0..9 {
        let (token, who) = if i % 2 == 0 {
            (&bob, "bob")
        } else {
            (&alice, "alice")
        };
        let (s, m) = srv
            .post(
                "/api/chat",
                token,
                json!({ "body": format!("message {i}") }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        assert_eq!(m["username"], who);
        all.push(m["id"].as_i64().unwrap());
    }
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");

    // The newest page, oldest first; then pages further back with `before`.
    let (_, page) = srv.get("/api/chat", &bob).await;
    assert_eq!(ids(&page), all, "default: the newest 50");
    assert_eq!(page[0]["body"], "hello, room");
    assert_eq!(page[9]["body"], "message 8");
    assert_eq!(page[9]["username"], "bob");
    let (_, page) = srv.get("/api/chat?limit=4", &bob).await;
    assert_eq!(ids(&page), all[6..]);
    let (_, page) = srv
        .get(&format!("/api/chat?before={}&limit=4", all[6]), &bob)
        .await;
    assert_eq!(ids(&page), all[2..6]);
    let (_, page) = srv
        .get(&format!("/api/chat?before={}&limit=4", all[2]), &bob)
        .await;
    assert_eq!(ids(&page), all[..2]);
    let (_, page) = srv.get(&format!("/api/chat?before={}", all[0]), &bob).await;
    assert_eq!(page, json!([]), "nothing before the first");
    // Limits are clamped to 1..=200.
    let (_, page) = srv.get("/api/chat?limit=0", &admin).await;
    assert_eq!(ids(&page), all[9..]);
    let (_, page) = srv.get("/api/chat?limit=100000", &admin).await;
    assert_eq!(ids(&page), all);
    let (s, body) = srv.get("/api/chat?limit=many", &admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // The history survives a restart.
    let srv = srv.restart().await;
    let bob = srv.login("bob", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, page) = srv.get("/api/chat", &bob).await;
    assert_eq!(ids(&page), all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_input_is_validated_and_authenticated() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("CHAT_RATE_LIMIT", "0")).await;
    let alice = srv.user("alice").await;

    for body in [json!({ "body": " \n\t " }), json!({ "body": "" })] {
        let (s, e) = srv.post("/api/chat", &alice, body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(e["error"], "invalid_message", "{e}");
        assert!(e["message"].as_str().unwrap().contains("empty"), "{e}");
    }
    let too_long = "x".repeat(2001);
    let (s, e) = srv
        .post("/api/chat", &alice, json!({ "body": too_long }))
        .await;
    assert_eq!(
        (s, e["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_message"))
    );
    let (s, e) = srv
        .post("/api/chat", &alice, json!({ "body": "bell \u{7}" }))
        .await;
    assert_eq!(
        (s, e["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_message"))
    );
    // 2000 characters are fine, however many bytes they take.
    let longest = "é".repeat(2000);
    let (s, m) = srv
        .post("/api/chat", &alice, json!({ "body": longest }))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(m["body"], longest.as_str());
    // Not the expected JSON.
    let (s, e) = srv.post("/api/chat", &alice, json!({ "text": "hi" })).await;
    assert_eq!(
        (s, e["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_request"))
    );
    let (s, _) = send(
        srv.req(Method::POST, "/api/chat", Some(&alice))
            .header("Content-Type", "text/plain")
            .body("hi"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Without a token: 401 for reading and writing.
    for method in [Method::GET, Method::POST] {
        let (s, e) = srv
            .call(
                method,
                "/api/chat",
                None,
                Some(json!({ "body": "anonymous" })),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
        assert_eq!(e["error"], "unauthorized");
    }

    // The dashboard's cookie: reading needs nothing more, posting needs the CSRF header.
    let (cookie, csrf) = srv.cookie_login("alice").await;
    let (s, list) = send(
        srv.req(Method::GET, "/api/chat", None)
            .header("Cookie", &cookie),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let post = || {
        srv.req(Method::POST, "/api/chat", None)
            .header("Cookie", &cookie)
            .json(&json!({ "body": "from the page" }))
    };
    let (s, e) = send(post()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["message"], "missing CSRF token");
    let (s, e) = send(post().header("X-CSRF-Token", "0".repeat(32))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let (s, m) = send(post().header("X-CSRF-Token", &csrf)).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    assert_eq!(m["body"], "from the page");

    // Only the two valid messages were stored.
    let (_, list) = srv.get("/api/chat", &alice).await;
    let bodies: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [longest.as_str(), "from the page"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_posts_are_rate_limited_per_user() {
    // The default: 5 messages per user per 5 seconds.
    let srv = Server::start(Backend::Sqlite).await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let say = |token: &str, body: &str| {
        srv.req(Method::POST, "/api/chat", Some(token))
            .json(&json!({ "body": body }))
    };
    for i in 0..5 {
        let (s, m) = send(say(&alice, &format!("quick {i}"))).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
    }
    let res = say(&alice, "one too many").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&wait), "Retry-After: {wait}");
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["error"], "too_many_requests");
    // Invalid messages are refused before they count; other users are not affected.
    assert_eq!(send(say(&alice, " ")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(send(say(&bob, "still here")).await.0, StatusCode::CREATED);

    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (s, m) = send(say(&alice, "after a pause")).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let (_, list) = srv.get("/api/chat", &bob).await;
    assert_eq!(list.as_array().unwrap().len(), 7, "{list}");
}
