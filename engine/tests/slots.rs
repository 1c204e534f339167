//! Connection slots cannot be pinned (issue 11, item 9): hundreds of connections from one
//! address that never send a handshake take only that address's share of the half-open pool,
//! and an honest peer from another address still connects and downloads.
//!
//! `scripts/in-netns.sh cargo test -p engine --test slots`

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::*;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

const IDLE: usize = 200;

async fn idle_from(src: [u8; 4], to: SocketAddr) -> Option<TcpStream> {
    let s = TcpSocket::new_v4().ok()?;
    s.bind(SocketAddr::from((src, 0))).ok()?;
    s.connect(to).await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_from_one_address_do_not_lock_out_others() {
    hard_timeout(TEST_TIMEOUT, "idle connection flood", async {
        let fx = fixture(
            Layout::single("s.bin", 4 * MIB, 65536),
            91,
            Maker::Engine,
            &[],
        );
        let mut seeder = TestSession::start().await;
        let h = seeder.add(&fx.torrent, &fx.src, Vec::new()).await;
        seeder.wait_seeding(h.info_hash(), DL_TIMEOUT).await;

        let mut idle = Vec::new();
        for _ in 0..IDLE {
            if let Some(s) = idle_from([127, 0, 0, 2], seeder.addr()).await {
                idle.push(s);
            }
        }
        assert_eq!(idle.len(), IDLE, "the kernel accepted every connection");
        // All but the address's share are closed by the engine at once.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut closed = 0;
        for s in &mut idle {
            let mut b = [0u8; 1];
            if let Ok(Ok(0)) = tokio::time::timeout(Duration::from_millis(20), s.read(&mut b)).await
            {
                closed += 1;
            }
        }
        let cap = engine::config::SessionConfig::default().max_peers_per_ip;
        assert!(closed >= IDLE - cap, "{closed} of {IDLE} closed; cap {cap}");

        let out = temp_dir("out");
        let mut leecher = TestSession::start().await;
        let lh = leecher
            .add(&fx.torrent, out.path(), vec![seeder.addr()])
            .await;
        leecher.wait_completed(lh.info_hash(), DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        drop(idle);
        leecher.shutdown().await;
        seeder.shutdown().await;
    })
    .await
}
