//! One UDP socket for every uTP connection (keyed by remote address and our receive
//! connection id), plus whatever else arrives on the port (DHT datagrams), handed on.
//!
//! Three tasks: the receive loop reads ready datagrams a batch at a time (`udp::Udp::recv`),
//! feeds each to its connection under that connection's lock, and sends one ACK per
//! connection per batch (a natural delayed ACK); the ticker runs the connections' timers
//! every few ms; the flusher sends what the kernel refused. The application side
//! (`UtpStream`) takes the same per-connection lock to move bytes. Whoever runs a
//! connection queues its datagrams in an `Outbox` and sends them in runs afterwards. Lock
//! order: `conns` (the map) is never held while a connection's lock is taken; the send
//! backlog's lock is taken last, alone.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::conn::Conn;
use super::packet::{looks_like_utp, Packet, PacketType};
use super::stream::{ConnCell, UtpStream};
use super::udp::{self, Outbox, RecvBufs, Udp};

/// Receive batches read per wake-up of the receive loop before it yields.
const RECV_ROUNDS: usize = 8;
/// How often connection timers run.
const TICK: Duration = Duration::from_millis(10);
/// Incoming connections waiting for `accept`.
const ACCEPT_BACKLOG: usize = 64;
/// Socket buffers asked of the kernel: a window's worth of packets on a fast link.
const SOCKET_BUFFER: usize = 4 << 20;
/// Connections one socket holds at most (incoming SYNs beyond it are ignored).
const MAX_CONNS: usize = 4096;

/// A non-uTP datagram and its sender.
pub type Datagram = (SocketAddr, Vec<u8>);

pub(crate) type Key = (SocketAddr, u16);

/// Counters of a socket.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UtpStats {
    pub packets_in: u64,
    pub packets_out: u64,
    pub malformed: u64,
}

pub(crate) struct Shared {
    pub udp: Arc<Udp>,
    epoch: Instant,
    pub conns: Mutex<HashMap<Key, Arc<ConnCell>>>,
    accept_tx: mpsc::Sender<UtpStream>,
    accept_rx: tokio::sync::Mutex<mpsc::Receiver<UtpStream>>,
    other: OnceLock<mpsc::Sender<Datagram>>,
    packets_in: AtomicU64,
    malformed: AtomicU64,
    /// Tests: drop one outgoing packet in this many (0: none).
    drop_one_in: AtomicU32,
    dropped: AtomicU64,
}

impl Shared {
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Queues one datagram in `out`; false when the kernel has refused so much that the
    /// backlog is full (the connection holds the packet and tries again later).
    pub fn queue(&self, out: &mut Outbox, buf: &[u8], to: SocketAddr) -> bool {
        let n = self.drop_one_in.load(Ordering::Relaxed);
        if n != 0 {
            let k = self.dropped.fetch_add(1, Ordering::Relaxed);
            if k.is_multiple_of(u64::from(n)) {
                return true; // "sent", and lost on the way
            }
        }
        if !self.udp.has_room() {
            return false;
        }
        out.push(to, buf);
        true
    }

    fn lookup(&self, key: &Key) -> Option<Arc<ConnCell>> {
        self.lock().get(key).cloned()
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Arc<ConnCell>>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A uTP endpoint: connects out and accepts in over one UDP socket. Cheap to clone; the
/// tasks stop when the last clone is dropped.
#[derive(Clone)]
pub struct UtpSocket {
    shared: Arc<Shared>,
    tasks: Arc<Tasks>,
}

struct Tasks(Mutex<Vec<JoinHandle<()>>>);

impl Tasks {
    fn abort(&self) {
        for t in self.0.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            t.abort();
        }
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        self.abort();
    }
}

impl UtpSocket {
    /// Binds `addr` and starts the receive loop and the timers.
    pub async fn bind(addr: SocketAddr) -> io::Result<UtpSocket> {
        let udp = bind_udp(addr)?;
        enlarge_buffers(&udp);
        let udp = Arc::new(Udp::new(udp)?);
        let (accept_tx, accept_rx) = mpsc::channel(ACCEPT_BACKLOG);
        let shared = Arc::new(Shared {
            udp: udp.clone(),
            epoch: Instant::now(),
            conns: Mutex::new(HashMap::new()),
            accept_tx,
            accept_rx: tokio::sync::Mutex::new(accept_rx),
            other: OnceLock::new(),
            packets_in: AtomicU64::new(0),
            malformed: AtomicU64::new(0),
            drop_one_in: AtomicU32::new(0),
            dropped: AtomicU64::new(0),
        });
        let tasks = vec![
            tokio::spawn(recv_loop(shared.clone())),
            tokio::spawn(tick_loop(shared.clone())),
            tokio::spawn(udp::flusher(udp)),
        ];
        Ok(UtpSocket {
            shared,
            tasks: Arc::new(Tasks(Mutex::new(tasks))),
        })
    }

    /// Stops receiving and the timers (every clone); open streams stall and fail.
    pub fn close(&self) {
        self.tasks.abort();
        let cells: Vec<_> = self.shared.lock().drain().map(|(_, c)| c).collect();
        for c in cells {
            c.abort();
        }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.udp.sock.local_addr()
    }

    /// The UDP socket itself, for another protocol on the same port to send through.
    pub fn udp(&self) -> Arc<UdpSocket> {
        self.shared.udp.sock.clone()
    }

    /// Datagrams that are not uTP (the DHT's KRPC) from now on; only the first call gets
    /// them. A full channel drops datagrams (UDP semantics).
    pub fn other_datagrams(&self, capacity: usize) -> Option<mpsc::Receiver<Datagram>> {
        let (tx, rx) = mpsc::channel(capacity);
        self.shared.other.set(tx).ok().map(|_| rx)
    }

    /// Opens a connection to `addr` (SYN, three tries a second apart).
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<UtpStream> {
        let sh = &self.shared;
        let mut out = Outbox::default();
        let cell = {
            let mut map = sh.lock();
            if map.len() >= MAX_CONNS {
                return Err(io::ErrorKind::OutOfMemory.into());
            }
            let mut id: u16 = rand::random();
            let mut tries = 0;
            while map.contains_key(&(addr, id)) || map.contains_key(&(addr, id.wrapping_add(1))) {
                id = rand::random();
                tries += 1;
                if tries > 64 {
                    return Err(io::ErrorKind::AddrInUse.into());
                }
            }
            let now = sh.now();
            let conn = Conn::connect(id, now, &mut |b: &[u8]| sh.queue(&mut out, b, addr));
            let cell = Arc::new(ConnCell::new(conn, addr, sh.clone()));
            map.insert((addr, id), cell.clone());
            cell
        };
        sh.udp.send(&mut out);
        // The stream first: if this future is dropped, so is the connection.
        let stream = UtpStream::new(cell);
        std::future::poll_fn(|cx| stream.cell().poll_connected(cx)).await?;
        Ok(stream)
    }

    /// The next incoming connection.
    pub async fn accept(&self) -> io::Result<UtpStream> {
        let mut rx = self.shared.accept_rx.lock().await;
        rx.recv()
            .await
            .ok_or_else(|| io::ErrorKind::NotConnected.into())
    }

    pub fn stats(&self) -> UtpStats {
        let sh = &self.shared;
        UtpStats {
            packets_in: sh.packets_in.load(Ordering::Relaxed),
            packets_out: sh.udp.packets_out.load(Ordering::Relaxed),
            malformed: sh.malformed.load(Ordering::Relaxed),
        }
    }

    /// Connections the socket holds (open, connecting or lingering).
    pub fn connections(&self) -> usize {
        self.shared.lock().len()
    }

    /// Tests: lose one outgoing datagram in `n` (0: none).
    #[doc(hidden)]
    pub fn set_drop_one_in(&self, n: u32) {
        self.shared.drop_one_in.store(n, Ordering::Relaxed);
    }
}

/// A UDP socket on `addr`; an IPv6 one takes no IPv4 datagrams, so `[::]:P` can sit beside
/// the IPv4 socket on `0.0.0.0:P` (one port for both families, as the TCP listeners have).
fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

/// Larger kernel buffers (best effort; the kernel caps them at its maximum unless we are
/// allowed to force them).
fn enlarge_buffers(udp: &UdpSocket) {
    #[cfg(target_os = "linux")]
    {
        use rustix::net::sockopt;
        // The forced variants pass the system maximum when we may (CAP_NET_ADMIN).
        if sockopt::set_socket_recv_buffer_size_force(udp, SOCKET_BUFFER).is_err() {
            let _ = sockopt::set_socket_recv_buffer_size(udp, SOCKET_BUFFER);
        }
        if sockopt::set_socket_send_buffer_size_force(udp, SOCKET_BUFFER).is_err() {
            let _ = sockopt::set_socket_send_buffer_size(udp, SOCKET_BUFFER);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = udp;
}

async fn recv_loop(sh: Arc<Shared>) {
    let mut bufs = RecvBufs::new();
    let mut out = Outbox::default();
    let mut acks: Vec<Arc<ConnCell>> = Vec::new();
    let mut wakers = Vec::new();
    loop {
        if let Err(e) = sh.udp.sock.readable().await {
            tracing::debug!("uTP socket: {e}");
            tokio::time::sleep(TICK).await;
            continue;
        }
        // The last connection a packet went to: a stream's packets come in runs.
        let mut last: Option<(Key, Arc<ConnCell>)> = None;
        for _ in 0..RECV_ROUNDS {
            let r = sh.udp.recv(&mut bufs, |data, from| {
                on_datagram(&sh, data, from, &mut last, &mut acks, &mut wakers, &mut out)
            });
            match r {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // ICMP errors surface here on some systems; the socket stays usable.
                Err(e) => tracing::trace!("uTP receive: {e}"),
            }
            let now = sh.now();
            for cell in acks.drain(..) {
                cell.flush_ack(now, &mut out);
            }
            sh.udp.send(&mut out);
            for w in wakers.drain(..) {
                w.wake();
            }
        }
    }
}

fn on_datagram(
    sh: &Arc<Shared>,
    data: &[u8],
    from: SocketAddr,
    last: &mut Option<(Key, Arc<ConnCell>)>,
    acks: &mut Vec<Arc<ConnCell>>,
    wakers: &mut Vec<std::task::Waker>,
    out: &mut Outbox,
) {
    let Some(&first) = data.first() else { return };
    if !looks_like_utp(first) {
        if let Some(tx) = sh.other.get() {
            let _ = tx.try_send((from, data.to_vec()));
        }
        return;
    }
    let p = match Packet::parse(data) {
        Ok(p) => p,
        Err(e) => {
            sh.malformed.fetch_add(1, Ordering::Relaxed);
            return tracing::trace!(%from, "malformed uTP packet: {e}");
        }
    };
    sh.packets_in.fetch_add(1, Ordering::Relaxed);
    let h = p.header;
    // A SYN names the initiator's receive id; ours for it is one more.
    let key = if h.ty == PacketType::Syn {
        (from, h.conn_id.wrapping_add(1))
    } else {
        (from, h.conn_id)
    };
    let cell = match last {
        Some((k, c)) if *k == key => Some(c.clone()),
        _ => sh.lookup(&key),
    };
    let Some(cell) = cell else {
        if h.ty == PacketType::Syn {
            accept(sh, &h, from, key, out);
        }
        return;
    };
    let now = sh.now();
    let (ack_due, finished) = cell.on_packet(&p, now, wakers, out);
    if ack_due && !acks.iter().any(|c| Arc::ptr_eq(c, &cell)) {
        acks.push(cell.clone());
    }
    if finished {
        sh.lock().remove(&key);
        *last = None;
    } else {
        *last = Some((key, cell));
    }
}

fn accept(
    sh: &Arc<Shared>,
    syn: &super::packet::Header,
    from: SocketAddr,
    key: Key,
    out: &mut Outbox,
) {
    let Ok(permit) = sh.accept_tx.try_reserve() else {
        return tracing::debug!(%from, "uTP accept backlog full, SYN ignored");
    };
    let mut map = sh.lock();
    // Our send id would collide with a connection we opened to the same peer.
    if map.len() >= MAX_CONNS || map.contains_key(&(from, syn.conn_id)) {
        return;
    }
    let now = sh.now();
    let conn = Conn::accept(syn, rand::random(), now, &mut |b: &[u8]| {
        sh.queue(out, b, from)
    });
    let cell = Arc::new(ConnCell::new(conn, from, sh.clone()));
    map.insert(key, cell.clone());
    drop(map);
    permit.send(UtpStream::new(cell));
}

async fn tick_loop(sh: Arc<Shared>) {
    let mut cells: Vec<(Key, Arc<ConnCell>)> = Vec::new();
    let mut out = Outbox::default();
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        cells.extend(sh.lock().iter().map(|(k, c)| (*k, c.clone())));
        let now = sh.now();
        let mut gone = Vec::new();
        for (key, cell) in cells.drain(..) {
            if cell.tick(now, &mut out) {
                gone.push(key);
            }
        }
        sh.udp.send(&mut out);
        if !gone.is_empty() {
            let mut map = sh.lock();
            for k in gone {
                map.remove(&k);
            }
        }
    }
}
