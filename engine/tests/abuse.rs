//! Abuse at the listening port (issue 11): 1,000 connections opened from 125 loopback
//! addresses and left idle, never sending a handshake. The download from an honest
//! libtorrent seeder still completes byte-exact, and the session lets go of every idle
//! connection within its handshake timeout (10 s), so none pins a descriptor for longer.
//!
//! `scripts/in-netns.sh cargo test -p engine --test abuse`

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::*;
use tokio::io::AsyncReadExt;

const IDLE: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_idle_connections_neither_stop_a_download_nor_linger() {
    hard_timeout(TEST_TIMEOUT, "idle connections", async {
        let fx = fixture(
            Layout::single("a.bin", 16 * MIB, 256 * 1024),
            95,
            Maker::Libtorrent,
            &[],
        );
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let mut s = TestSession::start().await;
        let listen = s.addr();
        let opened = Instant::now();
        let mut idle = Vec::with_capacity(IDLE);
        for i in 0..IDLE {
            let from = SocketAddr::from(([127, 0, 0, 2 + (i / 8) as u8], 0));
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind(from).unwrap();
            idle.push(sock.connect(listen).await.unwrap());
        }
        let out = temp_dir("out");
        let started = Instant::now();
        let h = s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        s.wait_completed(h.info_hash(), DL_TIMEOUT).await;
        let took = started.elapsed();
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        eprintln!("16 MiB beside {IDLE} idle connections: {took:?}");

        // Every idle connection is closed by the session (EOF) by the handshake timeout.
        let deadline = opened + Duration::from_secs(15);
        let mut buf = [0u8; 64];
        for (i, c) in idle.iter_mut().enumerate() {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = tokio::time::timeout(left, c.read(&mut buf)).await;
            assert!(
                matches!(r, Ok(Ok(0)) | Ok(Err(_))),
                "idle connection {i} still open after 15 s: {r:?}"
            );
        }
        s.shutdown().await;
    })
    .await
}
