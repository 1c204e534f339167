//! The socket loop: one task owns the UDP socket and the [`Node`], and serves the
//! handle's commands. Everything protocol-related happens in the node; this file only
//! moves datagrams and time.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::krpc::MAX_PACKET;
use super::node::{LookupRequest, Node};
use super::DhtStats;

/// How often the node's timers run while queries are in flight, and when idle.
const TICK_BUSY: Duration = Duration::from_millis(250);
const TICK_IDLE: Duration = Duration::from_secs(1);

pub enum Command {
    Lookup(LookupRequest),
    AddNode(SocketAddr),
    Bootstrap(Vec<SocketAddr>),
    Stats(oneshot::Sender<DhtStats>),
    Save(oneshot::Sender<Vec<u8>>),
    Shutdown,
}

/// Where datagrams come from: the node's own socket, or a socket shared with uTP whose
/// receive loop hands over the KRPC datagrams.
pub enum Io {
    Own(UdpSocket),
    Shared {
        udp: Arc<UdpSocket>,
        incoming: mpsc::Receiver<(SocketAddr, Vec<u8>)>,
    },
}

impl Io {
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.socket().local_addr()
    }

    fn socket(&self) -> &UdpSocket {
        match self {
            Io::Own(s) => s,
            Io::Shared { udp, .. } => udp,
        }
    }

    async fn recv(&mut self, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
        match self {
            Io::Own(s) => s.recv_from(buf).await,
            Io::Shared { incoming, .. } => match incoming.recv().await {
                Some((from, d)) => {
                    let n = d.len().min(buf.len());
                    buf[..n].copy_from_slice(&d[..n]);
                    Ok((n, from))
                }
                // The uTP socket stopped: nothing more arrives.
                None => std::future::pending().await,
            },
        }
    }
}

pub async fn run(mut io: Io, mut node: Node, mut commands: mpsc::Receiver<Command>) {
    // One byte more than the largest packet accepted, so a larger one is seen as such.
    let mut buf = vec![0u8; MAX_PACKET + 1];
    let mut next_tick = Instant::now() + TICK_IDLE;
    loop {
        tokio::select! {
            r = io.recv(&mut buf) => match r {
                Ok((n, from)) => node.handle_datagram(from, &buf[..n], Instant::now().into_std()),
                // ICMP errors surface here on some systems; the socket stays usable.
                Err(e) => tracing::debug!(error = %e, "DHT socket receive error"),
            },
            cmd = commands.recv() => {
                let now = Instant::now().into_std();
                match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::Lookup(req)) => node.start_lookup(req, now),
                    Some(Command::AddNode(addr)) => node.add_node(addr, now),
                    Some(Command::Bootstrap(addrs)) => node.bootstrap(addrs, now),
                    Some(Command::Stats(tx)) => { let _ = tx.send(node.stats(now)); }
                    Some(Command::Save(tx)) => { let _ = tx.send(node.save()); }
                }
            }
            _ = tokio::time::sleep_until(next_tick) => {
                node.tick(Instant::now().into_std());
                next_tick = Instant::now() + if node.busy() { TICK_BUSY } else { TICK_IDLE };
            }
        }
        if node.busy() {
            next_tick = next_tick.min(Instant::now() + TICK_BUSY);
        }
        let out: Vec<(SocketAddr, Vec<u8>)> = node.take_outgoing().collect();
        for (to, data) in out {
            if let Err(e) = io.socket().send_to(&data, to).await {
                tracing::debug!(%to, error = %e, "DHT send failed");
            }
        }
    }
}

/// Resolves `host:port` names (a name that does not resolve in time is skipped).
pub async fn resolve(names: Vec<String>) -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for name in names {
        match tokio::time::timeout(Duration::from_secs(10), tokio::net::lookup_host(&name)).await {
            Ok(Ok(addrs)) => out.extend(addrs),
            Ok(Err(e)) => tracing::warn!(%name, error = %e, "DHT bootstrap node does not resolve"),
            Err(_) => tracing::warn!(%name, "DHT bootstrap node: name lookup timed out"),
        }
    }
    out
}
