//! Datagram I/O in batches over the shared UDP socket. libtorrent's uTP pays one system call
//! per packet each way; here a run of equal-sized packets to one peer leaves in one `sendmsg`
//! (UDP GSO: the kernel cuts it into datagrams, and on loopback hands a GRO-enabled receiver
//! the run whole), and receiving takes up to 32 messages per `recvmmsg`, each possibly a GRO
//! run of many datagrams. `quinn-udp` does the system calls (and falls back to one datagram
//! per call where the kernel has no GSO/GRO).
//!
//! Sends are queued in an [`Outbox`] while a connection's lock is held and go out after it is
//! released. What the kernel refuses (a full socket buffer, or a socket the reactor has not
//! yet seen writable) waits in a bounded backlog, in order, for a flusher task; callers see
//! the backlog full and hold their packets (`Conn` retries them), rather than losing them.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use quinn_udp::{RecvMeta, Transmit, UdpSocketState, BATCH_SIZE};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::Notify;

/// Datagrams the kernel refused that may wait before callers hold theirs back.
const MAX_BACKLOG: usize = 4096;
/// Most bytes in one GSO send (the kernel's limit is a 64 KiB UDP payload).
const MAX_GSO_BYTES: usize = 60_000;
/// One receive buffer: a whole datagram, or a GRO run of them (at most 64 KiB).
const RECV_BUF: usize = 64 * 1024;

/// Datagrams to send, their bytes back to back.
#[derive(Default)]
pub(crate) struct Outbox {
    data: Vec<u8>,
    /// Destination, start in `data`, length.
    items: Vec<(SocketAddr, usize, usize)>,
}

impl Outbox {
    pub fn push(&mut self, to: SocketAddr, datagram: &[u8]) {
        self.items.push((to, self.data.len(), datagram.len()));
        self.data.extend_from_slice(datagram);
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn clear(&mut self) {
        self.items.clear();
        self.data.clear();
    }

    /// Forgets the first `n` datagrams.
    fn drop_front(&mut self, n: usize) {
        if n >= self.items.len() {
            return self.clear();
        }
        let cut = self.items[n].1;
        self.items.drain(..n);
        self.data.drain(..cut);
        for it in &mut self.items {
            it.1 -= cut;
        }
    }

    /// Appends datagrams `from..` of `other`.
    fn extend_from(&mut self, other: &Outbox, from: usize) {
        for &(to, start, len) in &other.items[from..] {
            self.push(to, &other.data[start..start + len]);
        }
    }

    /// The run that starts at item `i`: consecutive datagrams to one address, all as long
    /// as the first except perhaps the last, at most `max` of them. Returns its end index.
    fn run_end(&self, i: usize, max: usize) -> usize {
        let (to, start, len) = self.items[i];
        let mut j = i + 1;
        let mut end = start + len;
        while j < self.items.len() && j - i < max {
            let (t, _, l) = self.items[j];
            if t != to || l > len || end + l - start > MAX_GSO_BYTES {
                break;
            }
            end += l;
            j += 1;
            if l < len {
                break; // a shorter one ends the run
            }
        }
        j
    }
}

/// The socket and its batching state.
pub(crate) struct Udp {
    pub sock: Arc<UdpSocket>,
    state: UdpSocketState,
    backlog: Mutex<Outbox>,
    backlog_len: AtomicUsize,
    flush: Notify,
    pub packets_out: AtomicU64,
}

impl Udp {
    pub fn new(sock: UdpSocket) -> io::Result<Udp> {
        let state = UdpSocketState::new((&sock).into())?;
        allow_fragmentation(&sock);
        Ok(Udp {
            sock: Arc::new(sock),
            state,
            backlog: Mutex::new(Outbox::default()),
            backlog_len: AtomicUsize::new(0),
            flush: Notify::new(),
            packets_out: AtomicU64::new(0),
        })
    }

    /// Whether another datagram may be queued now.
    pub fn has_room(&self) -> bool {
        self.backlog_len.load(Ordering::Relaxed) < MAX_BACKLOG
    }

    fn backlog(&self) -> MutexGuard<'_, Outbox> {
        self.backlog.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends everything in `out` (left empty), after anything still waiting in the backlog.
    pub fn send(&self, out: &mut Outbox) {
        if out.is_empty() {
            return;
        }
        let mut backlog = self.backlog();
        if backlog.is_empty() {
            let sent = self.transmit(out);
            if sent < out.items.len() {
                backlog.extend_from(out, sent);
                self.flush.notify_one();
            }
        } else {
            backlog.extend_from(out, 0);
            let sent = self.transmit(&backlog);
            backlog.drop_front(sent);
        }
        self.backlog_len
            .store(backlog.items.len(), Ordering::Relaxed);
        out.clear();
    }

    /// Sends the datagrams of `out` from the front in runs; returns how many left (it stops
    /// where the kernel would block).
    fn transmit(&self, out: &Outbox) -> usize {
        let max = self.state.max_gso_segments().max(1);
        let mut i = 0;
        while i < out.items.len() {
            let j = out.run_end(i, max);
            let (to, start, len) = out.items[i];
            let (_, last_start, last_len) = out.items[j - 1];
            let t = Transmit {
                destination: to,
                ecn: None,
                contents: &out.data[start..last_start + last_len],
                segment_size: (j - i > 1).then_some(len),
                src_ip: None,
            };
            let r = self.sock.try_io(Interest::WRITABLE, || {
                self.state.send((&*self.sock).into(), &t)
            });
            match r {
                Ok(()) => {
                    self.packets_out
                        .fetch_add((j - i) as u64, Ordering::Relaxed);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return i,
                // Other errors are logged by quinn-udp and count as sent (lost on the way).
                Err(e) => tracing::trace!(%to, "uTP send failed: {e}"),
            }
            i = j;
        }
        i
    }

    /// Receives what is ready, up to one batch of messages, calling `each` per datagram;
    /// returns the datagrams read (`WouldBlock` when none was ready).
    pub fn recv(
        &self,
        bufs: &mut RecvBufs,
        mut each: impl FnMut(&[u8], SocketAddr),
    ) -> io::Result<usize> {
        let mut slices: Vec<IoSliceMut<'_>> =
            bufs.bufs.iter_mut().map(|b| IoSliceMut::new(b)).collect();
        let n = self.sock.try_io(Interest::READABLE, || {
            self.state
                .recv((&*self.sock).into(), &mut slices, &mut bufs.meta)
        })?;
        drop(slices);
        let mut count = 0;
        for (meta, buf) in bufs.meta[..n].iter().zip(&bufs.bufs) {
            let data = &buf[..meta.len.min(buf.len())];
            let stride = if meta.stride == 0 {
                data.len()
            } else {
                meta.stride
            };
            for d in data.chunks(stride.max(1)) {
                each(d, meta.addr);
                count += 1;
            }
        }
        Ok(count)
    }
}

/// Receive buffers for [`Udp::recv`].
pub(crate) struct RecvBufs {
    bufs: Vec<Box<[u8]>>,
    meta: Vec<RecvMeta>,
}

impl RecvBufs {
    pub fn new() -> Self {
        RecvBufs {
            bufs: (0..BATCH_SIZE)
                .map(|_| vec![0u8; RECV_BUF].into_boxed_slice())
                .collect(),
            meta: vec![RecvMeta::default(); BATCH_SIZE],
        }
    }
}

/// Sends what the kernel refused once it takes more; runs until the socket is dropped.
pub(crate) async fn flusher(udp: Arc<Udp>) {
    loop {
        udp.flush.notified().await;
        loop {
            if let Err(e) = udp.sock.writable().await {
                tracing::debug!("uTP socket: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            let mut backlog = udp.backlog();
            let sent = udp.transmit(&backlog);
            backlog.drop_front(sent);
            udp.backlog_len
                .store(backlog.items.len(), Ordering::Relaxed);
            if backlog.is_empty() {
                break;
            }
        }
    }
}

/// `quinn-udp` forbids fragmentation (QUIC probes the path MTU); uTP packets are sized for a
/// 1500-byte MTU, so on a narrower path (a tunnel) the kernel should fragment them rather
/// than the router drop them, as it did before.
fn allow_fragmentation(sock: &UdpSocket) {
    #[cfg(target_os = "linux")]
    {
        use rustix::net::sockopt::{self, Ipv4PathMtuDiscovery, Ipv6PathMtuDiscovery};
        let _ = sockopt::set_ip_mtu_discover(sock, Ipv4PathMtuDiscovery::WANT);
        if sock.local_addr().is_ok_and(|a| a.is_ipv6()) {
            let _ = sockopt::set_ipv6_mtu_discover(sock, Ipv6PathMtuDiscovery::WANT);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = sock;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(p: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], p))
    }

    #[test]
    fn runs_group_equal_datagrams_to_one_address() {
        let mut o = Outbox::default();
        for len in [100, 100, 100, 40, 100] {
            o.push(addr(1), &vec![1; len]);
        }
        o.push(addr(2), &[2; 100]);
        o.push(addr(2), &[2; 120]);
        // Three of 100 and the shorter 40 close a run; then one; then two runs at addr 2.
        assert_eq!(o.run_end(0, 64), 4);
        assert_eq!(o.run_end(4, 64), 5);
        assert_eq!(o.run_end(5, 64), 6, "a longer datagram cannot join");
        assert_eq!(o.run_end(0, 2), 2, "the kernel's segment limit");
    }

    #[test]
    fn drop_front_keeps_the_rest_intact() {
        let mut o = Outbox::default();
        o.push(addr(1), b"aaa");
        o.push(addr(2), b"bb");
        o.push(addr(3), b"c");
        o.drop_front(2);
        assert_eq!(o.items, vec![(addr(3), 0, 1)]);
        assert_eq!(o.data, b"c");
        let mut p = Outbox::default();
        p.push(addr(9), b"z");
        p.extend_from(&o, 0);
        assert_eq!(p.data, b"zc");
        assert_eq!(p.items[1], (addr(3), 1, 1));
    }
}
