//! TorrentEdge DHT nodes talking to each other over real UDP sockets on 127.0.0.1:
//! a swarm of 20 nodes where an announce is found by a lookup from another node, a
//! restart from a saved routing table, and malformed KRPC packets that must not hurt.
//!
//! `scripts/in-netns.sh cargo test -p engine --test dht_swarm`

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use engine::dht::{AnnouncePort, Dht, DhtConfig, DhtStats};
use engine::InfoHash;
use support::*;

async fn stats(d: &Dht) -> DhtStats {
    d.stats().await.expect("node running")
}

/// Collects peers until the lookup ends.
async fn drain(mut rx: tokio::sync::mpsc::Receiver<SocketAddr>) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    let lookup = async {
        while let Some(p) = rx.recv().await {
            out.push(p);
        }
    };
    tokio::time::timeout(Duration::from_secs(40), lookup)
        .await
        .expect("the lookup ends within its 30 s bound");
    out
}

async fn swarm(n: usize) -> Vec<Dht> {
    let mut nodes: Vec<Dht> = Vec::new();
    for i in 0..n {
        // Each node joins through one or two earlier nodes.
        let boot: Vec<SocketAddr> = match i {
            0 => vec![],
            1 => vec![nodes[0].local_addr()],
            _ => vec![nodes[i - 1].local_addr(), nodes[i / 2].local_addr()],
        };
        let node = Dht::start(dht_config(local(0), &boot))
            .await
            .expect("start node");
        if i > 0 {
            wait_dht_stats(
                &node,
                &format!("node {i} to join"),
                Duration::from_secs(30),
                |s| s.nodes >= 1,
            )
            .await;
        }
        nodes.push(node);
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swarm_of_20_finds_an_announced_peer() {
    let nodes = swarm(20).await;
    for (i, d) in nodes.iter().enumerate() {
        wait_dht_stats(
            d,
            &format!("node {i} to know 5 nodes"),
            Duration::from_secs(30),
            |s| s.nodes >= 5,
        )
        .await;
    }
    let ih = InfoHash([0x5a; 20]);
    let announcer = &nodes[7];
    let peer_port = 40_007;
    drain(
        announcer
            .announce(ih, AnnouncePort::Port(peer_port))
            .unwrap(),
    )
    .await;
    let s = wait_dht_stats(
        announcer,
        "announces acknowledged",
        Duration::from_secs(30),
        |s| s.announces_acked >= 1,
    )
    .await;
    assert!(s.announces_sent >= s.announces_acked);

    // Search from every node that did not store the announce itself: the peer must
    // come over the wire, from the nodes closest to the info-hash.
    let mut searched = 0;
    for (i, d) in nodes.iter().enumerate() {
        if i == 7 || stats(d).await.stored_torrents > 0 {
            continue;
        }
        let peers = drain(d.get_peers(ih).unwrap()).await;
        assert_eq!(
            peers,
            vec![SocketAddr::from(([127, 0, 0, 1], peer_port))],
            "node {i} looked up the info-hash"
        );
        searched += 1;
    }
    assert!(searched >= 5, "only {searched} nodes searched");
    let holders = {
        let mut h = 0;
        for d in &nodes {
            h += usize::from(stats(d).await.stored_torrents > 0);
        }
        h
    };
    assert!(
        (1..=8).contains(&holders),
        "{holders} nodes store the announce (k = 8)"
    );
    // An info-hash nobody announced: the lookup ends with no peers.
    assert!(drain(nodes[3].get_peers(InfoHash([0x11; 20])).unwrap())
        .await
        .is_empty());
    for d in &nodes {
        d.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_from_a_saved_table_without_bootstrap() {
    let nodes = swarm(8).await;
    let node = &nodes[5];
    wait_dht_stats(
        node,
        "node 5 to know 4 nodes",
        Duration::from_secs(30),
        |s| s.nodes >= 4,
    )
    .await;
    let id = node.node_id();
    let saved = node.save().await.unwrap();
    node.shutdown().await;
    assert!(node.stats().await.is_err(), "stopped");

    let mut c = dht_config(local(0), &[]);
    c.saved_table = Some(saved);
    let again = Dht::start(c).await.unwrap();
    assert_eq!(again.node_id(), id, "the saved id is reused");
    wait_dht_stats(
        &again,
        "saved nodes to answer pings",
        Duration::from_secs(30),
        |s| s.good_nodes >= 4,
    )
    .await;
    let ih = InfoHash([0x77; 20]);
    drain(nodes[0].announce(ih, AnnouncePort::Port(4242)).unwrap()).await;
    wait_dht_stats(&nodes[0], "announce acked", Duration::from_secs(30), |s| {
        s.announces_acked >= 1
    })
    .await;
    let peers = drain(again.get_peers(ih).unwrap()).await;
    assert_eq!(peers, vec![SocketAddr::from(([127, 0, 0, 1], 4242))]);

    let mut bad = dht_config(local(0), &[]);
    bad.saved_table = Some(b"not a table".to_vec());
    assert!(matches!(
        Dht::start(bad).await,
        Err(engine::dht::DhtError::SavedTable(_))
    ));
    again.shutdown().await;
    for d in &nodes {
        d.shutdown().await;
    }
}

/// Sends `packet` and returns the reply, if one comes within 500 ms.
fn exchange(sock: &UdpSocket, to: SocketAddr, packet: &[u8]) -> Option<Vec<u8>> {
    sock.send_to(packet, to).expect("send");
    let mut buf = [0u8; 4096];
    match sock.recv_from(&mut buf) {
        Ok((n, _)) => Some(buf[..n].to_vec()),
        Err(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_packets_are_dropped_and_the_node_keeps_answering() {
    let node = Dht::start(DhtConfig::new("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    let to = node.local_addr();
    let ping = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe".to_vec();
    let deep = "l".repeat(60_000);
    let mut huge = ping.clone();
    huge.resize(60_000, b'x');
    let mut many_nodes = b"d1:rd2:id20:abcdefghij01234567895:nodes".to_vec();
    many_nodes.extend_from_slice(format!("{}:", 26 * 150).as_bytes());
    many_nodes.extend(std::iter::repeat_n(7u8, 26 * 150));
    many_nodes.extend_from_slice(b"e1:t2:aa1:y1:re");
    let garbage: Vec<Vec<u8>> = vec![
        vec![],
        b"d".to_vec(),
        ping[..ping.len() - 5].to_vec(),                  // truncated
        b"d1:t2:aa1:y1:qe".to_vec(),                      // query without a method
        b"d1:ti1e1:y1:qe".to_vec(),                       // wrong type for t
        b"d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe".to_vec(), // id is an int
        b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t99999999999:aa1:y1:qe".to_vec(),
        b"i99999999999999999999999999e".to_vec(),
        deep.into_bytes(), // deep nesting and larger than a packet
        huge,
        many_nodes, // an unsolicited response with 150 nodes
        vec![0xff; 1400],
    ];
    let sock = tokio::task::spawn_blocking(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        for g in &garbage {
            sock.send_to(g, to).expect("send garbage");
        }
        // Two of them are queries with a transaction id: they get error replies.
        let mut buf = [0u8; 4096];
        let mut replies = 0;
        while sock.recv_from(&mut buf).is_ok() {
            replies += 1;
        }
        assert_eq!(
            replies, 2,
            "error 203 for the two bad queries, nothing else"
        );
        sock
    })
    .await
    .unwrap();
    let s = wait_dht_stats(
        &node,
        "every bad packet counted",
        Duration::from_secs(30),
        |s| s.malformed + s.unexpected >= 10,
    )
    .await;
    assert_eq!(s.queries_in, 0, "none of them was taken for a query");
    // The id-is-an-int query gets a KRPC error 203, and a good ping still gets its answer.
    let reply = tokio::task::spawn_blocking(move || {
        let e = exchange(&sock, to, b"d1:ad2:idi5ee1:q4:ping1:t2:zz1:y1:qe");
        let r = exchange(&sock, to, &ping);
        (e, r)
    })
    .await
    .unwrap();
    let err = engine::dht::parse_krpc(&reply.0.expect("an error reply")).unwrap();
    assert!(matches!(
        err.body,
        engine::dht::krpc::Body::Error { code: 203, .. }
    ));
    let pong = engine::dht::parse_krpc(&reply.1.expect("a ping reply")).unwrap();
    assert_eq!(pong.tid, b"aa");
    assert!(
        matches!(pong.body, engine::dht::krpc::Body::Response(ref r) if r.id == node.node_id())
    );
    node.shutdown().await;
}
