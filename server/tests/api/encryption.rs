//! Peer connection encryption (MSE/PE) end to end: `ENCRYPTION` gives the policy, an admin
//! changes it through `/api/settings`, Transmission's `session-set` or qBittorrent's
//! `setPreferences`, the stored value wins after a restart, the peer list says which
//! connections are encrypted (against a libtorrent seeder that refuses plaintext), and
//! `required` transfers both ways with a real qBittorrent that forces encryption.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::lt::{free_port, lt_make_torrent, LtPeer, SeedData};
use crate::qbittorrent::Qbit;
use crate::qbt::Qbt;
use crate::support::*;
use crate::transmission::rpc;

async fn patch(srv: &Server, token: &str, body: Value) -> (StatusCode, Value) {
    send(
        srv.req(Method::PATCH, "/api/settings", Some(token))
            .json(&body),
    )
    .await
}

async fn policy(srv: &Server, token: &str) -> Value {
    srv.get("/api/settings", token).await.1["encryption"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_encryption_setting_over_rest_and_compat_survives_a_restart() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("ENCRYPTION", "required")).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    assert_eq!(policy(&srv, &alice).await, "required", "from ENCRYPTION");

    let (s, _) = patch(&srv, &alice, json!({ "encryption": "disabled" })).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = patch(&srv, &admin, json!({ "encryption": "sometimes" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, got) = patch(&srv, &admin, json!({ "encryption": "disabled" })).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["encryption"], "disabled");

    // Transmission: `tolerated` is its least; `session-set` changes it (admins).
    let (_, got) = rpc(&srv, "admin", json!({ "method": "session-get" })).await;
    assert_eq!(got["arguments"]["encryption"], "tolerated", "{got}");
    let set = json!({ "method": "session-set", "arguments": { "encryption": "required" } });
    let (_, got) = rpc(&srv, "alice", set.clone()).await;
    assert_ne!(got["result"], "success", "{got}");
    let (_, got) = rpc(&srv, "admin", set).await;
    assert_eq!(got["result"], "success", "{got}");
    assert_eq!(policy(&srv, &admin).await, "required");

    // qBittorrent: 0 prefer, 1 force on, 2 force off.
    let q = Qbit::login(&srv, "admin").await;
    assert_eq!(q.json("app/preferences", &[]).await["encryption"], 1);
    let (s, body) = q
        .post("app/setPreferences", &[("json", r#"{"encryption":0}"#)])
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(policy(&srv, &admin).await, "enabled");
    let (s, _) = q
        .post("app/setPreferences", &[("json", r#"{"encryption":7}"#)])
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // The stored choice wins over ENCRYPTION after a restart.
    let srv = srv.restart().await;
    let admin = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(policy(&srv, &admin).await, "enabled", "{}", srv.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_download_shows_in_the_peer_list() {
    const SIZE: usize = 4 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 77), 65536);
    let ih = &seed.ih;
    let torrent = std::fs::read(&seed.torrent_path).unwrap();
    // Slow enough that the connection is seen in the peer list before the download ends.
    let seeder = LtPeer::seed_encrypted_only(&seed.torrent_path, &seed.seed_dir, 1 << 20);

    let srv = Server::start_with(Options::new(Backend::Sqlite).env("ENCRYPTION", "required")).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let (s, body) = srv
        .upload(
            &alice,
            &torrent,
            &[("peers", &format!("127.0.0.1:{}", seeder.port))],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, peers) = srv.get(&format!("/api/torrents/{ih}/peers"), &alice).await;
        assert_eq!(s, StatusCode::OK, "{peers}");
        if let Some(p) = peers.as_array().and_then(|a| a.first()) {
            assert_eq!(p["encrypted"], true, "{p}");
            break;
        }
        assert!(Instant::now() < deadline, "no peer: {}", srv.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = srv
        .wait_torrent(&alice, &seed.ih, 60, |t| t["state"] == "seeding")
        .await;
    assert_eq!(done["bytesDone"], SIZE as u64);
    assert_eq!(
        std::fs::read(srv.user_dir(&alice).await.join("payload.bin")).unwrap(),
        std::fs::read(&seed.source).unwrap()
    );
}

/// `required` against a real qBittorrent 4.5 that forces encryption too (neither side accepts
/// plaintext, so a finished transfer was encrypted): TorrentEdge downloads from it,
/// byte-exact. (The other way: `a_forced_qbittorrent_dials_required_and_downloads` and
/// `..._through_the_tracker` below.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_downloads_from_a_forced_qbittorrent() {
    const SIZE: usize = 3 << 20;
    let work = tempfile::tempdir().unwrap();
    let q = Qbt::start_with("Session\\Encryption=1\n").await;
    assert_eq!(
        q.prefs().await["encryption"],
        1,
        "qBittorrent forces encryption"
    );
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("ENCRYPTION", "required")).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;

    // qBittorrent seeds, TorrentEdge leeches.
    let q_dir = work.path().join("qbt");
    let from_q = q_dir.join("from-qbt.bin");
    write_random(&from_q, SIZE, 91);
    let t1 = work.path().join("from-qbt.torrent");
    let ih1 = lt_make_torrent(&from_q, &t1, 65536);
    let t1 = std::fs::read(&t1).unwrap();
    q.add(&t1, &q_dir).await;
    q.wait_done(60).await;
    let (s, body) = srv
        .upload(&alice, &t1, &[("peers", &format!("127.0.0.1:{}", q.port))])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    srv.wait_torrent(&alice, &ih1, 60, |t| t["state"] == "seeding")
        .await;
    assert!(
        std::fs::read(srv.user_dir(&alice).await.join("from-qbt.bin")).unwrap()
            == std::fs::read(&from_q).unwrap(),
        "the download from qBittorrent differs"
    );
}

const SIZE: usize = 3 << 20;

/// The server (started with `encryption: required`) seeds `SIZE` random bytes from alice's
/// folder, in a torrent announcing to `trackers`; a qBittorrent that forces encryption has the
/// torrent added. Returns (qBittorrent, its download folder, the data, the info-hash).
async fn te_seeds_to_a_forced_qbittorrent(
    srv: &Server,
    alice: &str,
    trackers: Vec<String>,
    work: &Path,
) -> (Qbt, PathBuf, PathBuf, String) {
    assert_eq!(policy(srv, alice).await, "required");
    let source = srv.user_dir(alice).await.join("to-qbt.bin");
    write_random(&source, SIZE, 92);
    let opts = engine::create::CreateOptions {
        trackers: if trackers.is_empty() {
            vec![]
        } else {
            vec![trackers]
        },
        piece_length: Some(65536),
        ..Default::default()
    };
    let torrent = engine::create::create_torrent(&source, &opts, &|_| {}).unwrap();
    let ih = engine::metainfo::Metainfo::from_bytes(&torrent)
        .unwrap()
        .info_hash
        .to_hex();
    let (s, body) = srv.upload(alice, &torrent, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let seeding = srv
        .wait_torrent(alice, &ih, 60, |t| t["state"] == "seeding")
        .await;
    assert_eq!(seeding["bytesDone"], SIZE as u64, "{seeding}");

    let q = Qbt::start_with("Session\\Encryption=1\n").await;
    assert_eq!(
        q.prefs().await["encryption"],
        1,
        "qBittorrent forces encryption"
    );
    let q_dir = work.join("qbt");
    std::fs::create_dir_all(&q_dir).unwrap();
    q.add(&torrent, &q_dir).await;
    (q, q_dir, source, ih)
}

/// qBittorrent's copy is byte-exact and TorrentEdge says it sent it: the connection ends once
/// both are seeds, and its record names qBittorrent and every byte.
async fn assert_qbittorrent_got_it_from_te(
    srv: &Server,
    alice: &str,
    ih: &str,
    q_dir: &Path,
    source: &Path,
) {
    assert!(
        std::fs::read(q_dir.join("to-qbt.bin")).unwrap() == std::fs::read(source).unwrap(),
        "qBittorrent's download from TorrentEdge differs"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, ended) = srv
            .get(&format!("/api/torrents/{ih}/peers/ended"), alice)
            .await;
        assert_eq!(s, StatusCode::OK, "{ended}");
        let sent: u64 = ended
            .as_array()
            .into_iter()
            .flatten()
            .filter(|e| {
                e["client"]
                    .as_str()
                    .is_some_and(|c| c.contains("qBittorrent"))
            })
            .map(|e| e["uploaded"].as_u64().unwrap_or(0))
            .sum();
        if sent >= SIZE as u64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "TorrentEdge records no upload of {SIZE} bytes to qBittorrent: {ended}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `required` the other way: a qBittorrent that forces encryption dials a TorrentEdge seeder
/// whose policy is `required` (told with `addPeers`; nothing tells TorrentEdge about
/// qBittorrent, so qBittorrent opened the connection and TorrentEdge answered its encrypted
/// handshake) and downloads every byte from it, byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_qbittorrent_dials_required_and_downloads() {
    let work = tempfile::tempdir().unwrap();
    let mut opts = Options::new(Backend::Sqlite).env("ENCRYPTION", "required");
    opts.peer_port = free_port();
    let srv = Server::start_with(opts).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let (q, q_dir, source, ih) =
        te_seeds_to_a_forced_qbittorrent(&srv, &alice, vec![], work.path()).await;
    q.add_peer(&ih, &format!("127.0.0.1:{}", srv.opts.peer_port))
        .await;
    q.wait_done(60).await;
    assert_qbittorrent_got_it_from_te(&srv, &alice, &ih, &q_dir, &source).await;
}

/// The same through TorrentEdge's built-in tracker, the only peer source (qBittorrent's DHT,
/// LSD and PEX are off; either side may dial, both learn the other from the tracker).
/// TorrentEdge is the only seeder, so every byte qBittorrent has came from it over an
/// encrypted connection (neither side accepts plaintext).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forced_qbittorrent_downloads_from_required_through_the_tracker() {
    let work = tempfile::tempdir().unwrap();
    let srv = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("ENCRYPTION", "required")
            .env("TRACKER", "true")
            .env("TRACKER_UDP_PORT", "0")
            .env("TRACKER_INTERVAL", "5")
            // Our own torrent announces to us with the SSRF rule in force (its path
            // /announce lets the loopback tracker through).
            .env("ALLOW_LOCAL_TRACKERS", "false"),
    )
    .await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let (s, t) = srv.get("/api/tracker", &alice).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let announce = t["announceUrl"].as_str().unwrap_or_else(|| panic!("{t}"));
    let (q, q_dir, source, ih) =
        te_seeds_to_a_forced_qbittorrent(&srv, &alice, vec![announce.to_owned()], work.path())
            .await;
    q.wait_done(90).await;
    assert_qbittorrent_got_it_from_te(&srv, &alice, &ih, &q_dir, &source).await;
}
