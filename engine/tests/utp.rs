//! uTP (BEP 29) against real libtorrent 2.0.8 with TCP off both ways (so every byte moved
//! went over uTP), and through a lossy, reordering link (a relay in the test: this kernel
//! has no netem).
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test utp`

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use engine::config::SessionConfig;
use support::*;

/// One at a time: the lossy test measures throughput, which a parallel transfer would skew.
static LINK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `RUST_LOG=engine=debug` shows the engine's logs of a failing run.
fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

fn utp_config() -> SessionConfig {
    logs();
    SessionConfig {
        utp: true,
        ..test_config()
    }
}

fn lt_utp() -> LtOpts {
    LtOpts {
        transport: Some("utp"),
        ..Default::default()
    }
}

/// libtorrent (uTP only) seeds; the engine dials it and downloads `fx`; returns MiB/s from
/// the add to completion.
async fn engine_from_lt(fx: &Fixture, imp: Option<Impair>) -> f64 {
    let seeder = LtPeer::seed(&fx.torrent, &fx.src, lt_utp());
    let relay = match imp {
        Some(i) => Some(LossyRelay::start(seeder.addr(), i).await),
        None => None,
    };
    let peer = relay.as_ref().map_or(seeder.addr(), |r| r.addr);
    let out = temp_dir("out");
    let mut s = TestSession::start_with(utp_config()).await;
    let start = Instant::now();
    let h = s.add(&fx.torrent, out.path(), vec![peer]).await;
    s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
    let took = start.elapsed();
    s.shutdown().await;
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64()
}

/// A libtorrent leecher (uTP only) downloads `fx` from a libtorrent seeder (uTP only);
/// returns MiB/s from the leecher's start to its FINISHED, or None when it did not finish
/// within `limit` (libtorrent against itself sometimes stalls through the lossy relay: the
/// reference is reported, not asserted).
async fn lt_from_lt(fx: &Fixture, imp: Option<Impair>, limit: Duration) -> Option<f64> {
    let seeder = LtPeer::seed(&fx.torrent, &fx.src, lt_utp());
    let relay = match imp {
        Some(i) => Some(LossyRelay::start(seeder.addr(), i).await),
        None => None,
    };
    let peer = relay.as_ref().map_or(seeder.addr(), |r| r.addr);
    let out = temp_dir("out");
    let start = Instant::now();
    let mut leech = LtPeer::leech(
        &fx.torrent,
        out.path(),
        LtOpts {
            connect: vec![peer],
            no_recheck: true,
            ..lt_utp()
        },
    );
    if let Err(e) = leech.proc.wait_line_async("FINISHED", limit).await {
        eprintln!("libtorrent reference leecher did not finish: {e}");
        return None;
    }
    let took = start.elapsed();
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    Some(fx.layout.total_len() as f64 / MIB as f64 / took.as_secs_f64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_downloads_from_libtorrent_over_utp_only() {
    let _link = LINK.lock().await;
    hard_timeout(TEST_TIMEOUT, "lt seeder (uTP only) -> engine", async {
        let fx = fixture(Layout::single_odd(), 61, Maker::Libtorrent, &[]);
        let rate = engine_from_lt(&fx, None).await;
        eprintln!("libtorrent -> TorrentEdge over uTP: {rate:.1} MiB/s");
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_downloads_from_engine_over_utp_only() {
    let _link = LINK.lock().await;
    hard_timeout(
        TEST_TIMEOUT,
        "engine seeder -> lt leecher (uTP only)",
        async {
            let fx = fixture(Layout::single_odd(), 62, Maker::Mktorrent, &[]);
            let mut s = TestSession::start_with(utp_config()).await;
            let h = s.add(&fx.torrent, &fx.src, vec![]).await;
            s.wait_seeding(h.info_hash(), Duration::from_secs(30)).await;
            assert_eq!(
                s.session.utp_addr().map(|a| a.port()),
                Some(s.addr().port()),
                "uTP listens on the TCP listener's port"
            );
            let out = temp_dir("out");
            let mut leech = LtPeer::leech(
                &fx.torrent,
                out.path(),
                LtOpts {
                    connect: vec![s.addr()],
                    ..lt_utp()
                },
            );
            leech.expect_clean_download(DL_TIMEOUT).await;
            s.shutdown().await;
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        },
    )
    .await
}

/// netem's impairments in user space: this kernel has no `sch_netem` (`tc qdisc add ... netem`
/// answers "Specified qdisc kind is unknown"), so datagrams go through a relay on
/// 127.0.0.1 that delays each by `delay`, loses `loss` of them and sends `reorder` of them at
/// once (ahead of the delayed ones), both ways, as `netem delay D loss L reorder R` would.
struct LossyRelay {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone, Copy)]
struct Impair {
    delay: Duration,
    loss: f64,
    reorder: f64,
}

/// A seeded xorshift: the same run loses the same packets.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// None: lost; else how long to hold the datagram.
    fn fate(&mut self, i: Impair) -> Option<Duration> {
        if self.unit() < i.loss {
            None
        } else if self.unit() < i.reorder {
            Some(Duration::ZERO)
        } else {
            Some(i.delay)
        }
    }
}

fn forward(sock: Arc<UdpSocket>, data: Vec<u8>, to: Option<SocketAddr>, after: Duration) {
    tokio::spawn(async move {
        if !after.is_zero() {
            tokio::time::sleep(after).await;
        }
        let _ = match to {
            Some(to) => sock.send_to(&data, to).await,
            None => sock.send(&data).await,
        };
    });
}

impl LossyRelay {
    async fn start(target: SocketAddr, imp: Impair) -> LossyRelay {
        let front = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = front.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut upstream: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 65536];
            loop {
                let Ok((n, from)) = front.recv_from(&mut buf).await else {
                    return;
                };
                let up = match upstream.get(&from) {
                    Some(u) => u.clone(),
                    None => {
                        let u = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
                        u.connect(target).await.unwrap();
                        // Replies: target -> relay -> client, impaired the same way.
                        let (u2, front2) = (u.clone(), front.clone());
                        tokio::spawn(async move {
                            let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ u64::from(from.port()));
                            let mut buf = vec![0u8; 65536];
                            while let Ok(n) = u2.recv(&mut buf).await {
                                if let Some(after) = rng.fate(imp) {
                                    forward(front2.clone(), buf[..n].to_vec(), Some(from), after);
                                }
                            }
                        });
                        upstream.insert(from, u.clone());
                        u
                    }
                };
                if let Some(after) = rng.fate(imp) {
                    forward(up, buf[..n].to_vec(), None, after);
                }
            }
        });
        LossyRelay { addr, task }
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Through the relay (5 ms each way, 1 % loss, 5 % reordered) the engine still gets every
/// byte from libtorrent over uTP; its rate is printed beside a libtorrent leecher's through
/// the same relay (docs/benchmarks.md has the figures).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_link_transfer_completes_and_is_measured_beside_libtorrent() {
    let _link = LINK.lock().await;
    hard_timeout(TEST_TIMEOUT, "lossy link", async {
        let layout = Layout::single("lossy.bin", 4 * MIB, 256 * 1024);
        let fx = fixture(layout, 63, Maker::Libtorrent, &[]);
        let imp = Impair {
            delay: Duration::from_millis(5),
            loss: 0.01,
            reorder: 0.05,
        };
        let te = engine_from_lt(&fx, Some(imp)).await;
        let lt = lt_from_lt(&fx, Some(imp), Duration::from_secs(40)).await;
        let lt = lt.map_or("did not finish in 40 s".to_string(), |r| {
            format!("{r:.2} MiB/s")
        });
        eprintln!(
            "lossy uTP link (relay: delay 5ms, loss 1%, reorder 5%), 4 MiB: \
             TorrentEdge {te:.2} MiB/s, libtorrent {lt}"
        );
        assert!(te > 0.0);
    })
    .await
}
