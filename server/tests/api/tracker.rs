//! The built-in tracker (`TRACKER=1`): a real libtorrent seeder, a real qBittorrent leecher
//! and TorrentEdge itself find each other only through it (DHT, LSD, PEX and UPnP off, no
//! peer given by hand), over HTTP and over UDP; scrape counts match the swarm; malformed
//! announces and garbage datagrams get a `failure reason` or an error packet.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::lt::LtPeer;
use crate::qbt::Qbt;
use crate::support::*;

/// Percent-encodes every byte (what clients do with binary fields).
fn pct(b: &[u8]) -> String {
    b.iter().map(|b| format!("%{b:02x}")).collect()
}

fn hex_bytes(h: &str) -> [u8; 20] {
    let mut out = [0u8; 20];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

async fn tracker_server(env: &[(&str, &str)]) -> Server {
    let mut opts = Options::new(Backend::Sqlite)
        .env("TRACKER", "true")
        .env("TRACKER_UDP_PORT", "0")
        // Our own torrents announce to us with the SSRF rule in force: the path /announce
        // is what lets a loopback tracker through.
        .env("ALLOW_LOCAL_TRACKERS", "false");
    for (k, v) in env {
        opts = opts.env(k, v);
    }
    Server::start_with(opts).await
}

async fn raw_get(srv: &Server, path_and_query: &str) -> Vec<u8> {
    let res = srv.http.get(srv.url(path_and_query)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path_and_query}");
    res.bytes().await.unwrap().to_vec()
}

fn bdecode(b: &[u8]) -> engine::bencode::Value {
    engine::bencode::decode(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

fn failure(b: &[u8]) -> Option<String> {
    bdecode(b)
        .get(b"failure reason")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// (seeders, completed, leechers) from an HTTP scrape.
async fn http_scrape(srv: &Server, ih: &[u8; 20]) -> (i64, i64, i64) {
    let body = raw_get(srv, &format!("/scrape?info_hash={}", pct(ih))).await;
    let v = bdecode(&body);
    let f = v
        .get(b"files")
        .and_then(|f| f.get(ih))
        .unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&body)));
    let n = |k: &[u8]| f.get(k).and_then(|v| v.as_int()).unwrap();
    (n(b"complete"), n(b"downloaded"), n(b"incomplete"))
}

/// A BEP 15 client on loopback.
struct Udp {
    sock: UdpSocket,
}

impl Udp {
    fn new(port: u16) -> Udp {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Udp { sock }
    }

    fn ask(&self, p: &[u8]) -> Vec<u8> {
        self.sock.send(p).unwrap();
        let mut buf = [0u8; 4096];
        let n = self.sock.recv(&mut buf).expect("a reply");
        buf[..n].to_vec()
    }

    fn connect(&self) -> u64 {
        let mut p = 0x0417_2710_1980u64.to_be_bytes().to_vec();
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 7]);
        let r = self.ask(&p);
        assert_eq!(&r[..8], &[0, 0, 0, 0, 0, 0, 0, 7], "{r:?}");
        u64::from_be_bytes(r[8..16].try_into().unwrap())
    }

    /// (seeders, completed, leechers).
    fn scrape(&self, ih: &[u8; 20]) -> (u32, u32, u32) {
        let c = self.connect();
        let mut p = c.to_be_bytes().to_vec();
        p.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 8]);
        p.extend_from_slice(ih);
        let r = self.ask(&p);
        assert_eq!(&r[..8], &[0, 0, 0, 2, 0, 0, 0, 8], "{r:?}");
        let n = |i: usize| u32::from_be_bytes(r[8 + 4 * i..12 + 4 * i].try_into().unwrap());
        (n(0), n(1), n(2))
    }
}

/// A torrent of `size` random bytes announcing only to `announce`: (data file, .torrent
/// bytes and path, info-hash).
fn content(dir: &Path, size: usize, announce: &str) -> (PathBuf, Vec<u8>, PathBuf, String) {
    let seed_dir = dir.join("seed");
    let source = seed_dir.join("shared.bin");
    write_random(&source, size, 1414);
    let opts = engine::create::CreateOptions {
        trackers: vec![vec![announce.to_owned()]],
        piece_length: Some(65536),
        ..Default::default()
    };
    let bytes = engine::create::create_torrent(&source, &opts, &|_| {}).unwrap();
    let ih = engine::metainfo::Metainfo::from_bytes(&bytes)
        .unwrap()
        .info_hash
        .to_hex();
    let path = dir.join("shared.torrent");
    std::fs::write(&path, &bytes).unwrap();
    (source, bytes, path, ih)
}

async fn swarm_through_tracker(udp: bool) {
    const SIZE: usize = 3 << 20;
    let srv = tracker_server(&[
        ("TRACKER_INTERVAL", "5"),
        ("RUST_LOG", "info,sqlx=warn,torrentedge::tracker=trace"),
    ])
    .await;
    let _admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let (s, t) = srv.get("/api/tracker", &alice).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["enabled"], true);
    assert_eq!(t["mode"], "private");
    let key = if udp { "udpAnnounceUrl" } else { "announceUrl" };
    let announce = t[key].as_str().unwrap_or_else(|| panic!("{t}")).to_owned();
    assert!(announce.ends_with("/announce"), "{announce}");

    let work = tempfile::tempdir().unwrap();
    let (source, torrent, torrent_path, ih) = content(work.path(), SIZE, &announce);
    let ih_bytes = hex_bytes(&ih);
    // Private mode: not on this server yet, so refused.
    let refused = raw_get(
        &srv,
        &format!(
            "/announce?info_hash={}&peer_id=-XX0001-abcdefghijkl&port=1",
            pct(&ih_bytes)
        ),
    )
    .await;
    assert_eq!(failure(&refused).as_deref(), Some("unregistered torrent"));

    // TorrentEdge first (no data: a leecher), then the seeder, then qBittorrent: each learns
    // the ones before it from the tracker only.
    let (s, b) = srv.upload(&alice, &torrent, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let _seeder = LtPeer::seed_announcing(&torrent_path, source.parent().unwrap(), 2);
    let started = Instant::now();
    let done = srv
        .wait_torrent(&alice, &ih, 120, |t| t["state"] == "seeding")
        .await;
    eprintln!("TorrentEdge complete after {:?}", started.elapsed());
    assert_eq!(
        std::fs::read(srv.user_dir(&alice).await.join("shared.bin")).unwrap(),
        std::fs::read(&source).unwrap(),
        "{done}"
    );
    let qbt = Qbt::start().await;
    let qdir = work.path().join("qbt");
    std::fs::create_dir_all(&qdir).unwrap();
    qbt.add(&torrent, &qdir).await;
    qbt.wait_done(120).await;
    eprintln!("qBittorrent complete after {:?}", started.elapsed());
    assert_eq!(
        std::fs::read(qdir.join("shared.bin")).unwrap(),
        std::fs::read(&source).unwrap()
    );

    // Three seeders now, two downloads completed (TorrentEdge's and qBittorrent's).
    let deadline = Instant::now() + Duration::from_secs(60);
    let udp_port = t["udpPort"].as_u64().unwrap() as u16;
    loop {
        let http = http_scrape(&srv, &ih_bytes).await;
        let (s, d) = srv.get(&format!("/api/torrents/{ih}"), &alice).await;
        assert_eq!(s, StatusCode::OK);
        let api = &d["builtInTracker"];
        let from_api = (
            api["seeders"].as_i64().unwrap(),
            api["completed"].as_i64().unwrap(),
            api["leechers"].as_i64().unwrap(),
        );
        if http == (3, 2, 0) {
            assert_eq!(from_api, http, "{d}");
            let (s, c, l) = Udp::new(udp_port).scrape(&ih_bytes);
            assert_eq!((s, c, l), (3, 2, 0));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scrape never showed 3 seeders and 2 completed: {http:?}, api {api}\n{}",
            srv.logs()
                .lines()
                .filter(|l| l.contains("tracker announce"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("scrape counts right after {:?}", started.elapsed());
    let (_, stats) = srv.get("/api/tracker", &alice).await;
    assert_eq!(stats["torrents"], 1, "{stats}");
    assert_eq!(stats["peers"], 3, "{stats}");
    assert!(stats["announces"].as_u64().unwrap() >= 3, "{stats}");
}

#[tokio::test]
async fn libtorrent_qbittorrent_and_torrentedge_meet_through_the_http_tracker() {
    swarm_through_tracker(false).await;
}

#[tokio::test]
async fn libtorrent_qbittorrent_and_torrentedge_meet_through_the_udp_tracker() {
    swarm_through_tracker(true).await;
}

#[tokio::test]
async fn malformed_announces_get_a_failure_reason_and_garbage_datagrams_an_error() {
    let srv = tracker_server(&[("TRACKER_MODE", "open"), ("TRACKER_MAX_PEERS", "300")]).await;
    let ih = pct(&[0x11; 20]);
    let pid = "-XX0001-abcdefghijkl";
    for (query, want) in [
        (format!("peer_id={pid}&port=1"), "missing info_hash"),
        (
            format!("info_hash=%11%22&peer_id={pid}&port=1"),
            "invalid info_hash",
        ),
        (format!("info_hash={ih}&port=1"), "missing peer_id"),
        (format!("info_hash={ih}&peer_id={pid}"), "missing port"),
        (
            format!("info_hash={ih}&peer_id={pid}&port=0"),
            "invalid port",
        ),
        (
            format!("info_hash={ih}&peer_id={pid}&port=70000"),
            "invalid port",
        ),
        (
            format!("info_hash={ih}&peer_id={pid}&port=1&event=x"),
            "invalid event",
        ),
        (
            format!("info_hash={ih}&peer_id={pid}&port=1&left=-5"),
            "invalid left",
        ),
    ] {
        let body = raw_get(&srv, &format!("/announce?{query}")).await;
        assert_eq!(failure(&body).as_deref(), Some(want), "{query}");
    }
    let long = raw_get(&srv, &format!("/announce?x={}", "a".repeat(5000))).await;
    assert!(failure(&long).unwrap().contains("longer"));
    let scrape = raw_get(&srv, "/scrape").await;
    assert_eq!(failure(&scrape).as_deref(), Some("missing info_hash"));

    // 250 peers; a huge numwant gets the cap (200), compact, 6 bytes each.
    for i in 0..250u32 {
        let peer = format!("-XX0001-{i:012}");
        let body = raw_get(
            &srv,
            &format!(
                "/announce?info_hash={ih}&peer_id={peer}&port={}&left=1",
                1000 + i
            ),
        )
        .await;
        assert_eq!(failure(&body), None);
    }
    let body = raw_get(
        &srv,
        &format!("/announce?info_hash={ih}&peer_id={pid}&port=9&numwant=99999999999999999999"),
    )
    .await;
    let v = bdecode(&body);
    assert_eq!(
        v.get(b"peers").and_then(|p| p.as_bytes()).unwrap().len(),
        6 * 200
    );
    // Without `left` the announcer counts as a seeder.
    assert_eq!(v.get(b"incomplete").and_then(|p| p.as_int()), Some(250));
    assert_eq!(v.get(b"complete").and_then(|p| p.as_int()), Some(1));
    assert!(v.get(b"interval").is_some() && v.get(b"min interval").is_some());
    // Dictionary peers when asked.
    let body = raw_get(
        &srv,
        &format!("/announce?info_hash={ih}&peer_id={pid}&port=9&compact=0&numwant=2"),
    )
    .await;
    let v = bdecode(&body);
    let peers = v.get(b"peers").and_then(|p| p.as_list()).unwrap();
    assert_eq!(peers.len(), 2);
    assert_eq!(
        peers[0].get(b"ip").and_then(|v| v.as_str()),
        Some("127.0.0.1")
    );
    assert!(peers[0].get(b"peer id").is_some() && peers[0].get(b"port").is_some());
    // Stopped leaves the swarm.
    raw_get(
        &srv,
        &format!("/announce?info_hash={ih}&peer_id={pid}&port=9&event=stopped"),
    )
    .await;
    assert_eq!(http_scrape(&srv, &[0x11; 20]).await, (0, 0, 250));

    // UDP: garbage is dropped or answered with an error packet; the tracker keeps serving.
    let token = srv.user("alice").await;
    let (_, t) = srv.get("/api/tracker", &token).await;
    let udp = Udp::new(t["udpPort"].as_u64().unwrap() as u16);
    udp.sock.send(&[1, 2, 3]).unwrap();
    let mut bad_protocol = 1u64.to_be_bytes().to_vec();
    bad_protocol.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 42]);
    let r = udp.ask(&bad_protocol);
    assert_eq!(
        &r[..8],
        &[0, 0, 0, 3, 0, 0, 0, 42],
        "an error with our transaction"
    );
    let mut forged = 12345u64.to_be_bytes().to_vec();
    forged.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 43]);
    forged.extend_from_slice(&[0x11; 20]);
    forged.extend_from_slice(pid.as_bytes());
    forged.extend_from_slice(&[0; 40]);
    forged.extend_from_slice(&[0x1a, 0xe1]);
    let r = udp.ask(&forged);
    assert_eq!(&r[..8], &[0, 0, 0, 3, 0, 0, 0, 43]);
    assert_eq!(&r[8..], b"invalid connection id");
    let c = udp.connect();
    let mut short = c.to_be_bytes().to_vec();
    short.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 44, 1, 2, 3]);
    assert_eq!(&udp.ask(&short)[8..], b"announce too short");
    let mut big_scrape = c.to_be_bytes().to_vec();
    big_scrape.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 45]);
    big_scrape.extend_from_slice(&[7; 20 * 75]);
    assert_eq!(&udp.ask(&big_scrape)[..4], &[0, 0, 0, 3]);
    let r = udp.ask(&vec![0xff; 4000]);
    assert_eq!(&r[..8], &[0, 0, 0, 3, 255, 255, 255, 255]);
    assert_eq!(&r[8..], b"packet too large");
    // Still alive, and a real announce works.
    let mut ok = c.to_be_bytes().to_vec();
    ok.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 46]);
    ok.extend_from_slice(&[0x11; 20]);
    ok.extend_from_slice(pid.as_bytes());
    ok.extend_from_slice(&[0; 24]);
    ok.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    ok.extend_from_slice(&[0x1a, 0xe1]);
    let r = udp.ask(&ok);
    assert_eq!(&r[..8], &[0, 0, 0, 1, 0, 0, 0, 46], "{r:?}");
    assert_eq!(r.len(), 20 + 6 * 5, "numwant 5");
    assert_eq!(&r[16..20], &1u32.to_be_bytes(), "our seeder counts");
    let (s, _) = srv.get("/api/health", &token).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn passkeys_are_required_when_configured() {
    let srv = tracker_server(&[("TRACKER_MODE", "open"), ("TRACKER_PASSKEYS", "true")]).await;
    let alice = srv.user("alice").await;
    let (_, t) = srv.get("/api/tracker", &alice).await;
    let url = t["announceUrl"].as_str().unwrap().to_owned();
    let key = url
        .split("passkey=")
        .nth(1)
        .expect("a passkey URL")
        .to_owned();
    assert_eq!(key.len(), 32);
    let (_, again) = srv.get("/api/tracker", &alice).await;
    assert_eq!(again["announceUrl"], url.as_str(), "one key per user");
    let q = format!(
        "info_hash={}&peer_id=-XX0001-abcdefghijkl&port=5",
        pct(&[3; 20])
    );
    let without = raw_get(&srv, &format!("/announce?{q}")).await;
    assert_eq!(failure(&without).as_deref(), Some("passkey required"));
    let wrong = raw_get(&srv, &format!("/announce/{}?{q}", "0".repeat(32))).await;
    assert_eq!(failure(&wrong).as_deref(), Some("unknown passkey"));
    for path in [
        format!("/announce/{key}?{q}"),
        format!("/announce?passkey={key}&{q}"),
    ] {
        let ok = raw_get(&srv, &path).await;
        assert_eq!(failure(&ok), None, "{path}");
    }
    // A torrent created with "announce to the built-in tracker" carries the caller's URL
    // (passkey included) and, seeding, announces to it: the server's own engine passes.
    write_random(&srv.downloads().join("made.bin"), 200_000, 5);
    let res = srv
        .req(reqwest::Method::POST, "/api/torrents/create", Some(&alice))
        .json(
            &serde_json::json!({ "path": "made.bin", "builtInTracker": true,
            "trackers": ["http://tracker.invalid/announce"] }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let meta = engine::metainfo::Metainfo::from_bytes(&res.bytes().await.unwrap()).unwrap();
    assert_eq!(meta.trackers[0], std::slice::from_ref(&url), "ours first");
    assert_eq!(meta.trackers[1], ["http://tracker.invalid/announce"]);
    let ih = meta.info_hash.to_hex();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_scrape_with(&srv, &hex_bytes(&ih), &key).await != (1, 0, 0) {
        assert!(Instant::now() < deadline, "{}", srv.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, d) = srv.get(&format!("/api/torrents/{ih}"), &alice).await;
    assert_eq!(d["builtInTracker"]["seeders"], 1, "{d}");

    // The key survives a restart (it is in the database).
    let srv = srv.restart().await;
    let ok = raw_get(&srv, &format!("/announce?passkey={key}&{q}")).await;
    assert_eq!(failure(&ok), None);
}

/// (seeders, completed, leechers) from an HTTP scrape with a passkey in the path.
async fn http_scrape_with(srv: &Server, ih: &[u8; 20], key: &str) -> (i64, i64, i64) {
    let body = raw_get(srv, &format!("/scrape/{key}?info_hash={}", pct(ih))).await;
    let v = bdecode(&body);
    let Some(f) = v.get(b"files").and_then(|f| f.get(ih)) else {
        panic!("{}", String::from_utf8_lossy(&body));
    };
    let n = |k: &[u8]| f.get(k).and_then(|v| v.as_int()).unwrap();
    (n(b"complete"), n(b"downloaded"), n(b"incomplete"))
}
