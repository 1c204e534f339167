//! Memory and CPU of an idle DHT node whose routing table holds 1,000 live nodes.
//!
//! `cargo run --release -p engine --example dht_idle -- [NODES] [IDLE_SECS]`
//! (defaults 1000 and 60; run it inside `scripts/in-netns.sh`).
//!
//! A child process (this program with `--responders`) binds NODES UDP sockets on
//! 127.0.0.1, each a minimal KRPC responder whose id is crafted to fall into one of our
//! buckets (8 per bucket, so a table of 160 x 8 can hold them all). The measured node
//! starts from a saved table listing them, pings them all (verification rate raised for
//! the warm-up), and once every node is good it idles for IDLE_SECS while we read its
//! process's CPU time and resident memory from /proc/self.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use engine::dht::krpc::{self, Body, CompactNode, Message, Response};
use engine::dht::{persist, Dht, DhtConfig, DhtLimits, NodeId};
use std::io::{BufRead, BufReader};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if args.get(1).map(String::as_str) == Some("--responders") {
        let n: usize = args[2].parse().expect("count");
        let own = InfoHashHex(&args[3]).id();
        rt.block_on(responders(n, own));
    } else {
        let n = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
        let secs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(60);
        rt.block_on(measure(n, secs));
    }
}

struct InfoHashHex<'a>(&'a str);

impl InfoHashHex<'_> {
    fn id(&self) -> NodeId {
        NodeId(engine::InfoHash::from_hex(self.0).expect("hex id").0)
    }
}

/// The child: `n` responders answering ping/find_node/get_peers with an empty answer.
async fn responders(n: usize, own: NodeId) {
    let mut lines = String::new();
    for i in 0..n {
        let id = own.random_in_bucket(i / 8);
        let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = sock.local_addr().expect("addr").port();
        lines.push_str(&format!(
            "NODE {} {port}\n",
            engine::InfoHash(id.0).to_hex()
        ));
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            while let Ok((len, from)) = sock.recv_from(&mut buf).await {
                let Ok(m) = krpc::parse(&buf[..len]) else {
                    continue;
                };
                if let Body::Query(_) = m.body {
                    let r = Message::response(
                        m.tid,
                        Response {
                            id,
                            nodes: Some(vec![]),
                            ..Response::default()
                        },
                    );
                    let _ = sock.send_to(&r.encode(), from).await;
                }
            }
        });
    }
    println!("{lines}READY");
    // Until the parent closes our stdin.
    let _ = tokio::task::spawn_blocking(|| std::io::stdin().lines().count()).await;
}

/// (user + system CPU seconds, resident set KiB) of this process.
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is field 14.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (ticks as f64 / 100.0, rss)
}

async fn measure(n: usize, idle_secs: u64) {
    let own = NodeId::random();
    let mut child = Command::new(std::env::current_exe().expect("exe"))
        .args([
            "--responders",
            &n.to_string(),
            &engine::InfoHash(own.0).to_hex(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn responders");
    let out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut nodes = Vec::new();
    for line in out.lines() {
        let Ok(line) = line else { break };
        if line == "READY" {
            break;
        }
        let mut w = line.split_whitespace().skip(1);
        let id = InfoHashHex(w.next().expect("id")).id();
        let port: u16 = w.next().and_then(|p| p.parse().ok()).expect("port");
        nodes.push(CompactNode {
            id,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        });
    }
    assert_eq!(nodes.len(), n, "responders did not start");

    let (cpu0, rss0) = usage();
    let mut c = DhtConfig::new("127.0.0.1:0".parse().expect("addr"));
    c.node_id = Some(own);
    c.saved_table = Some(persist::encode(own, nodes.into_iter()));
    c.limits = DhtLimits {
        pings_per_second: 200,
        ..DhtLimits::default()
    };
    let dht = Dht::start(c).await.expect("start");
    let t0 = Instant::now();
    loop {
        let s = dht.stats().await.expect("stats");
        if s.good_nodes >= n && s.in_flight == 0 && s.lookups_running == 0 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "warm-up stalled: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let warm = t0.elapsed();
    let (cpu1, rss1) = usage();
    let s1 = dht.stats().await.expect("stats");
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let (cpu2, rss2) = usage();
    let s2 = dht.stats().await.expect("stats");
    println!("routing table: {} nodes ({} good)", s2.nodes, s2.good_nodes);
    println!(
        "warm-up (verify {n} nodes): {:.1} s, {:.2} CPU-s",
        warm.as_secs_f64(),
        cpu1 - cpu0
    );
    println!(
        "idle {idle_secs} s: {:.3} CPU-s ({:.3} % of one core), {} queries sent, {} received",
        cpu2 - cpu1,
        (cpu2 - cpu1) / idle_secs as f64 * 100.0,
        s2.queries_out - s1.queries_out,
        s2.responses_in - s1.responses_in
    );
    println!(
        "RSS: {rss0} KiB before the node, {rss1} KiB warm, {rss2} KiB after idling (node: +{} KiB)",
        rss2.saturating_sub(rss0)
    );
    println!(
        "saved table: {} bytes",
        dht.save().await.expect("save").len()
    );
    dht.shutdown().await;
    drop(child.stdin.take());
    let _ = child.wait();
}
