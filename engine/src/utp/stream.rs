//! The application's side of a connection: `UtpStream` (tokio `AsyncRead` + `AsyncWrite`)
//! and its owned halves, over the connection's one lock shared with the socket's tasks.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn::{Conn, State, Wake};
use super::packet::Packet;
use super::socket::Shared;
use super::udp::Outbox;

thread_local! {
    /// The datagrams an application-side call queues under a connection's lock; they leave
    /// once the lock is released.
    static OUTBOX: RefCell<Outbox> = RefCell::new(Outbox::default());
}

/// A connection and the tasks waiting on it.
pub(crate) struct Guarded {
    pub conn: Conn,
    pub read_waker: Option<Waker>,
    pub write_waker: Option<Waker>,
}

pub(crate) struct ConnCell {
    inner: Mutex<Guarded>,
    addr: SocketAddr,
    sock: Arc<Shared>,
    /// Stream handles alive (a stream, or its two halves).
    handles: AtomicUsize,
}

impl ConnCell {
    pub fn new(conn: Conn, addr: SocketAddr, sock: Arc<Shared>) -> Self {
        ConnCell {
            inner: Mutex::new(Guarded {
                conn,
                read_waker: None,
                write_waker: None,
            }),
            addr,
            sock,
            handles: AtomicUsize::new(0),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, Guarded> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the locked connection with a sender for its datagrams, which go out
    /// after the lock is released (the application's side; the socket's tasks pass their
    /// own outbox).
    fn with_sender<R>(
        &self,
        f: impl FnOnce(&mut Guarded, u64, &mut dyn FnMut(&[u8]) -> bool) -> R,
    ) -> R {
        let (sock, addr) = (&self.sock, self.addr);
        OUTBOX.with_borrow_mut(|out| {
            let r = {
                let mut g = self.lock();
                f(&mut g, sock.now(), &mut |b: &[u8]| sock.queue(out, b, addr))
            };
            sock.udp.send(out);
            r
        })
    }

    /// Feeds a packet; returns (an ACK is due, the socket may forget the connection). The
    /// tasks to wake go to `wakers`: the receive loop wakes them once per batch, so a reader
    /// gets many packets' bytes per wake-up.
    pub fn on_packet(
        &self,
        p: &Packet<'_>,
        now: u64,
        wakers: &mut Vec<Waker>,
        out: &mut Outbox,
    ) -> (bool, bool) {
        let (sock, addr) = (&self.sock, self.addr);
        let mut g = self.lock();
        let wake = g
            .conn
            .on_packet(p, now, &mut |b: &[u8]| sock.queue(out, b, addr));
        let r = (g.conn.ack_due, g.conn.finished());
        wakers.extend(take(&mut g, wake).into_iter().flatten());
        r
    }

    /// Sends the ACK a batch of packets earned (if still due).
    pub fn flush_ack(&self, now: u64, out: &mut Outbox) {
        let (sock, addr) = (&self.sock, self.addr);
        let mut g = self.lock();
        if g.conn.ack_due && g.conn.state == State::Connected {
            g.conn
                .send_state(now, &mut |b: &[u8]| sock.queue(out, b, addr));
        }
    }

    /// Runs the timers; returns whether the socket may forget the connection.
    pub fn tick(&self, now: u64, out: &mut Outbox) -> bool {
        let (sock, addr) = (&self.sock, self.addr);
        let mut g = self.lock();
        let wake = g.conn.tick(now, &mut |b: &[u8]| sock.queue(out, b, addr));
        // Writers wait for room, which sends (after a full socket buffer) also make.
        let mut wake = wake;
        wake.write |= g.conn.writable() && g.write_waker.is_some();
        let done = g.conn.finished();
        let wakers = take(&mut g, wake);
        drop(g);
        wake_all(wakers);
        done
    }

    /// The socket closed: wake everyone with an error.
    pub fn abort(&self) {
        let mut g = self.lock();
        g.conn.abort();
        let w = take(
            &mut g,
            Wake {
                read: true,
                write: true,
            },
        );
        drop(g);
        wake_all(w);
    }

    fn release(&self) {
        if self.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        self.with_sender(|g, now, tx| {
            g.conn.detached = true;
            g.conn.shutdown(now, tx);
        });
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        // Reading may open our window, which sends a STATE.
        self.with_sender(|g, now, tx| {
            if g.conn.readable() > 0 {
                // Only as much as is readable: zeroing a large unfilled buffer on every
                // read would cost more than the copy.
                let want = g.conn.readable().min(buf.remaining());
                let out = buf.initialize_unfilled_to(want);
                let n = g.conn.read(out, now, tx);
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if g.conn.read_done() {
                return Poll::Ready(match g.conn.error {
                    // A reset after the peer's FIN is an ordinary end.
                    Some(kind) if !g.conn.eof_seen() => Err(kind.into()),
                    _ => Ok(()),
                });
            }
            g.read_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.with_sender(|g, now, tx| {
            if let Some(kind) = g.conn.error {
                return Poll::Ready(Err(kind.into()));
            }
            if g.conn.state != State::Connected || g.conn.write_closed {
                return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
            }
            if data.is_empty() {
                return Poll::Ready(Ok(0));
            }
            if g.conn.writable() {
                return Poll::Ready(Ok(g.conn.write(data, now, tx)));
            }
            g.write_waker = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn shutdown(&self) {
        self.with_sender(|g, now, tx| g.conn.shutdown(now, tx));
    }

    pub fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut g = self.lock();
        match g.conn.state {
            State::Connected => Poll::Ready(Ok(())),
            State::Closed => Poll::Ready(Err(g
                .conn
                .error
                .unwrap_or(io::ErrorKind::ConnectionAborted)
                .into())),
            State::SynSent { .. } => {
                g.write_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

fn take(g: &mut Guarded, wake: Wake) -> [Option<Waker>; 2] {
    [
        if wake.read { g.read_waker.take() } else { None },
        if wake.write {
            g.write_waker.take()
        } else {
            None
        },
    ]
}

fn wake_all(w: [Option<Waker>; 2]) {
    for w in w.into_iter().flatten() {
        w.wake();
    }
}

/// A uTP connection as a byte stream. Dropping every handle closes it gracefully (a FIN
/// after the queued data).
pub struct UtpStream {
    cell: Arc<ConnCell>,
}

impl UtpStream {
    pub(crate) fn new(cell: Arc<ConnCell>) -> Self {
        cell.handles.fetch_add(1, Ordering::AcqRel);
        UtpStream { cell }
    }

    pub(crate) fn cell(&self) -> &Arc<ConnCell> {
        &self.cell
    }

    pub fn peer_addr(&self) -> SocketAddr {
        self.cell.addr
    }

    /// The smoothed round-trip time so far (µs; 0 before a sample).
    pub fn srtt_us(&self) -> u64 {
        self.cell.lock().conn.srtt_us()
    }

    /// Packets sent again so far.
    pub fn retransmits(&self) -> u64 {
        self.cell.lock().conn.retransmits
    }

    /// Owned halves for a reader task and a writer task.
    pub fn into_split(self) -> (UtpRead, UtpWrite) {
        let cell = self.cell.clone();
        // Two handles more: `self` drops here and gives its own back, two remain (counting one
        // would let the first half dropped close the other's direction).
        cell.handles.fetch_add(2, Ordering::AcqRel);
        (
            UtpRead {
                cell: self.cell.clone(),
            },
            UtpWrite { cell },
        )
    }
}

impl Drop for UtpStream {
    fn drop(&mut self) {
        self.cell.release();
    }
}

impl AsyncRead for UtpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.cell.poll_read(cx, buf)
    }
}

impl AsyncWrite for UtpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.cell.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.cell.shutdown();
        Poll::Ready(Ok(()))
    }
}

/// The receiving half.
pub struct UtpRead {
    cell: Arc<ConnCell>,
}

/// The sending half; dropping it (or `shutdown`) sends our FIN after the queued data.
pub struct UtpWrite {
    cell: Arc<ConnCell>,
}

impl UtpWrite {
    /// Packets sent again so far.
    pub fn retransmits(&self) -> u64 {
        self.cell.lock().conn.retransmits
    }
}

impl Drop for UtpRead {
    fn drop(&mut self) {
        self.cell.release();
    }
}

impl Drop for UtpWrite {
    fn drop(&mut self) {
        self.cell.shutdown();
        self.cell.release();
    }
}

impl AsyncRead for UtpRead {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.cell.poll_read(cx, buf)
    }
}

impl AsyncWrite for UtpWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.cell.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.cell.shutdown();
        Poll::Ready(Ok(()))
    }
}
