//! `KAFKA_CONSUME=true`: two servers sharing one PostgreSQL and one Kafka each show the
//! other's events on their own stream, once, and do not send them back to Kafka.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::broker::Broker;
use crate::sse::{Msg, Reader as Sse};
use crate::support::*;
use crate::*;

fn consuming(h: &serde_json::Value) -> bool {
    let detail = h["kafka"]["detail"].as_str().unwrap_or("");
    h["kafka"]["ok"] == true && detail.contains("consuming ") && !detail.contains("consuming 0 ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_sharing_postgres_and_kafka_show_each_others_events() {
    let broker = Broker::start();
    let prefix = prefix();
    broker.prepare_topics(&prefix);
    let a = Server::start_with(
        kafka_options(Backend::Postgres, &broker.bootstrap(), &prefix, "server-a")
            .env("KAFKA_CONSUME", "true"),
    )
    .await;
    let b = Server::start_with(
        kafka_options(Backend::Postgres, &broker.bootstrap(), &prefix, "server-b")
            .env("KAFKA_CONSUME", "true")
            .env("DATABASE_URL", &a.database_url),
    )
    .await;
    // One user in the shared database, logged in on both.
    let ta = a.user("admin").await;
    let (s, body) = b.login("admin", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let tb = body["token"].as_str().unwrap().to_owned();
    for (srv, token) in [(&a, &ta), (&b, &tb)] {
        wait_health(srv, token, "consuming", Duration::from_secs(60), consuming).await;
    }
    let mut on_a = Sse::open(&a.base, &ta, None).await;
    let mut on_b = Sse::open(&b.base, &tb, None).await;
    // A relay starts at the newest offset once its partitions are assigned: what is produced
    // before its first fetch is not replayed. Wait until each side sees the other live.
    relayed(&a, &ta, &mut on_b, "a").await;
    relayed(&b, &tb, &mut on_a, "b").await;

    chat(&a, &ta, "from a").await;
    let (torrent, ih) = dummy_torrent(41);
    assert_eq!(
        a.upload(&ta, &torrent, &[("paused", "true")]).await.0,
        StatusCode::CREATED
    );
    chat(&b, &tb, "from b").await;

    // Chat and torrents are different topics: no order between them, each arrives once.
    let seen_b = until_all(&mut on_b, "b", |seen| {
        seen.iter().any(|m| m.data["body"] == "from a")
            && seen
                .iter()
                .any(|m| m.event == "torrent:added" && m.data["infoHash"] == ih.as_str())
    })
    .await;
    let mut seen_a = on_a.drain(Duration::from_secs(3)).await;
    while !seen_a.iter().any(|m| m.data["body"] == "from b") {
        let more = on_a.drain(Duration::from_secs(3)).await;
        assert!(!more.is_empty(), "a never showed b's chat: {seen_a:?}");
        seen_a.extend(more);
    }
    let mut rest_b = on_b.drain(Duration::from_secs(2)).await;
    rest_b.extend(seen_b);
    for (seen, name) in [(&seen_a, "a"), (&rest_b, "b")] {
        for body in ["from a", "from b"] {
            let n = seen.iter().filter(|m| m.data["body"] == body).count();
            assert_eq!(n, 1, "{name} showed {body:?} {n} times: {seen:?}");
        }
        let added = seen
            .iter()
            .filter(|m| m.event == "torrent:added" && m.data["infoHash"] == ih.as_str())
            .count();
        assert_eq!(added, 1, "{name} showed the torrent {added} times");
    }

    // Kafka holds each event once: relayed events are not produced again.
    let mut kafka = Reader::new(&broker.bootstrap(), &prefix);
    kafka
        .until(Duration::from_secs(30), "both chats", |g| {
            g.iter()
                .filter(|g| g.env["event"] == "chat:message" && !warm_up(&g.env))
                .count()
                >= 2
        })
        .await;
    kafka.settle(Duration::from_secs(2)).await;
    let bodies: Vec<String> = kafka
        .chat_bodies()
        .into_iter()
        .filter(|b| !b.starts_with("warm-up"))
        .collect();
    assert_eq!(bodies, vec!["from a", "from b"]);
    let servers: Vec<&str> = kafka
        .got
        .iter()
        .filter(|g| g.env["event"] == "chat:message" && !warm_up(&g.env))
        .map(|g| g.env["server"].as_str().unwrap())
        .collect();
    assert_eq!(servers, vec!["server-a", "server-b"]);
    assert!(metric(&b, &tb, "torrentedge_kafka_consumed_total").await >= 2);
    assert!(metric(&a, &ta, "torrentedge_kafka_consumed_total").await >= 1);
}

/// Chats "warm-up from {name}" on `from` until `to` shows one (30 s at most).
async fn relayed(from: &Server, token: &str, to: &mut Sse, name: &str) {
    let body = format!("warm-up from {name}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        chat(from, token, &body).await;
        let got = to.drain(Duration::from_secs(1)).await;
        if got.iter().any(|m| m.data["body"] == body.as_str()) {
            return;
        }
        assert!(Instant::now() < deadline, "{name}'s events never relayed");
    }
}

/// Reads `sse` until `done(everything read)` (30 s at most).
async fn until_all(sse: &mut Sse, name: &str, done: impl Fn(&[Msg]) -> bool) -> Vec<Msg> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !done(&seen) {
        assert!(
            Instant::now() < deadline,
            "{name} never showed it all: {seen:?}"
        );
        seen.extend(sse.drain(Duration::from_millis(500)).await);
    }
    seen
}

fn warm_up(env: &serde_json::Value) -> bool {
    env["data"]["body"]
        .as_str()
        .is_some_and(|b| b.starts_with("warm-up"))
}
