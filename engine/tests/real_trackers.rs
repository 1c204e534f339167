//! The engine's tracker client against a real tracker (opentracker, HTTP
//! and UDP on 127.0.0.1), BEP 12 tier failover, and the same failover seen
//! through a whole Session.
//!
//! `scripts/in-netns.sh cargo test -p engine --test real_trackers`

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use engine::events::Event;
use engine::tracker::{
    AnnounceEvent, AnnounceRequest, TrackerClient, TrackerConfig, TrackerError, TrackerTiers,
};
use engine::{InfoHash, PeerId};
use support::*;

fn client() -> TrackerClient {
    TrackerClient::new(TrackerConfig {
        timeout: Duration::from_secs(5),
        udp_initial_timeout: Duration::from_secs(1),
        udp_max_retries: 1,
        allow_local: true,
        ..TrackerConfig::default()
    })
    .expect("tracker client")
}

fn request(ih: InfoHash, port: u16, left: u64, event: AnnounceEvent) -> AnnounceRequest {
    AnnounceRequest {
        info_hash: ih,
        peer_id: PeerId::generate(),
        port,
        uploaded: 0,
        downloaded: 0,
        left,
        event,
        num_want: Some(50),
        key: port as u32 * 7919,
        ipv4: None,
        ipv6: None,
    }
}

fn random_ih(seed: u64) -> InfoHash {
    let b = random_bytes(20, seed);
    InfoHash(b.try_into().expect("20 bytes"))
}

/// Two peers announce to opentracker over `url_of`: each one's address comes
/// back in the other's (compact) peer list, re-announcing works, and a
/// `stopped` announce removes the peer.
async fn announce_round_trip(udp: bool) {
    let ih = random_ih(if udp { 2 } else { 1 });
    let tracker = Opentracker::start(&[&ih.to_hex()]);
    let url = if udp {
        tracker.udp_url()
    } else {
        tracker.http_url()
    };
    let c = client();
    let (pa, pb) = (free_port(), free_port());
    let mut ra = request(ih, pa, 1000, AnnounceEvent::Started);
    let mut rb = request(ih, pb, 0, AnnounceEvent::Started);

    let a1 = c
        .announce(&url, &ra)
        .await
        .unwrap_or_else(|e| panic!("first announce to {url}: {e}"));
    assert!(
        a1.interval >= Duration::from_secs(30),
        "interval {:?} (opentracker says ~30 min)",
        a1.interval
    );
    assert!(
        !a1.peers.contains(&local(pb)),
        "peer B has not announced yet but is listed: {:?}",
        a1.peers
    );
    let b1 = c
        .announce(&url, &rb)
        .await
        .unwrap_or_else(|e| panic!("announce B to {url}: {e}"));
    assert!(
        b1.peers.contains(&local(pa)),
        "B's peer list lacks A ({}): {:?}",
        local(pa),
        b1.peers
    );
    assert!(
        b1.peers.iter().all(|p: &SocketAddr| p.ip().is_loopback()),
        "{:?}",
        b1.peers
    );
    assert!(b1.peers.len() <= 2, "only A and B exist: {:?}", b1.peers);

    // Re-announce (no event): A now sees B, a seeder (left = 0).
    ra.event = AnnounceEvent::None;
    let a2 = c
        .announce(&url, &ra)
        .await
        .unwrap_or_else(|e| panic!("re-announce to {url}: {e}"));
    assert!(
        a2.peers.contains(&local(pb)),
        "A's re-announce lacks B: {:?}",
        a2.peers
    );
    assert_eq!(a2.seeders, Some(1), "B is the one seeder: {a2:?}");
    assert_eq!(a2.leechers, Some(1), "A is the one leecher: {a2:?}");

    // B stops: A's next announce no longer lists it.
    rb.event = AnnounceEvent::Stopped;
    c.announce(&url, &rb)
        .await
        .unwrap_or_else(|e| panic!("stopped announce to {url}: {e}"));
    let a3 = c
        .announce(&url, &ra)
        .await
        .unwrap_or_else(|e| panic!("announce after stop to {url}: {e}"));
    assert!(
        !a3.peers.contains(&local(pb)),
        "B stopped but is still listed: {:?}",
        a3.peers
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentracker_http_announce_and_reannounce() {
    hard_timeout(
        Duration::from_secs(60),
        "HTTP announces",
        announce_round_trip(false),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentracker_udp_announce_and_reannounce() {
    hard_timeout(
        Duration::from_secs(60),
        "UDP announces",
        announce_round_trip(true),
    )
    .await
}

/// A tracker's refusal is an error: over HTTP opentracker refuses a hash
/// that is not on its whitelist with a `failure reason`, which must come back
/// as `TrackerError::Failure` carrying it. Over UDP opentracker answers such
/// an announce with a truncated 8-byte reply (its quirk): an error too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opentracker_refusal_is_an_error() {
    hard_timeout(Duration::from_secs(60), "refusal", async {
        let tracker = Opentracker::start(&[&random_ih(3).to_hex()]);
        let c = client();
        let req = request(random_ih(4), free_port(), 10, AnnounceEvent::Started);
        match c.announce(&tracker.http_url(), &req).await {
            Err(TrackerError::Failure(reason)) => {
                assert!(
                    reason.contains("not authorized"),
                    "unexpected reason {reason:?}"
                )
            }
            other => panic!("HTTP: expected a tracker failure, got {other:?}"),
        }
        let udp = c.announce(&tracker.udp_url(), &req).await;
        assert!(
            udp.is_err(),
            "UDP: a refused announce was taken as a success: {udp:?}"
        );
    })
    .await
}

/// The HTTP announce asks for compact peers with every BEP 3 parameter, and
/// a BEP 23 compact reply is decoded exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_announce_requests_and_parses_compact_peers() {
    hard_timeout(Duration::from_secs(30), "compact HTTP", async {
        let mut body = b"d8:completei3e10:incompletei4e8:intervali1800e5:peers12:".to_vec();
        body.extend_from_slice(&[127, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 2, 0xff, 0xfe]);
        body.push(b'e');
        let fake = FakeHttpTracker::start(vec![body]).await;
        let ih = random_ih(5);
        let mut req = request(ih, 6882, 12345, AnnounceEvent::Started);
        req.peer_id = PeerId(*b"-TE0100-abcdefghijkl");
        let r = client()
            .announce(&fake.url(), &req)
            .await
            .expect("announce to fake tracker");
        assert_eq!(
            r.peers,
            vec![
                "127.0.0.1:6881".parse().unwrap(),
                "127.0.0.2:65534".parse().unwrap()
            ]
        );
        assert_eq!(r.interval, Duration::from_secs(1800));
        assert_eq!((r.seeders, r.leechers), (Some(3), Some(4)));
        let reqs = fake.requests();
        assert_eq!(reqs.len(), 1, "{reqs:?}");
        let line = reqs[0].lines().next().unwrap_or_default().to_string();
        assert!(line.starts_with("GET /announce?"), "{line}");
        for want in [
            "compact=1".to_string(),
            format!("info_hash={}", ih.url_encode()),
            "peer_id=-TE0100-abcdefghijkl".to_string(),
            "port=6882".to_string(),
            "left=12345".to_string(),
            "uploaded=0".to_string(),
            "downloaded=0".to_string(),
            "event=started".to_string(),
        ] {
            assert!(line.contains(&want), "request lacks `{want}`: {line}");
        }
    })
    .await
}

/// BEP 12: the first tier's only tracker is dead (connection refused), the
/// second tier's is live: the announce succeeds there, and the status shows
/// the dead one's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_fail_over_from_dead_tracker_to_live_one() {
    hard_timeout(Duration::from_secs(60), "tier failover", async {
        let ih = random_ih(6);
        let tracker = Opentracker::start(&[&ih.to_hex()]);
        let dead = format!("http://127.0.0.1:{}/announce", dead_port());
        let dead_udp = format!("udp://127.0.0.1:{}/announce", dead_port());
        let c = client();
        for live in [tracker.http_url(), tracker.udp_url()] {
            let mut tiers = TrackerTiers::new(vec![
                vec![dead.clone()],
                vec![dead_udp.clone(), live.clone()],
            ]);
            let req = request(ih, free_port(), 5, AnnounceEvent::Started);
            let (used, resp) = tiers
                .announce(&c, &req)
                .await
                .unwrap_or_else(|e| panic!("no tier worked: {e}"));
            assert_eq!(
                used, live,
                "announce should have landed on the live tracker"
            );
            assert!(resp.interval >= Duration::from_secs(30), "{resp:?}");
            let st = tiers.status();
            let dead_st = st
                .iter()
                .find(|t| t.url == dead)
                .expect("dead tracker in status");
            assert!(
                matches!(dead_st.last_result, Some(Err(_))),
                "dead tracker should show an error: {dead_st:?}"
            );
            let live_st = st
                .iter()
                .find(|t| t.url == live)
                .expect("live tracker in status");
            assert!(
                matches!(live_st.last_result, Some(Ok(_))),
                "live tracker should show success: {live_st:?}"
            );
            assert_eq!(live_st.tier, 1, "{live_st:?}");
        }
    })
    .await
}

/// The same failover through a Session: a torrent whose first tier is dead
/// still finds the libtorrent seeder through the second tier's tracker and
/// completes; the dead tracker's announce is reported as failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_fails_over_to_live_tier_and_downloads() {
    hard_timeout(TEST_TIMEOUT, "session tier failover", async {
        let layout = Layout::single("tiers.bin", 2 * MIB + 1, 128 * 1024);
        let dir = temp_dir("src");
        let src = dir.path().join("data");
        layout.write(&src, 61);
        let torrent = dir.path().join("tiers.torrent");
        let ih_hex = lt_make_torrent(&layout.root_in(&src), &torrent, layout.piece_size, &[]);
        let tracker = Opentracker::start(&[&ih_hex]);
        let dead = format!("http://127.0.0.1:{}/announce", dead_port());
        set_trackers(&torrent, &[vec![dead.clone()], vec![tracker.udp_url()]]);
        let _seeder = LtPeer::seed(
            &torrent,
            &src,
            LtOpts {
                tracker: Some(tracker.udp_url()),
                ..Default::default()
            },
        );
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&torrent, out.path(), vec![]).await;
        s.wait_completed(h.info_hash(), Duration::from_secs(60))
            .await;
        let live = tracker.udp_url();
        // One TrackerAnnounced per announce round: the tracker that answered.
        assert!(
            s.seen.iter().any(
                |e| matches!(e, Event::TrackerAnnounced { url, result: Ok(_), .. } if *url == live)
            ),
            "no successful announce reported for the live tracker"
        );
        // Per-tracker results are in the status.
        let trackers = h.status().trackers;
        let d = trackers.iter().find(|t| t.url == dead);
        let d = d.unwrap_or_else(|| panic!("dead tracker missing: {trackers:?}"));
        assert!(
            matches!(d.last_result, Some(Err(_))),
            "dead tracker should show its error: {d:?}"
        );
        let l = trackers.iter().find(|t| t.url == live);
        let l = l.unwrap_or_else(|| panic!("live tracker missing: {trackers:?}"));
        assert!(
            matches!(l.last_result, Some(Ok(_))),
            "live tracker should show success: {l:?}"
        );
        assert_eq!((d.tier, l.tier), (0, 1), "{trackers:?}");
        s.shutdown().await;
        assert_same_tree(&layout.root_in(&src), &layout.root_in(out.path()));
    })
    .await
}
