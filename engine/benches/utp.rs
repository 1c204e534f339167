//! uTP throughput between two sockets of one process on loopback: MiB/s, CPU seconds per GiB
//! (both ends together), datagrams and retransmissions. No criterion: one transfer is long
//! enough to measure, and what matters is the rate at steady state.
//!
//! `cargo bench -p engine --bench utp` (`UTP_BENCH_MIB`, default 512; `UTP_BENCH_RUNS`, 3;
//! `UTP_BENCH_BACK=1`: a quarter as much flows back at the same time, on the same connection)

use std::time::{Duration, Instant};

use engine::utp::UtpSocket;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1 << 20;
/// Bytes per application write (a peer writer hands over about this much at once).
const WRITE: usize = 256 << 10;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// This process's user + system CPU time so far (`/proc/self/stat`, in clock ticks of 10 ms).
fn cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Writes `total` bytes in `WRITE`-sized slices, then closes.
async fn send_all<W: AsyncWriteExt + Unpin>(mut w: W, total: usize) -> W {
    let chunk: Vec<u8> = (0..WRITE).map(|i| (i * 7 + i / 997) as u8).collect();
    let mut sent = 0;
    while sent < total {
        let n = WRITE.min(total - sent);
        w.write_all(&chunk[..n]).await.expect("write");
        sent += n;
    }
    w.shutdown().await.expect("shutdown");
    w
}

/// Reads to the end; returns the byte count.
async fn read_all<R: AsyncReadExt + Unpin>(mut r: R) -> usize {
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0;
    loop {
        let n = r.read(&mut buf).await.expect("read");
        if n == 0 {
            return got;
        }
        got += n;
    }
}

async fn one_run(total: usize, back: usize) -> (Duration, Duration, u64, u64) {
    let a = UtpSocket::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind a");
    let b = UtpSocket::bind("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("bind b");
    let baddr = b.local_addr().expect("b addr");
    let accept = tokio::spawn({
        let b = b.clone();
        async move { b.accept().await.expect("accept") }
    });
    let out = a.connect(baddr).await.expect("connect");
    let inc = accept.await.expect("accept task");
    let (cpu0, t0) = (cpu(), Instant::now());
    let (ar, aw) = out.into_split();
    let (br, bw) = inc.into_split();
    let writer = tokio::spawn(send_all(aw, total));
    let back_writer = tokio::spawn(send_all(bw, back));
    let back_reader = tokio::spawn(read_all(ar));
    let got = read_all(br).await;
    let got_back = back_reader.await.expect("back reader");
    let (took, spent) = (t0.elapsed(), cpu() - cpu0);
    assert_eq!((got, got_back), (total, back), "bytes received");
    let (w, bw) = (
        writer.await.expect("writer"),
        back_writer.await.expect("back"),
    );
    let retransmits = w.retransmits() + bw.retransmits();
    (took, spent, a.stats().packets_out, retransmits)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (a filter) is ignored.
    let total = env_or("UTP_BENCH_MIB", 512) * MIB;
    let runs = env_or("UTP_BENCH_RUNS", 3);
    let back = if env_or("UTP_BENCH_BACK", 0) == 1 {
        total / 4
    } else {
        0
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "uTP loopback, {} MiB one way and {} MiB back, {runs} runs",
        total / MIB,
        back / MIB
    );
    println!("| run | MiB/s | CPU s per GiB | datagrams sent | retransmitted |");
    println!("|---:|---:|---:|---:|---:|");
    for run in 1..=runs {
        let (took, spent, packets, retransmits) = rt.block_on(one_run(total, back));
        let mibs = (total / MIB) as f64 / took.as_secs_f64();
        let per_gib = spent.as_secs_f64() / (total as f64 / (1u64 << 30) as f64);
        println!("| {run} | {mibs:.0} | {per_gib:.2} | {packets} | {retransmits} |");
    }
}
