//! Two sockets on loopback: connect, accept, many MiB both ways byte-exact, and the same
//! with outgoing datagrams dropped in-process.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u8)
                .wrapping_mul(31)
                .wrapping_add(salt ^ (i >> 12) as u8)
        })
        .collect()
}

async fn pair() -> (UtpSocket, UtpSocket) {
    let a = UtpSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let b = UtpSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (a, b)
}

/// a sends `len` bytes to b while b sends `len / 4` back; both compared byte for byte.
async fn exchange(a: &UtpSocket, b: &UtpSocket, len: usize) -> Duration {
    let baddr = b.local_addr().unwrap();
    let accept = tokio::spawn({
        let b = b.clone();
        async move { b.accept().await.unwrap() }
    });
    let start = Instant::now();
    let out = a.connect(baddr).await.unwrap();
    let inc = accept.await.unwrap();
    let (mut ar, mut aw) = out.into_split();
    let (mut br, mut bw) = inc.into_split();
    let up = pattern(len, 1);
    let down = pattern(len / 4, 2);
    let (up2, down2) = (up.clone(), down.clone());
    let w1 = tokio::spawn(async move {
        aw.write_all(&up2).await.unwrap();
        aw.shutdown().await.unwrap();
        aw
    });
    let w2 = tokio::spawn(async move {
        bw.write_all(&down2).await.unwrap();
        bw.shutdown().await.unwrap();
        bw
    });
    let r1 = tokio::spawn(async move {
        let mut got = Vec::new();
        br.read_to_end(&mut got).await.unwrap();
        got
    });
    let mut got_down = Vec::new();
    ar.read_to_end(&mut got_down).await.unwrap();
    let got_up = r1.await.unwrap();
    let took = start.elapsed();
    assert!(
        got_up == up,
        "a→b bytes differ ({} of {})",
        got_up.len(),
        up.len()
    );
    assert!(got_down == down, "b→a bytes differ");
    drop((w1.await.unwrap(), w2.await.unwrap()));
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_mib_both_ways_over_loopback() {
    let (a, b) = pair().await;
    let len = 32 << 20;
    let took = exchange(&a, &b, len).await;
    let mibs = len as f64 / (1 << 20) as f64 / took.as_secs_f64();
    eprintln!("uTP loopback: {mibs:.0} MiB/s");
    // Both sides forget the connections once the FINs are acknowledged.
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.connections() + b.connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(a.connections() + b.connections(), 0, "connections linger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_survives_lost_datagrams() {
    let (a, b) = pair().await;
    // 1 in 30 datagrams lost each way, SYNs and ACKs included.
    a.set_drop_one_in(30);
    b.set_drop_one_in(30);
    exchange(&a, &b, 4 << 20).await;
}

#[tokio::test]
async fn connect_to_a_silent_port_times_out() {
    let a = UtpSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    // A bound UDP socket that never answers.
    let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let start = Instant::now();
    let err = match a.connect(silent.local_addr().unwrap()).await {
        Ok(_) => panic!("connected to nobody"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn other_datagrams_reach_their_channel() {
    let a = UtpSocket::bind("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut rx = a.other_datagrams(8).unwrap();
    assert!(a.other_datagrams(8).is_none(), "only one taker");
    let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(
        b"d1:ad2:id20:xxxxxxxxxxxxxxxxxxxxe1:q4:ping1:t2:aa1:y1:qe",
        a.local_addr().unwrap(),
    )
    .await
    .unwrap();
    // Garbage that is neither: dropped, counted as malformed when it looks like uTP.
    s.send_to(&[0x41, 0, 0], a.local_addr().unwrap())
        .await
        .unwrap();
    let (from, d) = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from, s.local_addr().unwrap());
    assert!(d.starts_with(b"d1:a"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(a.stats().malformed, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_read_half_keeps_the_write_half_open() {
    let (a, b) = pair().await;
    let baddr = b.local_addr().unwrap();
    let accept = tokio::spawn({
        let b = b.clone();
        async move { b.accept().await.unwrap() }
    });
    let out = a.connect(baddr).await.unwrap();
    let inc = accept.await.unwrap();
    let (ar, mut aw) = out.into_split();
    // a stops reading; it must still be able to send all of its data.
    drop(ar);
    let data = pattern(256 << 10, 3);
    let sent = data.clone();
    let writer = tokio::spawn(async move {
        aw.write_all(&sent).await?;
        aw.shutdown().await
    });
    let mut got = Vec::new();
    let mut inc = inc;
    tokio::time::timeout(Duration::from_secs(10), inc.read_to_end(&mut got))
        .await
        .expect("the transfer finishes")
        .unwrap();
    writer
        .await
        .unwrap()
        .expect("writes after the read half is gone");
    assert!(
        got == data,
        "bytes differ ({} of {})",
        got.len(),
        data.len()
    );
}

#[tokio::test]
async fn the_first_syn_of_a_fresh_socket_is_not_lost() {
    // A socket the reactor has not yet seen writable used to drop its first datagram, so
    // every connect from a fresh socket waited out the one-second SYN timer.
    let (a, b) = pair().await;
    let baddr = b.local_addr().unwrap();
    let accept = tokio::spawn(async move { b.accept().await.unwrap() });
    let start = Instant::now();
    let _s = a.connect(baddr).await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "connect took {:?}",
        start.elapsed()
    );
    drop(accept.await.unwrap());
}

#[tokio::test]
async fn an_ipv6_socket_shares_its_port_with_the_ipv4_one() {
    let v4 = UtpSocket::bind("0.0.0.0:0".parse().unwrap()).await.unwrap();
    let port = v4.local_addr().unwrap().port();
    let v6 = UtpSocket::bind(format!("[::]:{port}").parse().unwrap())
        .await
        .unwrap_or_else(|e| panic!("[::]:{port} beside 0.0.0.0:{port}: {e}"));
    assert_eq!(v6.local_addr().unwrap().port(), port);
}
