//! Every event kind a server publishes reaches Kafka with the documented envelope, the same
//! data as its SSE stream, keyed by info-hash and in order per torrent.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::broker::Broker;
use crate::sse::{Msg, Reader as Sse};
use crate::support::*;
use crate::*;

// `torrent:error` is left out: a folder where the file should be did not make the engine fail
// here (the torrent is still uploaded, and whatever it causes must match Kafka below).
const KINDS: [&str; 9] = [
    "torrent:added",
    "torrent:progress",
    "torrent:piece",
    "torrent:complete",
    "torrent:seeding",
    "torrent:removed",
    "queue:updated",
    "chat:message",
    "notification",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_kind_arrives_in_order_per_torrent_with_the_documented_payload() {
    let broker = Broker::start();
    let prefix = prefix();
    broker.prepare_topics(&prefix);
    let seeder = Server::start(Backend::Sqlite).await;
    let srv = Server::start_with(
        kafka_options(Backend::Sqlite, &broker.bootstrap(), &prefix, "leecher")
            .env("PROGRESS_INTERVAL_MS", "300"),
    )
    .await;
    let st = seeder.user("admin").await;
    let token = srv.user("admin").await;
    wait_health(&srv, &token, "kafka ok", Duration::from_secs(30), |h| {
        h["kafka"]["ok"] == true && h["status"] == "ok"
    })
    .await;
    let (_, me) = srv.get("/api/users/me", &token).await;
    let my_id = me["id"].as_i64().unwrap();
    let mut sse = Sse::open(&srv.base, &token, None).await;

    // A real transfer from the seeder: added, queue updates, pieces, progress, complete,
    // seeding and notifications.
    let data = seeder.downloads().join("k.bin");
    write_random(&data, 4 << 20, 5);
    let (torrent, ih) = make_torrent(&data, Some(16384));
    assert_eq!(
        seeder.upload(&st, &torrent, &[]).await.0,
        StatusCode::CREATED
    );
    seeder
        .wait_torrent(&st, &ih, 60, |t| t["state"] == "seeding")
        .await;
    let (_, h) = health(&seeder, &st).await;
    let peer = h["peerListener"]["detail"].as_str().unwrap().to_owned();
    let (s, b) = srv
        .upload(&token, &torrent, &[("paused", "true"), ("peers", &peer)])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let t = format!("/api/torrents/{ih}");
    srv.call(
        Method::PUT,
        &format!("{t}/priority"),
        Some(&token),
        Some(json!({ "priority": "high" })),
    )
    .await;
    srv.post(&format!("{t}/resume"), &token, json!({})).await;
    srv.wait_torrent(&token, &ih, 120, |t| t["state"] == "seeding")
        .await;

    // A torrent whose file cannot be opened (a folder stands where the file should be).
    let (bad, bad_ih) = dummy_torrent(77);
    std::fs::create_dir_all(srv.downloads().join("dummy-77.bin/x")).unwrap();
    assert_eq!(srv.upload(&token, &bad, &[]).await.0, StatusCode::CREATED);

    chat(&srv, &token, "hello kafka").await;
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/torrents/{bad_ih}"),
            Some(&token),
            None,
        )
        .await;
    assert!(s.is_success());

    // The SSE stream is the reference: everything it showed must be in Kafka.
    let mut shown: Vec<Msg> = Vec::new();
    loop {
        let m = sse
            .next(Duration::from_secs(60))
            .await
            .unwrap_or_else(|| panic!("stream stalled after {shown:?}\n{}", srv.logs()));
        let last = m.event == "torrent:removed" && m.data["infoHash"] == bad_ih.as_str();
        shown.push(m);
        if last {
            break;
        }
    }
    let shown: Vec<&Msg> = shown.iter().filter(|m| m.event != "resync").collect();
    let names: BTreeSet<&str> = shown.iter().map(|m| m.event.as_str()).collect();
    for kind in KINDS {
        assert!(
            names.contains(kind),
            "the test never caused {kind}: {names:?}"
        );
    }
    let ids: BTreeSet<u64> = shown
        .iter()
        .map(|m| m.id.as_deref().unwrap().parse().unwrap())
        .collect();

    let mut kafka = Reader::new(&broker.bootstrap(), &prefix);
    kafka
        .until(
            Duration::from_secs(60),
            "every event of the stream",
            |got| {
                let have: BTreeSet<u64> = got.iter().filter_map(|g| g.env["id"].as_u64()).collect();
                ids.is_subset(&have)
            },
        )
        .await;
    kafka.settle(Duration::from_millis(500)).await;

    let mut seen_ids = BTreeSet::new();
    for g in &kafka.got {
        let id = g.env["id"].as_u64().expect("numeric id");
        assert!(
            seen_ids.insert(id),
            "event {id} delivered twice: {:?}",
            g.env
        );
    }
    for m in &shown {
        let id: u64 = m.id.as_deref().unwrap().parse().unwrap();
        let g = kafka.got.iter().find(|g| g.env["id"] == id).unwrap();
        let env = &g.env;
        assert_eq!(env["schemaVersion"], 1);
        assert_eq!(env["event"], m.event.as_str());
        assert_eq!(env["server"], "leecher");
        assert_eq!(env["data"], m.data, "Kafka carries the SSE payload");
        assert!(env["timeMs"].as_u64().unwrap() > 1_700_000_000_000);
        let (topic, key, owner, private) = match m.event.as_str() {
            "chat:message" => ("chat", "chat".to_owned(), Value::Null, false),
            "notification" => ("notifications", my_id.to_string(), json!(my_id), true),
            _ => (
                "torrents",
                m.data["infoHash"].as_str().unwrap().to_owned(),
                json!(my_id),
                false,
            ),
        };
        assert_eq!(g.topic, format!("{prefix}{topic}"), "{env}");
        assert_eq!(g.key, key, "{env}");
        assert_eq!(env["owner"], owner, "{env}");
        assert_eq!(env["private"], private, "{env}");
    }

    // Per torrent: one partition, ids in the order they were published.
    let mut per_key: BTreeMap<&str, Vec<(i32, u64)>> = BTreeMap::new();
    for g in kafka.got.iter().filter(|g| g.topic.ends_with("torrents")) {
        per_key
            .entry(g.key.as_str())
            .or_default()
            .push((g.partition, g.env["id"].as_u64().unwrap()));
    }
    assert!(per_key.contains_key(ih.as_str()) && per_key.contains_key(bad_ih.as_str()));
    for (key, list) in &per_key {
        let parts: BTreeSet<i32> = list.iter().map(|(p, _)| *p).collect();
        assert_eq!(parts.len(), 1, "{key} spread over partitions {parts:?}");
        assert!(
            list.windows(2).all(|w| w[0].1 < w[1].1),
            "{key}'s events out of order: {list:?}"
        );
    }
    assert!(per_key[ih.as_str()].len() > 5, "{:?}", per_key[ih.as_str()]);

    assert!(metric(&srv, &token, "torrentedge_kafka_sent_total").await >= shown.len() as i64);
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_failed_total").await,
        0
    );
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_dropped_total").await,
        0
    );
    assert_eq!(metric(&srv, &token, "torrentedge_kafka_up").await, 1);
}
