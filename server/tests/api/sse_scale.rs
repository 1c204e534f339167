//! 1,008 `/api/events` subscribers at once (16 streams, the most allowed, for each of 63
//! users) while 124 torrents are added, paused and removed: every subscriber receives every
//! event it may see, in order, with none lost (no `resync`), and the server's memory stays
//! bounded.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::sse::{Msg, Reader};
use crate::support::*;

const USERS: usize = 62;
const STREAMS_PER_USER: usize = 16;
const DONE: &str = "every change made";

/// A subscriber's events up to the closing chat message: (id, name, info-hash if any).
type Seen = Vec<(u64, String, Option<String>)>;

async fn collect(mut r: Reader) -> Result<Seen, String> {
    let mut seen = Seen::new();
    loop {
        let Some(Msg { id, event, data }) = r.next(Duration::from_secs(120)).await else {
            return Err(format!(
                "stream ended or stalled after {} events",
                seen.len()
            ));
        };
        if event == "chat:message" && data["body"] == DONE {
            return Ok(seen);
        }
        let id = id.and_then(|i| i.parse().ok()).unwrap_or(0);
        let ih = data["infoHash"].as_str().map(str::to_owned);
        seen.push((id, event, ih));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_get_every_event_in_order() {
    let srv = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("REGISTER_RATE_LIMIT", "1000")
            .env("LOGIN_RATE_LIMIT", "1000"),
    )
    .await;
    let mut tokens = vec![srv.user("admin").await];
    for i in 0..USERS {
        tokens.push(srv.user(&format!("user{i}")).await);
    }
    let rss_before = srv.rss();
    let mut readers = Vec::new();
    for (user, token) in tokens.iter().enumerate() {
        for _ in 0..STREAMS_PER_USER {
            let r = Reader::open(&srv.base, token, None).await;
            readers.push((user, tokio::spawn(collect(r))));
        }
    }

    // Each user adds two magnets, pauses one and removes the other, all users at once.
    let hash = |user: usize, k: usize| format!("{:038x}{user:02x}", k + 1);
    let changes = tokens.iter().enumerate().skip(1).map(|(user, token)| {
        let srv = &srv;
        async move {
            for k in 0..2 {
                let magnet = format!("magnet:?xt=urn:btih:{}", hash(user, k));
                let (s, body) = srv
                    .post("/api/torrents", token, json!({ "magnetURI": magnet }))
                    .await;
                assert_eq!(s, StatusCode::CREATED, "{body}");
            }
            let (a, b) = (hash(user, 0), hash(user, 1));
            let (s, body) = srv
                .call(
                    Method::POST,
                    &format!("/api/torrents/{a}/pause"),
                    Some(token),
                    None,
                )
                .await;
            assert!(s.is_success(), "{body}");
            let (s, body) = srv
                .call(
                    Method::DELETE,
                    &format!("/api/torrents/{b}"),
                    Some(token),
                    None,
                )
                .await;
            assert!(s.is_success(), "{body}");
        }
    });
    futures_util::future::join_all(changes).await;
    let (s, body) = srv
        .post("/api/chat", &tokens[0], json!({ "body": DONE }))
        .await;
    assert!(s.is_success(), "{body}");

    let mut per_user: Vec<Vec<Seen>> = vec![Vec::new(); tokens.len()];
    for (user, task) in readers {
        let seen = task
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("user {user}: {e}"));
        per_user[user].push(seen);
    }
    let rss_after = srv.rss();

    let all: HashSet<String> = (1..tokens.len())
        .flat_map(|u| [hash(u, 0), hash(u, 1)])
        .collect();
    for (user, streams) in per_user.iter().enumerate() {
        let first = &streams[0];
        assert!(
            first.windows(2).all(|w| w[0].0 < w[1].0),
            "user {user}: ids out of order"
        );
        assert!(
            !first.iter().any(|(_, name, _)| name == "resync"),
            "user {user} lost events"
        );
        for (i, s) in streams.iter().enumerate() {
            assert_eq!(s, first, "user {user}: stream {i} differs from stream 0");
        }
        let of = |name: &str| -> HashSet<String> {
            first
                .iter()
                .filter(|(_, n, _)| n == name)
                .filter_map(|(_, _, ih)| ih.clone())
                .collect()
        };
        let (added, removed) = (of("torrent:added"), of("torrent:removed"));
        if user == 0 {
            assert_eq!(added, all, "the admin sees every torrent added");
            assert_eq!(removed.len(), USERS, "and every removal");
        } else {
            let own: HashSet<String> = [hash(user, 0), hash(user, 1)].into();
            assert_eq!(
                added, own,
                "user {user} sees its own additions, no one else's"
            );
            assert_eq!(removed, [hash(user, 1)].into());
        }
    }
    let grown = rss_after.saturating_sub(rss_before);
    eprintln!(
        "1,008 subscribers: server RSS {} MiB before, {} MiB after (+{} MiB)",
        rss_before >> 20,
        rss_after >> 20,
        grown >> 20
    );
    assert!(grown < 256 << 20, "the server grew by {} MiB", grown >> 20);
}
