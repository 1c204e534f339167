//! Nostr (`NOSTR_RELAYS`): publishing public torrents as NIP-35 events and searching relays.
//!
//! With a real relay (nostr-rs-relay from crates.io, `make test-nostr` builds it and runs
//! these `#[ignore]`d tests): server A publishes its public torrent (the relay holds the
//! signed event: id, signature and tags checked by asking the relay directly), server B,
//! not federated with A, finds it by a word of its name and downloads it from A through
//! the tracker the event names. Without one (plain `cargo test`): a hostile relay that
//! sends garbage, binary and oversized frames and badly signed events, and a silent one,
//! next to a relay that answers well: the good results come, bad events are dropped, the
//! silent relay does not delay the answer.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use k256::schnorr::{Signature, SigningKey, VerifyingKey};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;

use crate::lt::free_port;
use crate::support::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// NIP-01's id of `e` (as the spec says, independently of the server's code).
fn nip01_id(e: &Value) -> String {
    let ser = serde_json::to_string(&json!([
        0,
        e["pubkey"],
        e["created_at"],
        e["kind"],
        e["tags"],
        e["content"]
    ]))
    .unwrap();
    hex(&Sha256::digest(ser.as_bytes()))
}

/// Checks `e`'s id and BIP-340 signature.
fn verify(e: &Value) -> bool {
    let id = nip01_id(e);
    if e["id"] != id.as_str() {
        return false;
    }
    let pk = VerifyingKey::from_bytes(&unhex(e["pubkey"].as_str().unwrap())).unwrap();
    let sig = Signature::try_from(&unhex(e["sig"].as_str().unwrap())[..]).unwrap();
    pk.verify_raw(&unhex(&id), &sig).is_ok()
}

/// A signed event made by the test.
fn signed(key: &SigningKey, kind: u32, tags: Value, content: &str) -> Value {
    let mut e = json!({ "pubkey": hex(&key.verifying_key().to_bytes()),
        "created_at": 1_700_000_000u64, "kind": kind, "tags": tags, "content": content });
    let id = nip01_id(&e);
    let sig = key.sign_raw(&unhex(&id), &[5u8; 32]).unwrap();
    e["id"] = id.into();
    e["sig"] = hex(&sig.to_bytes()).into();
    e
}

fn torrent_tags(ih: &str, title: &str) -> Value {
    json!([
        ["title", title],
        ["x", ih],
        ["file", title, "1234"],
        ["tracker", "udp://127.0.0.1:9/announce"]
    ])
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn ws_connect(url: &str) -> Ws {
    let addr = url.trim_start_matches("ws://").trim_end_matches('/');
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_tungstenite::client_async(url, tcp).await.unwrap().0
}

/// Asks a relay directly: every event matching `filter` until EOSE.
async fn req(url: &str, filter: Value) -> Vec<Value> {
    let mut ws = ws_connect(url).await;
    ws.send(Message::text(json!(["REQ", "t", filter]).to_string()))
        .await
        .unwrap();
    let mut out = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("the relay answers")
            .unwrap()
            .unwrap();
        let Message::Text(t) = msg else { continue };
        capture(t.as_str());
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        match v[0].as_str() {
            Some("EVENT") => out.push(v[2].clone()),
            Some("EOSE") => return out,
            _ => {}
        }
    }
}

/// With `NOSTR_CAPTURE_DIR` set, keeps what the real relay sent as fuzz seeds
/// (`fuzz/corpus/nostr_relay_message/relay-*` were made so).
fn capture(text: &str) {
    if let Some(dir) = std::env::var_os("NOSTR_CAPTURE_DIR") {
        let name = format!(
            "relay-{}",
            hex(&Sha256::digest(text.as_bytes()))[..12].to_owned()
        );
        let _ = std::fs::write(PathBuf::from(dir).join(name), text);
    }
}

/// What a scripted relay sends after a `REQ` (then `EOSE`, unless told to stay silent).
#[derive(Clone)]
enum Frame {
    Text(String),
    Binary,
    Event(Value),
}

/// A loopback WebSocket relay that answers every `REQ` with `frames` (its subscription id
/// filled in) and then `EOSE`, or never answers when `silent`; returns its URL.
async fn scripted_relay(frames: Vec<Frame>, eose: bool) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((sock, _)) = l.accept().await {
            let frames = frames.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(sock).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    let Message::Text(t) = msg else { continue };
                    let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                        continue;
                    };
                    if v[0] != "REQ" {
                        continue;
                    }
                    let sub = v[1].clone();
                    for f in &frames {
                        let m = match f {
                            Frame::Text(s) => Message::text(s.clone()),
                            Frame::Binary => Message::binary(vec![0u8, 1, 2]),
                            Frame::Event(e) => Message::text(json!(["EVENT", sub, e]).to_string()),
                        };
                        if ws.send(m).await.is_err() {
                            return;
                        }
                    }
                    if eose {
                        let _ = ws
                            .send(Message::text(json!(["EOSE", sub]).to_string()))
                            .await;
                    }
                }
            });
        }
    });
    url
}

fn status_of<'a>(answer: &'a Value, server: &str) -> &'a Value {
    answer["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["server"] == server)
        .unwrap_or_else(|| panic!("no status for {server}: {answer}"))
}

fn source(url: &str) -> String {
    format!("nostr {}/", url.trim_end_matches('/'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_relays_cannot_spoil_or_delay_a_search() {
    let key = SigningKey::from_bytes(&[11u8; 32]).unwrap();
    let good_ih = "ab".repeat(20);
    let good = signed(&key, 2003, torrent_tags(&good_ih, "Ubuntu Desktop ISO"), "");
    // Its id no longer matches: a relay changed the title.
    let mut altered = signed(
        &key,
        2003,
        torrent_tags(&"cd".repeat(20), "Ubuntu evil"),
        "",
    );
    altered["tags"][0][1] = "Ubuntu tampered".into();
    // Right id, a signature by another key.
    let mut forged = signed(
        &key,
        2003,
        torrent_tags(&"ef".repeat(20), "Ubuntu forged"),
        "",
    );
    let other = SigningKey::from_bytes(&[12u8; 32]).unwrap();
    forged["sig"] = hex(&other
        .sign_raw(&unhex(forged["id"].as_str().unwrap()), &[1; 32])
        .unwrap()
        .to_bytes())
    .into();
    // A well signed note that is not a torrent.
    let note = signed(
        &key,
        1,
        json!([["title", "Ubuntu note"], ["x", "12".repeat(20)]]),
        "",
    );
    let well = scripted_relay(vec![Frame::Event(good.clone())], true).await;
    let hostile = scripted_relay(
        vec![
            Frame::Text("not json".into()),
            Frame::Binary,
            Frame::Event(altered),
            Frame::Event(forged),
            Frame::Event(note),
            Frame::Text(json!(["EVENT", "x", {"id": "zz"}]).to_string()),
            Frame::Event(good.clone()),
            // Over the 512 KiB frame limit: the connection ends here.
            Frame::Text(format!("[\"NOTICE\",\"{}\"]", "a".repeat(600 << 10))),
            Frame::Event(signed(
                &key,
                2003,
                torrent_tags(&"99".repeat(20), "Ubuntu late"),
                "",
            )),
        ],
        true,
    )
    .await;
    let silent = scripted_relay(Vec::new(), false).await;
    let timeout_ms = 2000;
    let b = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("NOSTR_RELAYS", &format!("{well},{hostile},{silent}"))
            .env("FEDERATION_TIMEOUT_MS", &timeout_ms.to_string()),
    )
    .await;
    let bob = b.user("bob").await;
    let started = Instant::now();
    let (s, answer) = b.get("/api/search?q=ubuntu", &bob).await;
    let took = started.elapsed();
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert!(
        took < Duration::from_millis(timeout_ms + 1500),
        "the silent relay delayed the answer: {took:?}"
    );
    let results = answer["results"].as_array().unwrap();
    let hashes: Vec<&str> = results
        .iter()
        .map(|r| r["infoHash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes, [good_ih.as_str()], "only the good event: {answer}");
    let holders: Vec<&str> = results[0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["server"].as_str().unwrap())
        .collect();
    assert_eq!(holders, [source(&well), source(&hostile)], "{answer}");
    assert_eq!(
        results[0]["holders"][0]["trackers"],
        json!(["udp://127.0.0.1:9/announce"])
    );
    assert_eq!(
        status_of(&answer, &source(&well))["status"],
        "ok",
        "{answer}"
    );
    let h = status_of(&answer, &source(&hostile));
    assert_eq!(h["results"], 1, "{answer}");
    assert!(
        h["message"]
            .as_str()
            .unwrap()
            .contains("bad events dropped"),
        "{answer}"
    );
    assert_eq!(
        status_of(&answer, &source(&silent))["status"],
        "timeout",
        "{answer}"
    );

    // The admin sees the key and the relays (nothing to publish: no public torrent).
    let (s, info) = b.get("/api/nostr", &bob).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["pubkey"].as_str().unwrap().len(), 64);
    assert!(info["npub"].as_str().unwrap().starts_with("npub1"));
    assert_eq!(info["relays"].as_array().unwrap().len(), 3);
    let carol = b.user("carol").await;
    assert_eq!(b.get("/api/nostr", &carol).await.0, StatusCode::FORBIDDEN);
    // The key file is private to the server's user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(b.data.path().join("data/nostr-key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// A nostr-rs-relay on a loopback port, stopped when dropped.
struct RealRelay {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for RealRelay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn relay_bin() -> PathBuf {
    std::env::var_os("NOSTR_RELAY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/root/.cache/torrentedge/nostr-relay/bin/nostr-rs-relay".into())
}

async fn real_relay() -> RealRelay {
    real_relay_on(free_port()).await
}

async fn real_relay_on(port: u16) -> RealRelay {
    let bin = relay_bin();
    assert!(
        bin.exists(),
        "{} is missing: run make test-nostr",
        bin.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[info]\nrelay_url = \"ws://127.0.0.1:{port}/\"\nname = \"test relay\"\n\
             [database]\nengine = \"sqlite\"\n\
             [network]\naddress = \"127.0.0.1\"\nport = {port}\n\
             [options]\nreject_future_seconds = 1800\n"
        ),
    )
    .unwrap();
    let child = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(Instant::now() < deadline, "the relay did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    RealRelay {
        child,
        url: format!("ws://127.0.0.1:{port}"),
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs nostr-rs-relay: make test-nostr"]
async fn a_public_torrent_goes_through_a_real_relay_to_another_server() {
    let relay = real_relay().await;
    // A second relay that is down when A starts: A keeps retrying (backoff) until it is up.
    let late_port = free_port();
    let late_url = format!("ws://127.0.0.1:{late_port}");
    let a = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("NOSTR_RELAYS", &format!("{},{late_url}", relay.url))
            .env("TRACKER", "true")
            .env("TRACKER_UDP_PORT", "0"),
    )
    .await;
    let alice = a.user("alice").await;
    let name = "Café Ñandú Nostr Report.bin";
    write_random(&a.downloads().join(name), 900_001, 91);
    let res = a
        .req(Method::POST, "/api/torrents/create", Some(&alice))
        .json(
            &json!({ "path": name, "pieceLength": 65536, "builtInTracker": true,
                       "comment": "a report, on Nostr" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let meta = engine::metainfo::Metainfo::from_bytes(&res.bytes().await.unwrap()).unwrap();
    let ih = meta.info_hash.to_hex();
    let announce = meta.trackers[0][0].clone();
    a.wait_torrent(&alice, &ih, 60, |t| t["state"] == "seeding")
        .await;
    let (s, t) = a
        .call(
            Method::PATCH,
            &format!("/api/torrents/{ih}"),
            Some(&alice),
            Some(json!({ "public": true })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");

    // A publishes it: the relay accepts it (A's status says so); the one that is down is
    // reported as such.
    let deadline = Instant::now() + Duration::from_secs(30);
    let info = loop {
        let (_, info) = a.get("/api/nostr", &alice).await;
        if info["relays"][0]["accepted"] == 1 && info["relays"][1]["lastError"].is_string() {
            break info;
        }
        assert!(Instant::now() < deadline, "not published: {info}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let pubkey = info["pubkey"].as_str().unwrap().to_owned();
    assert_eq!(info["events"], 1);
    assert_eq!(info["relays"][0]["lastOk"]["accepted"], true, "{info}");
    assert_eq!(info["relays"][1]["accepted"], 0, "{info}");
    assert_eq!(info["relays"][1]["pending"], 1, "{info}");
    assert!(
        info["relays"][1]["lastError"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot connect"),
        "{info}"
    );
    let late = real_relay_on(late_port).await;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, info) = a.get("/api/nostr", &alice).await;
        if info["relays"][1]["accepted"] == 1 {
            assert_eq!(info["relays"][1]["pending"], 0, "{info}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the late relay never got it: {info}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The relay holds A's signed NIP-35 event.
    let events = req(&relay.url, json!({ "kinds": [2003], "authors": [pubkey] })).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert!(verify(e), "id or signature wrong: {e}");
    assert_eq!(e["id"], info["relays"][0]["lastOk"]["eventId"]);
    assert_eq!(e["content"], "a report, on Nostr");
    let tags = e["tags"].as_array().unwrap();
    let tag = |k: &str| -> Vec<Value> { tags.iter().filter(|t| t[0] == k).cloned().collect() };
    assert_eq!(tag("title"), [json!(["title", name])]);
    assert_eq!(tag("x"), [json!(["x", ih])]);
    assert_eq!(tag("file"), [json!(["file", name, "900001"])]);
    assert_eq!(tag("tracker"), [json!(["tracker", announce])]);

    // B, which knows nothing of A, finds it through the relay by a word of its name.
    let b = Server::start_with(Options::new(Backend::Sqlite).env("NOSTR_RELAYS", &relay.url)).await;
    let bob = b.user("bob").await;
    let (s, answer) = b.get("/api/search?q=nandu%20REPORT", &bob).await;
    assert_eq!(s, StatusCode::OK, "{answer}");
    assert_eq!(
        status_of(&answer, &source(&relay.url))["status"],
        "ok",
        "{answer}"
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{answer}");
    let r = &results[0];
    assert_eq!(r["infoHash"], ih.as_str());
    assert_eq!(r["name"], name);
    assert_eq!(r["totalBytes"], 900_001);
    let h = &r["holders"][0];
    assert_eq!(h["server"], source(&relay.url).as_str());
    assert_eq!(h["trackers"], json!([announce]));

    // Added from the result (a magnet with the tracker), it downloads from A, byte-exact.
    let (s, added) = b
        .post(
            "/api/search/add",
            &bob,
            json!({ "infoHash": ih, "name": r["name"], "trackers": h["trackers"] }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{added}");
    b.wait_torrent(&bob, &ih, 120, |t| t["state"] == "seeding")
        .await;
    assert!(
        std::fs::read(a.downloads().join(name)).unwrap()
            == std::fs::read(b.downloads().join(name)).unwrap(),
        "the downloaded file differs"
    );

    // A restart sends the same event again (the relay keeps one), not a new one.
    let a = a.restart().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, info) = a.get("/api/nostr", &alice).await;
        if info["relays"][0]["accepted"] == 1 && info["relays"][1]["accepted"] == 1 {
            assert_eq!(info["relays"][0]["lastOk"]["eventId"], e["id"], "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "not re-sent: {info}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let again = req(&relay.url, json!({ "kinds": [2003], "authors": [pubkey] })).await;
    assert_eq!(again.len(), 1, "{again:?}");
    let on_late = req(&late.url, json!({ "kinds": [2003], "authors": [pubkey] })).await;
    assert_eq!(on_late.len(), 1, "{on_late:?}");
    assert_eq!(on_late[0]["id"], e["id"]);
}
