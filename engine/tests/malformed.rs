//! Hostile input: raw TCP "peers" written here (tokio, 127.0.0.1) that send
//! garbage handshakes, oversized length prefixes, bad bitfields and
//! out-of-range requests, and fake HTTP trackers that answer garbage. The
//! engine must not panic, must drop each bad peer, and must still complete
//! the download from an honest libtorrent seeder.
//!
//! `scripts/in-netns.sh cargo test -p engine --test malformed`

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use engine::events::Event;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const DROP_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------
// Panics anywhere outside the tests' own code (engine tasks included) are
// counted; every test asserts the count stayed zero.

static ENGINE_PANICS: AtomicUsize = AtomicUsize::new(0);
static PANIC_MSGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn install_panic_counter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info
                .location()
                .map(|l| l.file().to_string())
                .unwrap_or_default();
            if !file.contains("tests/") {
                ENGINE_PANICS.fetch_add(1, Ordering::SeqCst);
                PANIC_MSGS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(info.to_string());
            }
            default(info);
        }));
    });
}

fn assert_no_engine_panic() {
    let n = ENGINE_PANICS.load(Ordering::SeqCst);
    assert_eq!(
        n,
        0,
        "the engine panicked {n} time(s): {:?}",
        PANIC_MSGS.lock().unwrap_or_else(|e| e.into_inner())
    );
}

// ---------------------------------------------------------------------------
// Raw wire bits

const PSTR: &[u8] = b"\x13BitTorrent protocol";

fn handshake(ih: &[u8; 20]) -> Vec<u8> {
    let mut v = PSTR.to_vec();
    v.extend_from_slice(&[0u8; 8]);
    v.extend_from_slice(ih);
    v.extend_from_slice(b"-XX0001-evilpeer0001");
    v
}

fn msg(id: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 1) as u32).to_be_bytes().to_vec();
    v.push(id);
    v.extend_from_slice(payload);
    v
}

fn request_msg(index: u32, begin: u32, len: u32) -> Vec<u8> {
    let mut p = index.to_be_bytes().to_vec();
    p.extend_from_slice(&begin.to_be_bytes());
    p.extend_from_slice(&len.to_be_bytes());
    msg(6, &p)
}

/// What a bad peer does once a connection is up.
#[derive(Clone, Copy, Debug)]
enum Evil {
    /// 68 bytes of noise instead of a handshake.
    GarbageHandshake,
    /// A well-formed handshake for another torrent.
    WrongInfoHash,
    /// Handshake, then a length prefix of ~4 GiB.
    OversizedLength,
    /// Handshake, then a bitfield one byte too long.
    BitfieldTooLong,
    /// Handshake, then a bitfield with spare (past-the-end) bits set.
    BitfieldSpareBits,
    /// Handshake, a have for a piece that does not exist.
    HaveOutOfRange,
    /// Handshake, interested, then 300 requests for a missing piece index,
    /// a huge block, an offset past the piece.
    RequestsOutOfRange,
    /// Handshake, then an unknown-length stream of random messages.
    RandomMessages,
}

const ALL_EVIL: [Evil; 8] = [
    Evil::GarbageHandshake,
    Evil::WrongInfoHash,
    Evil::OversizedLength,
    Evil::BitfieldTooLong,
    Evil::BitfieldSpareBits,
    Evil::HaveOutOfRange,
    Evil::RequestsOutOfRange,
    Evil::RandomMessages,
];

fn evil_bytes(evil: Evil, ih: &[u8; 20], num_pieces: u32) -> Vec<u8> {
    let nbytes = (num_pieces as usize).div_ceil(8);
    let mut v = Vec::new();
    match evil {
        Evil::GarbageHandshake => return random_bytes(68, 7),
        Evil::WrongInfoHash => return handshake(&[0x42; 20]),
        _ => v.extend_from_slice(&handshake(ih)),
    }
    match evil {
        Evil::OversizedLength => {
            v.extend_from_slice(&0xffff_fff0u32.to_be_bytes());
            v.push(7);
            v.extend_from_slice(&random_bytes(1000, 8));
        }
        Evil::BitfieldTooLong => v.extend_from_slice(&msg(5, &vec![0xff; nbytes + 1])),
        Evil::BitfieldSpareBits => {
            assert!(
                !num_pieces.is_multiple_of(8),
                "needs a piece count that leaves spare bits"
            );
            v.extend_from_slice(&msg(5, &vec![0xff; nbytes]));
        }
        Evil::HaveOutOfRange => v.extend_from_slice(&msg(4, &(num_pieces + 1000).to_be_bytes())),
        Evil::RequestsOutOfRange => {
            // A stream of requests no torrent could satisfy (piece index past
            // the end, a 16 MiB block, an offset past the piece), far more
            // than any slack a client gives for requests racing a choke.
            v.extend_from_slice(&msg(2, &[]));
            for i in 0..100 {
                v.extend_from_slice(&request_msg(num_pieces + 5 + i, 0, 16384));
                v.extend_from_slice(&request_msg(0, 0, 1 << 24));
                v.extend_from_slice(&request_msg(1, u32::MAX - 10, 16384));
            }
        }
        Evil::RandomMessages => {
            for i in 0..50u64 {
                let body = random_bytes(1 + (i as usize * 37) % 300, 100 + i);
                v.extend_from_slice(&msg(body[0] % 25, &body[1..]));
            }
        }
        Evil::GarbageHandshake | Evil::WrongInfoHash => unreachable!(),
    }
    v
}

/// Outcome of one bad connection: how long the engine took to drop it.
type Verdicts = Arc<Mutex<Vec<(Evil, &'static str, Result<Duration, String>)>>>;

/// Reads until the engine closes the connection; Err if it stays open.
async fn wait_closed(sock: &mut TcpStream) -> Result<Duration, String> {
    let start = Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at((start + DROP_TIMEOUT).into(), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(start.elapsed()),
            Ok(Ok(_)) => continue,
            Err(_) => return Err(format!("still open after {DROP_TIMEOUT:?}")),
        }
    }
}

/// A listening bad peer: the engine dials it, sends its handshake, gets `evil`.
async fn listening_evil_peer(evil: Evil, num_pieces: u32, verdicts: Verdicts) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind evil peer");
    let addr = listener.local_addr().expect("evil addr");
    tokio::spawn(async move {
        let verdict = match tokio::time::timeout(DROP_TIMEOUT, listener.accept()).await {
            Err(_) => Err("the engine never dialled this peer".to_string()),
            Ok(Err(e)) => Err(format!("accept: {e}")),
            Ok(Ok((mut sock, _))) => {
                let mut hs = [0u8; 68];
                match tokio::time::timeout(DROP_TIMEOUT, sock.read_exact(&mut hs)).await {
                    Ok(Ok(_)) if &hs[..20] == PSTR => {
                        let ih: [u8; 20] = hs[28..48].try_into().expect("20 bytes");
                        // the peer may already close while we write: that is fine
                        let _ = sock.write_all(&evil_bytes(evil, &ih, num_pieces)).await;
                        wait_closed(&mut sock).await
                    }
                    Ok(Ok(_)) => Err(format!("engine sent a bad handshake: {hs:?}")),
                    Ok(Err(e)) => Err(format!("engine closed before its handshake: {e}")),
                    Err(_) => Err("engine sent no handshake".to_string()),
                }
            }
        };
        verdicts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((evil, "outgoing", verdict));
    });
    addr
}

/// A dialling bad peer: connects to the engine's listener and sends `evil` first.
async fn dial_evil(
    engine: SocketAddr,
    evil: Evil,
    ih: [u8; 20],
    num_pieces: u32,
) -> Result<Duration, String> {
    let mut sock = TcpStream::connect(engine)
        .await
        .map_err(|e| format!("connect to engine: {e}"))?;
    let _ = sock.write_all(&evil_bytes(evil, &ih, num_pieces)).await;
    wait_closed(&mut sock).await
}

fn malformed_fixture(seed: u64) -> Fixture {
    // 13 pieces: the bitfield has 3 spare bits.
    let layout = Layout::single("m.bin", 12 * 256 * 1024 + 999, 256 * 1024);
    assert_eq!(layout.num_pieces(), 13);
    fixture(layout, seed, Maker::Libtorrent, &[])
}

/// The engine dials eight bad peers (one per kind of garbage) and receives
/// eight bad incoming connections; it drops every one, does not panic, and
/// then downloads the torrent from an honest libtorrent seeder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_drops_malformed_peers_and_still_completes() {
    install_panic_counter();
    hard_timeout(TEST_TIMEOUT, "malformed peers", async {
        let fx = malformed_fixture(71);
        let n = fx.layout.num_pieces();
        let verdicts: Verdicts = Arc::default();
        let mut evil_addrs = Vec::new();
        for evil in ALL_EVIL {
            evil_addrs.push(listening_evil_peer(evil, n, verdicts.clone()).await);
        }
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), evil_addrs.clone()).await;
        let ih = h.info_hash();

        // Incoming garbage, concurrently with the outgoing.
        let engine_addr = s.addr();
        let incoming: Vec<_> = ALL_EVIL
            .iter()
            .map(|&evil| {
                tokio::spawn(async move { (evil, dial_evil(engine_addr, evil, ih.0, n).await) })
            })
            .collect();
        for task in incoming {
            let (evil, verdict) = task.await.expect("dialler task");
            verdicts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((evil, "incoming", verdict));
        }
        let deadline = Instant::now() + DROP_TIMEOUT + Duration::from_secs(5);
        while verdicts.lock().unwrap_or_else(|e| e.into_inner()).len() < 2 * ALL_EVIL.len() {
            assert!(Instant::now() < deadline, "bad peers did not all finish");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let v = verdicts.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let kept: Vec<_> = v.iter().filter(|(_, _, r)| r.is_err()).collect();
        assert!(
            kept.is_empty(),
            "the engine did not drop these bad peers: {kept:#?}"
        );
        assert_no_engine_panic();
        assert_eq!(
            h.status().pieces_done,
            0,
            "nothing verified from bad peers: {:?}",
            h.status()
        );

        // Still healthy: the honest seeder brings the whole torrent.
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        h.add_peers(vec![seeder.addr()]);
        s.wait_completed(ih, Duration::from_secs(60)).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        assert_no_engine_panic();
    })
    .await
}

/// Trackers that answer garbage (not bencode, deep nesting, a huge string
/// length, broken compact peers, negative interval): every announce fails
/// cleanly, the engine keeps going and completes from a direct peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_survives_garbage_tracker_replies() {
    install_panic_counter();
    hard_timeout(TEST_TIMEOUT, "garbage trackers", async {
        let fx = malformed_fixture(72);
        let bodies: Vec<Vec<u8>> = vec![
            b"<html><body>502 Bad Gateway</body></html>".to_vec(),
            "l".repeat(100_000).into_bytes(),
            b"d8:intervali1800e5:peers999999999:abc".to_vec(),
            b"d8:intervali1800e5:peers7:\x7f\x00\x00\x01\x1a\xe1\x00e".to_vec(),
            b"d8:intervali-5e5:peersi3ee".to_vec(),
            b"d14:failure reason".to_vec(),
            Vec::new(),
            random_bytes(4096, 9),
        ];
        let mut fakes = Vec::new();
        for body in bodies {
            fakes.push(FakeHttpTracker::start(vec![body]).await);
        }
        let tiers: Vec<Vec<String>> = fakes.iter().map(|f| vec![f.url()]).collect();
        set_trackers(&fx.torrent, &tiers);
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = s.add(&fx.torrent, out.path(), vec![]).await;
        let ih = h.info_hash();
        // Every tier fails, so the round walks all of them and reports an error.
        let ev = s
            .wait_for(
                "a failed announce round",
                Duration::from_secs(40),
                |e| matches!(e, Event::TrackerAnnounced { info_hash, .. } if *info_hash == ih),
            )
            .await;
        assert!(
            matches!(&ev, Event::TrackerAnnounced { result: Err(_), .. }),
            "garbage was accepted as an announce: {ev:?}"
        );
        // The status may trail the event by a moment: poll it briefly.
        let urls: Vec<String> = fakes.iter().map(|f| f.url()).collect();
        let all_failed = |ts: &[engine::tracker::TrackerStatus]| {
            urls.iter().all(|u| {
                ts.iter()
                    .any(|t| t.url == *u && matches!(t.last_result, Some(Err(_))))
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut trackers = h.status().trackers;
        while !all_failed(&trackers) && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            trackers = h.status().trackers;
        }
        for f in &fakes {
            let url = f.url();
            assert!(f.hits() >= 1, "{url} was never asked");
            let t = trackers
                .iter()
                .find(|t| t.url == url)
                .unwrap_or_else(|| panic!("{url} missing from the status: {trackers:?}"));
            assert!(
                matches!(t.last_result, Some(Err(_))),
                "garbage from {url} should show as an error: {t:?}"
            );
        }
        assert_no_engine_panic();
        h.add_peers(vec![seeder.addr()]);
        s.wait_completed(ih, Duration::from_secs(60)).await;
        s.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        assert_no_engine_panic();
    })
    .await
}
