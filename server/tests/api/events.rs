//! `/api/events`: ids, per-user scoping, Last-Event-ID replay, resync, and the coalesced
//! progress/piece events of a real transfer between two servers.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::sse::{Msg, Reader};
use crate::support::*;

const WAIT: Duration = Duration::from_secs(20);

fn id(m: &Msg) -> u64 {
    m.id.as_deref()
        .expect("every event has an id")
        .parse()
        .expect("numeric id")
}

fn about<'a>(msgs: &'a [Msg], ih: &str) -> Vec<&'a Msg> {
    msgs.iter().filter(|m| m.data["infoHash"] == ih).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_scoped_to_their_owner_and_replayed_after_last_event_id() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let mut a = Reader::open(&srv.base, &alice, None).await;
    let mut b = Reader::open(&srv.base, &bob, None).await;
    let mut root = Reader::open(&srv.base, &admin, None).await;

    let (ta, iha) = dummy_torrent(31);
    let (tb, ihb) = dummy_torrent(32);
    assert_eq!(
        srv.upload(&alice, &ta, &[("paused", "true")]).await.0,
        StatusCode::CREATED
    );
    let seen = a.until("torrent:added", WAIT).await;
    let added = seen.last().unwrap().clone();
    assert_eq!(added.data["infoHash"], iha.as_str());
    assert_eq!(added.data["name"], "dummy-31.bin");
    let first_id = id(&added);

    assert_eq!(
        srv.upload(&bob, &tb, &[("paused", "true")]).await.0,
        StatusCode::CREATED
    );
    let seen_b = b.until("torrent:added", WAIT).await;
    assert_eq!(seen_b.last().unwrap().data["infoHash"], ihb.as_str());
    assert!(
        about(&seen_b, &iha).is_empty(),
        "bob saw alice's events: {seen_b:?}"
    );

    // The admin sees both.
    let mut admin_seen = root.until("torrent:added", WAIT).await;
    while about(&admin_seen, &ihb).is_empty() {
        admin_seen.extend(root.until("torrent:added", WAIT).await);
    }
    assert!(!about(&admin_seen, &iha).is_empty());

    // Alice changes things; bob adds more; then alice reconnects after her first event.
    let t = format!("/api/torrents/{iha}");
    srv.call(
        Method::PUT,
        &format!("{t}/priority"),
        Some(&alice),
        Some(json!({ "priority": "high" })),
    )
    .await;
    srv.post(&format!("{t}/resume"), &alice, json!({})).await;
    srv.post(&format!("/api/torrents/{ihb}/resume"), &bob, json!({}))
        .await;
    let live = a.drain(Duration::from_millis(1500)).await;
    assert!(
        about(&live, &ihb).is_empty(),
        "alice saw bob's events: {live:?}"
    );
    let queue: Vec<&Msg> = live.iter().filter(|m| m.event == "queue:updated").collect();
    assert!(
        queue.iter().any(|m| m.data["priority"] == "high"),
        "{live:?}"
    );

    let mut again = Reader::open(&srv.base, &alice, Some(&first_id.to_string())).await;
    let replayed = again.drain(Duration::from_millis(1500)).await;
    let ids: Vec<u64> = replayed.iter().map(id).collect();
    assert!(!replayed.is_empty(), "nothing replayed");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    assert!(ids[0] > first_id);
    assert!(
        about(&replayed, &ihb).is_empty(),
        "replay leaks bob's events"
    );
    let live_ids: Vec<u64> = live.iter().map(id).collect();
    // What alice saw live is replayed, in order (more may have happened since).
    assert!(ids.len() >= live_ids.len());
    assert_eq!(
        ids[..live_ids.len()],
        live_ids[..],
        "the replay is what alice saw live"
    );
    // After the replay, live events keep coming on the same stream.
    srv.post(&format!("{t}/pause"), &alice, json!({})).await;
    let more = again.until("queue:updated", WAIT).await;
    assert!(id(more.last().unwrap()) > *ids.last().unwrap());

    // Removal is an event too.
    srv.call(Method::DELETE, &t, Some(&alice), None).await;
    let gone = a.until("torrent:removed", WAIT).await;
    assert_eq!(gone.last().unwrap().data["infoHash"], iha.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_event_id_older_than_the_buffer_gets_a_resync() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("EVENT_BUFFER", "3")).await;
    let tok = srv.user("admin").await;
    let mut r = Reader::open(&srv.base, &tok, None).await;
    let (t, ih) = dummy_torrent(41);
    assert_eq!(
        srv.upload(&tok, &t, &[("paused", "true")]).await.0,
        StatusCode::CREATED
    );
    let first = id(r.until("torrent:added", WAIT).await.last().unwrap());
    for p in ["high", "low", "normal", "high", "low"] {
        srv.call(
            Method::PUT,
            &format!("/api/torrents/{ih}/priority"),
            Some(&tok),
            Some(json!({ "priority": p })),
        )
        .await;
    }
    let later = r.drain(Duration::from_millis(800)).await;
    let latest = later.iter().map(id).max().unwrap();
    assert!(latest >= first + 5);

    let mut old = Reader::open(&srv.base, &tok, Some(&first.to_string())).await;
    let m = old.next(WAIT).await.expect("an event");
    assert_eq!(m.event, "resync", "{m:?}");
    assert_eq!(
        id(&m),
        latest,
        "resync carries the newest id to continue from"
    );

    // The last three are still kept: resuming from two before the newest replays two.
    let mut recent = Reader::open(&srv.base, &tok, Some(&(latest - 2).to_string())).await;
    let got = recent.drain(Duration::from_millis(800)).await;
    assert_eq!(
        got.iter().map(id).collect::<Vec<_>>(),
        vec![latest - 1, latest]
    );

    // Nonsense and ids from the future get a resync as well.
    for bad in ["garbage".to_owned(), (latest + 100).to_string()] {
        let mut r = Reader::open(&srv.base, &tok, Some(&bad)).await;
        assert_eq!(r.next(WAIT).await.unwrap().event, "resync", "{bad}");
    }

    // Ids from before a restart are too old.
    let srv = srv.restart().await;
    let tok = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut r = Reader::open(&srv.base, &tok, Some(&latest.to_string())).await;
    assert_eq!(r.next(WAIT).await.unwrap().event, "resync");
}

/// Server A seeds, server B downloads from it: B's owner sees batched piece events,
/// rate-limited progress, then complete and seeding; the bytes arrive intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_between_two_servers_emits_coalesced_progress() {
    let seeder = Server::start(Backend::Sqlite).await;
    let leecher =
        Server::start_with(Options::new(Backend::Sqlite).env("PROGRESS_INTERVAL_MS", "400")).await;
    let st = seeder.user("admin").await;
    let lt = leecher.user("admin").await;

    let data = seeder.downloads().join("big.bin");
    write_random(&data, 12 << 20, 99);
    let (torrent, ih) = make_torrent(&data, Some(16384));
    assert_eq!(
        seeder.upload(&st, &torrent, &[]).await.0,
        StatusCode::CREATED
    );
    seeder
        .wait_torrent(&st, &ih, 60, |t| t["state"] == "seeding")
        .await;
    let (_, health) = seeder
        .call(Method::GET, "/api/health", Some(&st), None)
        .await;
    let peer_addr = health["peerListener"]["detail"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut events = Reader::open(&leecher.base, &lt, None).await;
    let started = Instant::now();
    let (s, body) = leecher
        .upload(&lt, &torrent, &[("peers", &peer_addr)])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");

    let mut pieces = BTreeSet::new();
    let mut piece_events: Vec<Instant> = Vec::new();
    let mut progress_events: Vec<(Instant, f64)> = Vec::new();
    let (mut complete, mut seeding) = (false, false);
    while !(complete && seeding) {
        let m = events
            .next(Duration::from_secs(120))
            .await
            .unwrap_or_else(|| panic!("transfer stalled\n{}", leecher.logs()));
        if m.data["infoHash"] != ih.as_str() {
            continue;
        }
        match m.event.as_str() {
            "torrent:piece" => {
                piece_events.push(Instant::now());
                for p in m.data["pieces"].as_array().unwrap() {
                    assert!(
                        pieces.insert(p.as_u64().unwrap()),
                        "piece {p} reported twice"
                    );
                }
            }
            "torrent:progress" => {
                progress_events.push((Instant::now(), m.data["progress"].as_f64().unwrap()))
            }
            "torrent:complete" => complete = true,
            "torrent:seeding" => seeding = true,
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(
        pieces.len(),
        768,
        "every piece reported once: {}",
        pieces.len()
    );
    // At most one batch per 400 ms, plus one flushed at completion.
    let max = (elapsed.as_millis() / 400) as usize + 2;
    assert!(
        piece_events.len() <= max,
        "{} piece events in {elapsed:?}",
        piece_events.len()
    );
    assert!(piece_events.len() < 100, "pieces are batched");
    for w in progress_events.windows(2) {
        assert!(w[1].1 >= w[0].1, "progress never goes back");
    }
    assert_eq!(
        std::fs::read(leecher.downloads().join("big.bin")).unwrap(),
        std::fs::read(&data).unwrap()
    );
    let t = leecher
        .wait_torrent(&lt, &ih, 10, |t| t["state"] == "seeding")
        .await;
    assert!(t["downloaded"].as_u64().unwrap() >= 12 << 20, "{t}");
}

/// `torrentedge events --follow --count 2`: one JSON line per event from the API, then it
/// exits; a wrong token is an error (401), not an empty stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_command_prints_json_lines() {
    let srv = Server::start(Backend::Sqlite).await;
    let token = srv.user("admin").await;
    let mut cli = std::process::Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(["events", "--follow", "--count", "2", "--url", &srv.base])
        .env("TORRENTEDGE_TOKEN", &token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    srv.wait_event_streams(&token, 1, WAIT).await;
    for body in ["one", "two"] {
        let (s, b) = srv.post("/api/chat", &token, json!({ "body": body })).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(st) = cli.try_wait().unwrap() {
            break st;
        }
        if Instant::now() >= deadline {
            let _ = cli.kill();
            panic!("the command did not exit after two events");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut cli.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "{status}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (line, body) in lines.iter().zip(["one", "two"]) {
        assert_eq!(line["event"], "chat:message", "{line}");
        assert_eq!(line["data"]["body"], body, "{line}");
        assert!(line["id"].as_u64().is_some(), "{line}");
    }
    let base = srv.base.clone();
    let bad = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_torrentedge"))
            .args(["events", "--url", &base, "--token", "nope"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("401"));
}
