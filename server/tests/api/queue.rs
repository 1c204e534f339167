//! `MAX_CONCURRENT_TORRENTS`: the first N torrents by priority, then by age, download; the
//! others are `queued`; seeding torrents do not count; pausing, resuming, priorities and
//! removals move the queue, with `queue:updated` events; a restart keeps it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::sse::{Msg, Reader};
use crate::support::*;

both_backends!(one_slot_goes_to_the_first_by_priority_then_age);

const WAIT: u64 = 20;

fn is(state: &'static str) -> impl Fn(&Value) -> bool {
    move |t| t["state"] == state
}

/// Waits for a `queue:updated` about `ih` in `state`.
async fn queue_event(events: &mut Reader, ih: &str, state: &str) -> Msg {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(WAIT);
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match events.next(left).await {
            Some(m) if m.event == "queue:updated" && m.data["infoHash"] == ih => {
                if m.data["state"] == state {
                    return m;
                }
                seen.push(m);
            }
            Some(m) => seen.push(m),
            None => panic!("no queue:updated {state} for {ih}; got {seen:?}"),
        }
    }
}

async fn one_slot_goes_to_the_first_by_priority_then_age(backend: Backend) {
    let srv = Server::start_with(Options::new(backend).env("MAX_CONCURRENT_TORRENTS", "1")).await;
    let _admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let mut events = Reader::open(&srv.base, &alice, None).await;
    let t = |ih: &str| format!("/api/torrents/{ih}");

    // Nobody seeds these: they download for ever, each wanting a slot.
    let (ta, a) = dummy_torrent(81);
    let (tb, b) = dummy_torrent(82);
    let (tc, c) = dummy_torrent(83);
    assert_eq!(srv.upload(&alice, &ta, &[]).await.0, StatusCode::CREATED);
    srv.wait_torrent(&alice, &a, WAIT, is("downloading")).await;
    let (s, added) = srv.upload(&alice, &tb, &[]).await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(
        added["state"] == "checking" || added["state"] == "queued",
        "a torrent over the cap never starts: {added}"
    );
    srv.wait_torrent(&alice, &b, WAIT, is("queued")).await;
    queue_event(&mut events, &b, "queued").await;
    // The queue spans users: bob's waits too (and alice does not hear about it).
    assert_eq!(srv.upload(&bob, &tc, &[]).await.0, StatusCode::CREATED);
    srv.wait_torrent(&bob, &c, WAIT, is("queued")).await;

    // A complete torrent seeds whatever the cap: seeding does not take a slot.
    let share = srv.user_dir(&alice).await.join("share.bin");
    write_random(&share, 100_000, 84);
    let (ts, s_ih) = make_torrent(&share, Some(16384));
    assert_eq!(srv.upload(&alice, &ts, &[]).await.0, StatusCode::CREATED);
    srv.wait_torrent(&alice, &s_ih, WAIT, is("seeding")).await;
    srv.wait_torrent(&alice, &a, WAIT, is("downloading")).await;
    srv.wait_torrent(&alice, &b, WAIT, is("queued")).await;
    let (_, stats) = srv.get("/api/statistics", &alice).await;
    assert_eq!(stats["byState"]["queued"], 1, "{stats}");
    assert_eq!(stats["byState"]["downloading"], 1, "{stats}");

    // Pausing A gives its slot to the next in line: B (added before bob's C).
    let (s, paused) = srv
        .post(&format!("{}/pause", t(&a)), &alice, json!({}))
        .await;
    assert_eq!(
        (s, paused["state"].clone()),
        (StatusCode::OK, json!("paused"))
    );
    srv.wait_torrent(&alice, &b, WAIT, is("downloading")).await;
    queue_event(&mut events, &b, "downloading").await;
    srv.wait_torrent(&bob, &c, WAIT, is("queued")).await;

    // Resuming A: it was added first, so it takes the slot back and B waits again.
    let (s, resumed) = srv
        .post(&format!("{}/resume", t(&a)), &alice, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(resumed["state"], "downloading", "{resumed}");
    srv.wait_torrent(&alice, &b, WAIT, is("queued")).await;
    queue_event(&mut events, &b, "queued").await;

    // Priority comes before age: C (bob's) high runs; then low, and A runs again.
    let priority = |ih: String, p: &'static str| {
        let srv = &srv;
        let bob = &bob;
        async move {
            srv.call(
                Method::PUT,
                &format!("/api/torrents/{ih}/priority"),
                Some(bob),
                Some(json!({ "priority": p })),
            )
            .await
        }
    };
    let (s, high) = priority(c.clone(), "high").await;
    assert_eq!(
        (s, high["state"].clone()),
        (StatusCode::OK, json!("downloading"))
    );
    srv.wait_torrent(&alice, &a, WAIT, is("queued")).await;
    queue_event(&mut events, &a, "queued").await;
    let (_, low) = priority(c.clone(), "low").await;
    assert_eq!(low["state"], "queued", "{low}");
    srv.wait_torrent(&alice, &a, WAIT, is("downloading")).await;

    // Removing A frees the slot for B.
    let (s, _) = srv.call(Method::DELETE, &t(&a), Some(&alice), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    srv.wait_torrent(&alice, &b, WAIT, is("downloading")).await;
    srv.wait_torrent(&bob, &c, WAIT, is("queued")).await;

    // Added paused: the owner's pause, not the queue's.
    let (td, d) = dummy_torrent(85);
    let (s, _) = srv
        .upload(&alice, &td, &[("paused", "true"), ("priority", "high")])
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let pd = srv
        .wait_torrent(&alice, &d, WAIT, |t| t["state"] != "checking")
        .await;
    assert_eq!(pd["state"], "paused", "{pd}");
    srv.wait_torrent(&alice, &b, WAIT, is("downloading")).await;

    // A restart brings the queue back: D (high, resumed now) runs, B and C wait.
    srv.post(&format!("{}/resume", t(&d)), &alice, json!({}))
        .await;
    srv.wait_torrent(&alice, &d, WAIT, is("downloading")).await;
    srv.wait_torrent(&alice, &b, WAIT, is("queued")).await;
    let srv = srv.restart().await;
    let alice = srv.login("alice", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = srv.login("bob", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    srv.wait_torrent(&alice, &d, WAIT, is("downloading")).await;
    srv.wait_torrent(&alice, &b, WAIT, is("queued")).await;
    srv.wait_torrent(&bob, &c, WAIT, is("queued")).await;
    srv.wait_torrent(&alice, &s_ih, WAIT, is("seeding")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cap_nothing_is_queued() {
    let srv = Server::start(Backend::Sqlite).await;
    let tok = srv.user("admin").await;
    let mut hashes = Vec::new();
    for seed in 91..94 {
        let (t, ih) = dummy_torrent(seed);
        assert_eq!(srv.upload(&tok, &t, &[]).await.0, StatusCode::CREATED);
        hashes.push(ih);
    }
    for ih in &hashes {
        srv.wait_torrent(&tok, ih, WAIT, is("downloading")).await;
    }
}
