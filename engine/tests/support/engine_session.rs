//! Driving the engine's public contract (engine/DESIGN.md) from tests: a
//! Session on 127.0.0.1 port 0, adding torrents, and waiting for events.
//!
//! Everything the tests need from the engine's API goes through this file,
//! so an API rename is fixed here once.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use engine::config::SessionConfig;
use engine::events::Event;
use engine::metainfo::Metainfo;
use engine::session::{AddTorrentOptions, Session, TorrentHandle};
use engine::status::TorrentState;
use engine::InfoHash;
use tokio::sync::broadcast;

use super::{assert_same_tree, temp_dir, Fixture};

/// Reads and parses a .torrent file with the engine's parser.
pub fn load_metainfo(torrent: &Path) -> Metainfo {
    let bytes = std::fs::read(torrent).expect("read torrent");
    Metainfo::from_bytes(&bytes)
        .unwrap_or_else(|e| panic!("engine cannot parse {}: {e}", torrent.display()))
}

/// Makes a .torrent of `content` with the engine's own `create::create_torrent`.
/// Returns the info-hash hex (computed by the test, not the engine).
pub fn te_make_torrent(content: &Path, out: &Path, piece_size: u32, trackers: &[String]) -> String {
    let opts = engine::create::CreateOptions {
        trackers: if trackers.is_empty() {
            vec![]
        } else {
            vec![trackers.to_vec()]
        },
        piece_length: Some(piece_size),
        ..Default::default()
    };
    let bytes = engine::create::create_torrent(content, &opts, &|_| {}).unwrap_or_else(|e| {
        panic!(
            "engine cannot create a torrent of {}: {e}",
            content.display()
        )
    });
    std::fs::write(out, bytes).expect("write torrent");
    super::torrent_info_hash_hex(out)
}

/// Session settings for tests: 127.0.0.1, ephemeral port, short tracker timeout, TCP only
/// (the peers of most tests do not speak uTP, and a uTP dial waits 3 s for its SYNs before
/// falling back; tests/utp.rs turns uTP on).
pub fn test_config() -> SessionConfig {
    SessionConfig {
        listen_addr: SocketAddr::from((super::LOCALHOST, 0)),
        allow_local_trackers: true,
        tracker_timeout: Duration::from_secs(5),
        utp: false,
        ..SessionConfig::default()
    }
}

/// An engine session for a test, with an event receiver subscribed before
/// anything is added (so no event is missed). Shuts down on drop.
pub struct TestSession {
    pub session: Session,
    pub events: broadcast::Receiver<Event>,
    /// Every event received so far (by `wait_for`), for assertions and failure reports.
    pub seen: Vec<Event>,
    shut: bool,
}

impl TestSession {
    pub async fn start() -> TestSession {
        Self::start_with(test_config()).await
    }

    pub async fn start_with(config: SessionConfig) -> TestSession {
        assert!(
            config.listen_addr.ip().is_loopback(),
            "tests listen on 127.0.0.1 only"
        );
        let session = Session::start(config).await.expect("start engine session");
        let addr = session.local_addr();
        assert!(
            addr.ip().is_loopback() && addr.port() != 0,
            "session listens on {addr}, want 127.0.0.1:<port>"
        );
        let events = session.subscribe();
        TestSession {
            session,
            events,
            seen: Vec::new(),
            shut: false,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.session.local_addr()
    }

    /// Adds `torrent` to download into (or seed from) `save_dir`, dialling `peers`.
    pub async fn add(
        &self,
        torrent: &Path,
        save_dir: &Path,
        peers: Vec<SocketAddr>,
    ) -> TorrentHandle {
        let meta = load_metainfo(torrent);
        let opts = AddTorrentOptions {
            save_dir: save_dir.to_path_buf(),
            paused: false,
            peers,
            ..Default::default()
        };
        self.session
            .add_torrent(meta, opts)
            .await
            .expect("add torrent")
    }

    /// Waits for the first event (after those already seen) that `pred`
    /// accepts; every event is recorded in `seen`. Panics on timeout with
    /// the torrent's status and the last events.
    pub async fn wait_for<F>(&mut self, what: &str, timeout: Duration, mut pred: F) -> Event
    where
        F: FnMut(&Event) -> bool,
    {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Ok(ev)) => {
                    let hit = pred(&ev);
                    self.seen.push(ev.clone());
                    if hit {
                        return ev;
                    }
                }
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => {
                    eprintln!("test event receiver lagged by {n} events");
                }
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    panic!(
                        "event bus closed while waiting for {what}; {}",
                        self.report()
                    )
                }
                Err(_) => panic!(
                    "timed out after {timeout:?} waiting for {what}; {}",
                    self.report()
                ),
            }
        }
    }

    /// Like [`wait_for`], but first looks through the events already seen
    /// (e.g. an announce that happened while we waited for something else).
    pub async fn seen_or_wait<F>(&mut self, what: &str, timeout: Duration, mut pred: F) -> Event
    where
        F: FnMut(&Event) -> bool,
    {
        if let Some(ev) = self.seen.iter().find(|e| pred(e)) {
            return ev.clone();
        }
        self.wait_for(what, timeout, pred).await
    }

    /// Waits for `Event::Completed` for `ih`; fails early on `Event::Error`.
    pub async fn wait_completed(&mut self, ih: InfoHash, timeout: Duration) {
        let ev = self
            .wait_for("Completed", timeout, |e| {
                matches!(e, Event::Completed { info_hash } if *info_hash == ih)
                    || matches!(e, Event::Error { info_hash, .. } if *info_hash == ih)
            })
            .await;
        if let Event::Error { message, .. } = ev {
            panic!(
                "torrent {ih} reported an error instead of completing: {message}; {}",
                self.report()
            );
        }
        let h = self
            .session
            .get(&ih)
            .expect("completed torrent is still in the session");
        let st = h.status();
        assert_eq!(
            st.bytes_done, st.total_bytes,
            "Completed but bytes_done != total_bytes: {st:?}"
        );
        assert_eq!(
            st.pieces_done, st.num_pieces,
            "Completed but not every piece is verified: {st:?}"
        );
    }

    /// Downloads `fx` into a fresh folder from `seeder`, the only peer given: that peer
    /// connects, the torrent completes, and after shutdown the files equal the source.
    pub async fn download_from(mut self, fx: &Fixture, seeder: SocketAddr, timeout: Duration) {
        let out = temp_dir("out");
        let h = self.add(&fx.torrent, out.path(), vec![seeder]).await;
        self.wait_for(
            "the seeder connected",
            timeout,
            |e| matches!(e, Event::PeerConnected { addr, .. } if *addr == seeder),
        )
        .await;
        self.wait_completed(h.info_hash(), timeout).await;
        self.shutdown().await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    }

    /// Waits until `ih` is seeding (checked and complete), e.g. after adding
    /// complete data to seed from.
    pub async fn wait_seeding(&mut self, ih: InfoHash, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(h) = self.session.get(&ih) {
                let st = h.status();
                if st.state == TorrentState::Seeding {
                    assert_eq!(
                        st.bytes_done, st.total_bytes,
                        "seeding but incomplete: {st:?}"
                    );
                    return;
                }
                if st.state == TorrentState::Error {
                    panic!("torrent {ih} is in error while checking seed data: {st:?}");
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "torrent {ih} not seeding after {timeout:?}; {}",
                    self.report()
                );
            }
            // keep draining events so the bus does not lag
            let _ = tokio::time::timeout(Duration::from_millis(50), self.events.recv())
                .await
                .map(|r| {
                    if let Ok(ev) = r {
                        self.seen.push(ev)
                    }
                });
        }
    }

    /// Status of every torrent and the last events, for failure messages.
    pub fn report(&self) -> String {
        let mut s = String::new();
        for h in self.session.list() {
            s.push_str(&format!(
                "\nstatus: {:?}\npeers: {:?}",
                h.status(),
                h.peers()
            ));
        }
        let last = &self.seen[self.seen.len().saturating_sub(20)..];
        s.push_str("\nlast events:");
        for e in last {
            s.push_str(&format!("\n  {e:?}"));
        }
        s
    }

    /// `PieceFailed` events seen so far for `ih`: (piece, peers).
    pub fn piece_failures(&self, ih: InfoHash) -> Vec<(u32, Vec<SocketAddr>)> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::PieceFailed {
                    info_hash,
                    piece,
                    peers,
                } if *info_hash == ih => Some((*piece, peers.clone())),
                _ => None,
            })
            .collect()
    }

    pub async fn shutdown(mut self) {
        self.shut = true;
        tokio::time::timeout(Duration::from_secs(10), self.session.shutdown())
            .await
            .expect("session shutdown took over 10 s");
    }
}

impl Drop for TestSession {
    fn drop(&mut self) {
        // Only our own records here: calling into the engine while a test
        // panics could panic again and abort the whole test binary.
        if std::thread::panicking() && !self.seen.is_empty() {
            eprintln!("==== last engine events before the failure:");
            for e in &self.seen[self.seen.len().saturating_sub(30)..] {
                eprintln!("  {e:?}");
            }
        }
        // A session that was not shut down explicitly dies with the test's
        // runtime; nothing here may block.
        let _ = self.shut;
    }
}
