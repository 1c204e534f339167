//! Two sessions on 127.0.0.1 in one process: one seeds, the other downloads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;
use engine::config::SessionConfig;
use engine::create::{create_torrent, CreateOptions};
use engine::events::Event;
use engine::metainfo::Metainfo;
use engine::session::{AddTorrentOptions, Session, TorrentHandle};
use engine::status::TorrentState;
use engine::wire::extended::ExtHandshake;
use engine::wire::{
    read_handshake, write_handshake, BlockRequest, Codec, Handshake, Message, BLOCK_SIZE,
    DEFAULT_MAX_MESSAGE_LEN,
};
use engine::InfoHash;
use engine::PeerId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::broadcast;

const PIECE: u32 = 64 * 1024;
/// A file smaller than a piece, one spanning many pieces, one ending in an odd last piece.
const FILES: &[(&str, usize)] = &[
    ("a.bin", 1000),
    ("b.bin", 2_000_000),
    ("sub/c.bin", 1_234_567),
];
const NAME: &str = "multi";

fn file_bytes(seed: usize, len: usize) -> Vec<u8> {
    // Cheap deterministic noise, different per file so misplaced bytes are caught.
    let mut x = (seed as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes the files under `dir/multi/` and returns a torrent made from them.
fn make_torrent(dir: &Path) -> Metainfo {
    for (i, (name, len)) in FILES.iter().enumerate() {
        let path = dir.join(NAME).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, file_bytes(i, *len)).unwrap();
    }
    let opts = CreateOptions {
        piece_length: Some(PIECE),
        ..Default::default()
    };
    let bytes = create_torrent(&dir.join(NAME), &opts, &|_| {}).expect("torrent created");
    Metainfo::from_bytes(&bytes).expect("torrent parses")
}

async fn start_session() -> Session {
    let config = SessionConfig {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        allow_local_trackers: true,
        ..SessionConfig::default()
    };
    Session::start(config).await.expect("session starts")
}

async fn wait_state(h: &TorrentHandle, state: TorrentState) {
    for _ in 0..200 {
        if h.status().state == state {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("torrent never reached {state:?}: {:?}", h.status());
}

/// Waits for `Completed` for `ih`, collecting whether progress events were seen.
async fn wait_completed(rx: &mut broadcast::Receiver<Event>, ih: InfoHash) -> bool {
    let mut saw_verified = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("download finishes in time");
        match ev {
            Ok(Event::PieceVerified { info_hash, .. }) if info_hash == ih => saw_verified = true,
            Ok(Event::Completed { info_hash }) if info_hash == ih => return saw_verified,
            Ok(Event::Error { message, .. }) => panic!("engine error: {message}"),
            Ok(Event::PeerDisconnected { addr, reason, .. }) => {
                eprintln!("peer {addr} gone: {reason}")
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("event bus closed: {e}"),
        }
    }
}

fn assert_same_files(a: &Path, b: &Path) {
    for (name, len) in FILES {
        let p = PathBuf::from(NAME).join(name);
        let x = std::fs::read(a.join(&p)).unwrap();
        let y = std::fs::read(b.join(&p)).unwrap();
        assert_eq!(x.len(), *len, "{name} length");
        assert!(x == y, "{name} differs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leecher_downloads_everything_from_seeder() {
    let seed_dir = tempfile::tempdir().unwrap();
    let leech_dir = tempfile::tempdir().unwrap();
    let meta = make_torrent(seed_dir.path());
    let ih = meta.info_hash;
    let total = meta.total_length;
    let num_pieces = meta.piece_hashes.len() as u32;

    let seeder = start_session().await;
    let opts = AddTorrentOptions {
        save_dir: seed_dir.path().into(),
        ..Default::default()
    };
    let sh = seeder.add_torrent(meta.clone(), opts).await.unwrap();
    wait_state(&sh, TorrentState::Seeding).await;
    assert_eq!(sh.status().bytes_done, total);

    let leecher = start_session().await;
    let mut rx = leecher.subscribe();
    let opts = AddTorrentOptions {
        save_dir: leech_dir.path().into(),
        peers: vec![seeder.local_addr()],
        ..Default::default()
    };
    let lh = leecher.add_torrent(meta, opts).await.unwrap();
    assert!(matches!(
        leecher
            .add_torrent(
                lh.metainfo().unwrap().as_ref().clone(),
                AddTorrentOptions::default()
            )
            .await,
        Err(engine::session::EngineError::AlreadyAdded(_))
    ));
    assert!(
        wait_completed(&mut rx, ih).await,
        "PieceVerified events before Completed"
    );

    assert_same_files(seed_dir.path(), leech_dir.path());
    let st = lh.status();
    assert_eq!(st.state, TorrentState::Seeding);
    assert_eq!(st.bytes_done, total);
    assert_eq!(st.pieces_done, num_pieces);
    assert_eq!(st.num_pieces, num_pieces);
    assert!(
        st.downloaded >= total,
        "downloaded {} < {total}",
        st.downloaded
    );
    assert_eq!(st.files.len(), FILES.len());
    for (f, (_, len)) in st.files.iter().zip(FILES) {
        assert_eq!((f.length, f.bytes_done), (*len as u64, *len as u64));
    }
    assert!(lh.pieces().is_full());
    assert_eq!(leecher.list().len(), 1);

    // The seeder counted what it uploaded once its tick ran.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(sh.status().uploaded >= total);

    leecher.remove(&ih, false).await.unwrap();
    assert!(leecher.get(&ih).is_none());
    leecher.shutdown().await;
    seeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_data_is_kept_and_only_the_rest_downloaded() {
    let seed_dir = tempfile::tempdir().unwrap();
    let leech_dir = tempfile::tempdir().unwrap();
    let meta = make_torrent(seed_dir.path());
    let ih = meta.info_hash;
    let total = meta.total_length;
    // The leecher already has a.bin and b.bin; c.bin is missing.
    make_torrent(leech_dir.path());
    std::fs::remove_file(leech_dir.path().join(NAME).join("sub/c.bin")).unwrap();

    let seeder = start_session().await;
    let opts = AddTorrentOptions {
        save_dir: seed_dir.path().into(),
        ..Default::default()
    };
    let sh = seeder.add_torrent(meta.clone(), opts).await.unwrap();
    wait_state(&sh, TorrentState::Seeding).await;

    let leecher = start_session().await;
    let mut rx = leecher.subscribe();
    // Paused first, so the kept data can be measured before anything downloads.
    let opts = AddTorrentOptions {
        save_dir: leech_dir.path().into(),
        paused: true,
        peers: vec![seeder.local_addr()],
        ..Default::default()
    };
    let lh = leecher.add_torrent(meta, opts).await.unwrap();
    wait_state(&lh, TorrentState::Paused).await;
    let kept = lh.status().bytes_done;
    let full_pieces_in_a_b = (1000 + 2_000_000) / u64::from(PIECE);
    assert_eq!(
        kept,
        full_pieces_in_a_b * u64::from(PIECE),
        "recheck keeps every whole piece of a.bin+b.bin"
    );
    assert_eq!(lh.status().downloaded, 0);

    lh.resume();
    wait_completed(&mut rx, ih).await;
    assert_same_files(seed_dir.path(), leech_dir.path());
    let st = lh.status();
    assert_eq!(st.bytes_done, total);
    assert_eq!(
        st.downloaded,
        total - kept,
        "only the missing pieces travel"
    );
    assert_eq!(st.wasted, 0);

    leecher.shutdown().await;
    seeder.shutdown().await;
}

/// The torrent's byte stream (all files concatenated), as the wire sees it.
fn torrent_bytes() -> Vec<u8> {
    FILES
        .iter()
        .enumerate()
        .flat_map(|(i, (_, len))| file_bytes(i, *len))
        .collect()
}

/// Next framed message from a raw connection, skipping keep-alives; None on EOF.
async fn next_msg(s: &mut TcpStream, codec: &Codec, buf: &mut BytesMut) -> Option<Message> {
    loop {
        match codec.decode(buf).expect("valid framing") {
            Some(Message::KeepAlive) => continue,
            Some(m) => return Some(m),
            None => {}
        }
        let n = tokio::time::timeout(Duration::from_secs(5), s.read_buf(buf))
            .await
            .expect("peer answers in time")
            .ok()?;
        if n == 0 {
            return None;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_peer_is_served_and_abuser_dropped() {
    let seed_dir = tempfile::tempdir().unwrap();
    let meta = make_torrent(seed_dir.path());
    let ih = meta.info_hash;
    let n = meta.piece_hashes.len() as u32;
    let last_len = (meta.total_length - u64::from(PIECE) * u64::from(n - 1)) as u32;
    let seeder = start_session().await;
    let opts = AddTorrentOptions {
        save_dir: seed_dir.path().into(),
        ..Default::default()
    };
    let sh = seeder.add_torrent(meta, opts).await.unwrap();
    wait_state(&sh, TorrentState::Seeding).await;

    let mut s = TcpStream::connect(seeder.local_addr()).await.unwrap();
    write_handshake(&mut s, &Handshake::new(ih, PeerId::generate()))
        .await
        .unwrap();
    let hs = read_handshake(&mut s).await.unwrap();
    assert_eq!(hs.info_hash, ih);
    assert!(hs.supports_extensions(), "we advertise BEP 10");
    let codec = Codec::new(DEFAULT_MAX_MESSAGE_LEN);
    let mut buf = BytesMut::with_capacity(1 << 16);
    assert!(hs.supports_fast(), "we advertise BEP 6");
    // BEP 10: the extension handshake comes first, with the metadata size (BEP 9).
    match next_msg(&mut s, &codec, &mut buf).await {
        Some(Message::Extended { id: 0, payload }) => {
            let ext = ExtHandshake::decode(&payload).expect("valid extension handshake");
            assert!(ext.extensions.ut_metadata.is_some());
            assert!(ext.metadata_size.is_some_and(|n| n > 0));
            assert_eq!(ext.listen_port, Some(seeder.local_addr().port()));
        }
        other => panic!("expected the extension handshake first, got {other:?}"),
    }
    // BEP 6: a seed that speaks the fast extension to a fast peer says have_all.
    assert_eq!(
        next_msg(&mut s, &codec, &mut buf).await,
        Some(Message::HaveAll)
    );
    let mut out = BytesMut::new();
    Codec::encode(&Message::Interested, &mut out);
    s.write_all(&out).await.unwrap();
    assert_eq!(
        next_msg(&mut s, &codec, &mut buf).await,
        Some(Message::Unchoke)
    );

    // The odd tail of the last piece, which also ends the last file.
    let offset = last_len - last_len % BLOCK_SIZE;
    let req = BlockRequest {
        piece: n - 1,
        offset,
        len: last_len - offset,
    };
    out.clear();
    Codec::encode(&Message::Request(req), &mut out);
    s.write_all(&out).await.unwrap();
    let want = torrent_bytes();
    let start = (u64::from(PIECE) * u64::from(n - 1) + u64::from(offset)) as usize;
    match next_msg(&mut s, &codec, &mut buf).await {
        Some(Message::Piece {
            piece,
            offset: o,
            data,
        }) => {
            assert_eq!((piece, o), (n - 1, offset));
            assert!(data[..] == want[start..], "served bytes match the files");
        }
        other => panic!("expected the block, got {other:?}"),
    }

    // A fast peer is told that a request it cannot have is refused (BEP 6).
    out.clear();
    let stray = BlockRequest {
        piece: n,
        offset: 0,
        len: BLOCK_SIZE,
    };
    Codec::encode(&Message::Request(stray), &mut out);
    s.write_all(&out).await.unwrap();
    assert_eq!(
        next_msg(&mut s, &codec, &mut buf).await,
        Some(Message::RejectRequest(stray))
    );

    // Requests out of range, oversized or past the piece end are dropped; many get us cut off.
    out.clear();
    for i in 0..60u32 {
        let bad = match i % 3 {
            0 => BlockRequest {
                piece: n + i,
                offset: 0,
                len: BLOCK_SIZE,
            },
            1 => BlockRequest {
                piece: 0,
                offset: 0,
                len: BLOCK_SIZE * 4,
            },
            _ => BlockRequest {
                piece: n - 1,
                offset: last_len,
                len: 1,
            },
        };
        Codec::encode(&Message::Request(bad), &mut out);
    }
    s.write_all(&out).await.unwrap();
    // Rejects may still arrive before the connection is cut; nothing else may.
    loop {
        match next_msg(&mut s, &codec, &mut buf).await {
            Some(Message::RejectRequest(_)) => {}
            None => break,
            other => panic!("expected rejects, then the end, got {other:?}"),
        }
    }
    seeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_and_remove_with_files() {
    let seed_dir = tempfile::tempdir().unwrap();
    let leech_dir = tempfile::tempdir().unwrap();
    let meta = make_torrent(seed_dir.path());
    let ih = meta.info_hash;
    let seeder = start_session().await;
    let opts = AddTorrentOptions {
        save_dir: seed_dir.path().into(),
        ..Default::default()
    };
    let sh = seeder.add_torrent(meta.clone(), opts).await.unwrap();
    wait_state(&sh, TorrentState::Seeding).await;
    sh.pause();
    wait_state(&sh, TorrentState::Paused).await;
    sh.resume();
    wait_state(&sh, TorrentState::Seeding).await;

    let leecher = start_session().await;
    let mut rx = leecher.subscribe();
    let opts = AddTorrentOptions {
        save_dir: leech_dir.path().into(),
        paused: true,
        peers: Vec::new(),
        ..Default::default()
    };
    let lh = leecher.add_torrent(meta, opts).await.unwrap();
    wait_state(&lh, TorrentState::Paused).await;
    lh.add_peers(vec![seeder.local_addr()]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(lh.status().peers, 0, "a paused torrent dials nobody");
    lh.resume();
    wait_completed(&mut rx, ih).await;
    assert_same_files(seed_dir.path(), leech_dir.path());

    leecher.remove(&ih, true).await.unwrap();
    assert!(
        !leech_dir.path().join(NAME).join("b.bin").exists(),
        "data deleted"
    );
    assert!(matches!(
        leecher.remove(&ih, false).await,
        Err(engine::session::EngineError::NotFound(_))
    ));
    loop {
        match rx.recv().await {
            Ok(Event::TorrentRemoved { info_hash }) if info_hash == ih => break,
            Ok(_) => {}
            Err(e) => panic!("no TorrentRemoved event: {e}"),
        }
    }
    leecher.shutdown().await;
    seeder.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_buffer_budget_still_completes() {
    let seed_dir = tempfile::tempdir().unwrap();
    let leech_dir = tempfile::tempdir().unwrap();
    let meta = make_torrent(seed_dir.path());
    let ih = meta.info_hash;
    let seeder = start_session().await;
    let opts = AddTorrentOptions {
        save_dir: seed_dir.path().into(),
        ..Default::default()
    };
    let sh = seeder.add_torrent(meta.clone(), opts).await.unwrap();
    wait_state(&sh, TorrentState::Seeding).await;

    // Room for three pieces: picks of new pieces beyond that are given back.
    let config = SessionConfig {
        listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        allow_local_trackers: true,
        max_buffered_bytes: 3 * PIECE as usize,
        ..SessionConfig::default()
    };
    let leecher = Session::start(config).await.unwrap();
    let mut rx = leecher.subscribe();
    let opts = AddTorrentOptions {
        save_dir: leech_dir.path().into(),
        peers: vec![seeder.local_addr()],
        ..Default::default()
    };
    let lh = leecher.add_torrent(meta, opts).await.unwrap();
    wait_completed(&mut rx, ih).await;
    assert_same_files(seed_dir.path(), leech_dir.path());
    assert_eq!(lh.status().wasted, 0);
    leecher.shutdown().await;
    seeder.shutdown().await;
}

/// A one-route HTTP tracker: records each announce's `event` and hands out `peer`.
async fn fake_tracker(peer: SocketAddr) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/announce", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut req = Vec::new();
            let mut chunk = [0u8; 2048];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&chunk[..n]),
                }
            }
            let text = String::from_utf8_lossy(&req);
            let event = text
                .split(['?', '&', ' '])
                .find_map(|kv| kv.strip_prefix("event="))
                .unwrap_or("none")
                .to_string();
            log.lock().unwrap().push(event);
            let SocketAddr::V4(v4) = peer else {
                unreachable!()
            };
            let mut body = b"d8:intervali1800e5:peers6:".to_vec();
            body.extend_from_slice(&v4.ip().octets());
            body.extend_from_slice(&v4.port().to_be_bytes());
            body.push(b'e');
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        }
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_come_from_the_tracker_and_announces_follow_the_lifecycle() {
    let seed_dir = tempfile::tempdir().unwrap();
    let leech_dir = tempfile::tempdir().unwrap();
    let seeder = start_session().await;
    let (url, events) = fake_tracker(seeder.local_addr()).await;
    for (i, (name, len)) in FILES.iter().enumerate() {
        let path = seed_dir.path().join(NAME).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, file_bytes(i, *len)).unwrap();
    }
    let opts = CreateOptions {
        piece_length: Some(PIECE),
        trackers: vec![vec![url]],
        ..Default::default()
    };
    let bytes = create_torrent(&seed_dir.path().join(NAME), &opts, &|_| {}).unwrap();
    let meta = Metainfo::from_bytes(&bytes).unwrap();
    let ih = meta.info_hash;
    let sh = seeder
        .add_torrent(
            meta.clone(),
            AddTorrentOptions {
                save_dir: seed_dir.path().into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    wait_state(&sh, TorrentState::Seeding).await;

    let leecher = start_session().await;
    let mut rx = leecher.subscribe();
    let lh = leecher
        .add_torrent(
            meta,
            AddTorrentOptions {
                save_dir: leech_dir.path().into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    wait_completed(&mut rx, ih).await;
    assert_same_files(seed_dir.path(), leech_dir.path());
    for _ in 0..100 {
        if events.lock().unwrap().iter().any(|e| e == "completed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let trackers = lh.status().trackers;
    assert_eq!(trackers.len(), 1);
    assert!(
        matches!(trackers[0].last_result, Some(Ok(_))),
        "{trackers:?}"
    );
    leecher.shutdown().await;
    seeder.shutdown().await;
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events.iter().filter(|e| *e == "started").count(),
        2,
        "{events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "completed").count(),
        1,
        "only the leecher completes: {events:?}"
    );
    assert_eq!(
        events.iter().filter(|e| *e == "stopped").count(),
        2,
        "{events:?}"
    );
}

/// CPU seconds (user + system) this process has used, from /proc (Linux only).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|x| x.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Manual benchmark: downloads `TE_BENCH_TORRENT` from `TE_BENCH_PEER` into `TE_BENCH_DIR`
/// and prints time, CPU and peak RSS. Run with `--release --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "manual benchmark against an external seeder"]
async fn bench_download_from_peer() {
    let (Ok(torrent), Ok(peer), Ok(dir)) = (
        std::env::var("TE_BENCH_TORRENT"),
        std::env::var("TE_BENCH_PEER"),
        std::env::var("TE_BENCH_DIR"),
    ) else {
        eprintln!("set TE_BENCH_TORRENT, TE_BENCH_PEER and TE_BENCH_DIR");
        return;
    };
    let meta = Metainfo::from_bytes(&std::fs::read(torrent).unwrap()).unwrap();
    let ih = meta.info_hash;
    let total = meta.total_length;
    let session = start_session().await;
    let mut rx = session.subscribe();
    let (t0, c0) = (std::time::Instant::now(), cpu_secs());
    let opts = AddTorrentOptions {
        save_dir: dir.into(),
        peers: vec![peer.parse().unwrap()],
        ..Default::default()
    };
    let h = session.add_torrent(meta, opts).await.unwrap();
    let watch = h.clone();
    let progress = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(2)).await;
            let st = watch.status();
            let p = watch.peers();
            eprintln!(
                "{:?} done {} MiB, rate {} MiB/s, peers {:?}",
                st.state,
                st.bytes_done >> 20,
                st.download_rate >> 20,
                p.iter()
                    .map(|p| (p.peer_choking, p.am_interested, p.download_rate >> 20))
                    .collect::<Vec<_>>()
            );
        }
    });
    wait_completed(&mut rx, ih).await;
    progress.abort();
    let (secs, cpu) = (t0.elapsed().as_secs_f64(), cpu_secs() - c0);
    let gib = total as f64 / f64::from(1u32 << 30);
    let st = h.status();
    println!(
        "BENCH {:.0} MiB in {secs:.2} s = {:.0} MiB/s; cpu {cpu:.2} s ({:.2} s/GiB); peak RSS {} MB; wasted {}",
        total as f64 / 1048576.0,
        total as f64 / 1048576.0 / secs,
        cpu / gib,
        peak_rss_mb(),
        st.wasted
    );
    session.shutdown().await;
}

/// Manual interop check: seeds `TE_BENCH_TORRENT` from `TE_BENCH_DIR` on
/// `TE_BENCH_LISTEN` for `TE_BENCH_SECS` seconds, so another client can download from us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "manual interop check with an external leecher"]
async fn bench_seed_for_peer() {
    let (Ok(torrent), Ok(dir), Ok(listen)) = (
        std::env::var("TE_BENCH_TORRENT"),
        std::env::var("TE_BENCH_DIR"),
        std::env::var("TE_BENCH_LISTEN"),
    ) else {
        eprintln!("set TE_BENCH_TORRENT, TE_BENCH_DIR and TE_BENCH_LISTEN");
        return;
    };
    let secs: u64 = std::env::var("TE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let meta = Metainfo::from_bytes(&std::fs::read(torrent).unwrap()).unwrap();
    let config = SessionConfig {
        listen_addr: listen.parse().unwrap(),
        allow_local_trackers: true,
        ..SessionConfig::default()
    };
    let session = Session::start(config).await.unwrap();
    let opts = AddTorrentOptions {
        save_dir: dir.into(),
        ..Default::default()
    };
    let h = session.add_torrent(meta, opts).await.unwrap();
    wait_state(&h, TorrentState::Seeding).await;
    eprintln!("seeding on {listen}");
    for _ in 0..secs {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let st = h.status();
        if st.peers > 0 {
            eprintln!(
                "uploaded {} MiB at {} MiB/s",
                st.uploaded >> 20,
                st.upload_rate >> 20
            );
        }
    }
    session.shutdown().await;
}
