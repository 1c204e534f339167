//! TorrentEdge's DHT against libtorrent 2.0.8's (tests/support/lt_dht.py), both ways,
//! on loopback only: libtorrent bootstraps from our node and nothing else.
//!
//! `scripts/in-netns.sh cargo test -p engine --test dht_libtorrent`

#[path = "support/lt_dht.rs"]
mod lt_dht;
mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use engine::dht::{AnnouncePort, Dht};
use engine::InfoHash;
use lt_dht::LtDht;
use support::*;

/// libtorrent seeds a torrent and announces it on the DHT through our node; a node of
/// ours that joins afterwards finds the seeder's address with `get_peers`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_lookup_finds_a_libtorrent_seeder() {
    hard_timeout(TEST_TIMEOUT, "DHT: find a libtorrent seeder", async {
        let fx = fixture(Layout::single_odd(), 31, Maker::Libtorrent, &[]);
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let boot = Dht::start(dht_config(local(0), &[])).await.unwrap();
        let seeder = LtDht::seed(&fx.torrent, &fx.src, "127.0.0.2", boot.local_addr());
        // libtorrent's announce_peer, with the token from our get_peers reply, is stored.
        wait_dht_stats(
            &boot,
            "libtorrent's announce",
            Duration::from_secs(60),
            |s| s.stored_torrents >= 1,
        )
        .await;

        let searcher = Dht::start(dht_config(local(0), &[boot.local_addr()]))
            .await
            .unwrap();
        wait_dht_stats(
            &searcher,
            "the searcher to join",
            Duration::from_secs(20),
            |s| s.nodes >= 1,
        )
        .await;
        // The peer comes from `boot`'s get_peers reply, or from libtorrent announcing to
        // the searcher itself once it knows it (it re-announces every 2 s): both are
        // libtorrent's announce_peer accepted by us. Values over the wire from a node that
        // does not hold them locally are covered by dht_swarm.rs.
        let want = seeder.addr();
        let mut found = HashSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
        while !found.contains(&want) && tokio::time::Instant::now() < deadline {
            let mut rx = searcher.get_peers(ih).unwrap();
            while let Some(p) = rx.recv().await {
                found.insert(p);
            }
        }
        assert!(
            found.contains(&want),
            "found {found:?}, not the seeder at {want}"
        );
        searcher.shutdown().await;
        boot.shutdown().await;
    })
    .await
}

/// Our node announces an info-hash; libtorrent, bootstrapped at our node, finds us with
/// its own `dht_get_peers`. libtorrent also accepts our `announce_peer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libtorrent_lookup_finds_our_announce() {
    hard_timeout(TEST_TIMEOUT, "DHT: libtorrent finds our announce", async {
        let a = Dht::start(dht_config(local(0), &[])).await.unwrap();
        let b = Dht::start(dht_config(local(0), &[a.local_addr()]))
            .await
            .unwrap();
        let c = Dht::start(dht_config(local(0), &[a.local_addr(), b.local_addr()]))
            .await
            .unwrap();
        let ih = InfoHash([0xc3; 20]);
        let mut lt = LtDht::get_peers(&ih.to_hex(), "127.0.0.3", a.local_addr());
        // libtorrent queried us; we pinged it back and it is in our table.
        wait_dht_stats(
            &a,
            "libtorrent in our table",
            Duration::from_secs(30),
            |s| s.nodes >= 3,
        )
        .await;

        let port = 6999;
        let mut rx = a.announce(ih, AnnouncePort::Port(port)).unwrap();
        while rx.recv().await.is_some() {}
        // b, c and libtorrent took our announce_peer.
        wait_dht_stats(
            &a,
            "three announces accepted",
            Duration::from_secs(10),
            |s| s.announces_acked >= 3,
        )
        .await;
        lt.wait_peer(SocketAddr::from((LOCALHOST, port)), Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        drop(lt);
        for d in [&a, &b, &c] {
            d.shutdown().await;
        }
    })
    .await
}
