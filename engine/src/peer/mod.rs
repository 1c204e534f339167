//! One peer connection: a reader task that applies message batches to the torrent and a
//! writer task that sends batched messages and serves blocks from disk.

pub(crate) mod dht_port;
pub(crate) mod dial;
pub(crate) mod handler;
pub mod mse;
pub(crate) mod pipeline;
pub(crate) mod rate;
mod reader;
pub mod reason;
pub(crate) mod stream;
mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};

use crate::events::Event;
use crate::session::conns::ConnSlot;
use crate::torrent::shared::PeerIo;
use crate::wire::{BlockRequest, Handshake, Message};
use handler::{PeerConn, PeerHandler};
use mse::{DecryptRead, EncryptWrite, Transport};
pub use reason::DisconnectReason;

/// Time allowed for connecting and exchanging handshakes.
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Something for the writer to do.
#[derive(Debug)]
pub(crate) enum Out {
    Msg(Message),
    /// Send this block from disk (already validated).
    Serve(BlockRequest),
    /// The peer cancelled a request we may still have queued.
    Unserve(BlockRequest),
}

/// What travels over a writer's channel: batches whenever several things are ready at once.
#[derive(Debug)]
pub(crate) enum WriterCmd {
    One(Out),
    Batch(Vec<Out>),
}

/// Runs an established connection (handshakes exchanged) until either side ends it.
pub(crate) async fn run<H: PeerHandler>(
    h: Arc<H>,
    conn: Transport,
    remote: Handshake,
    addr: SocketAddr,
    incoming: bool,
    slot: ConnSlot,
) {
    let Transport {
        stream,
        crypto,
        pending,
    } = conn;
    let link = Link {
        remote,
        addr,
        incoming,
        pending,
        _slot: slot,
    };
    match stream {
        stream::PeerStream::Tcp(s) => {
            if let Err(e) = s.set_nodelay(true) {
                tracing::debug!(%addr, "set_nodelay: {e}");
            }
            let (rd, wr) = s.into_split();
            split(h, rd, wr, link, crypto).await
        }
        stream::PeerStream::Utp(s) => {
            let (rd, wr) = s.into_split();
            split(h, rd, wr, link, crypto).await
        }
    }
}

/// Plaintext runs on the raw halves; only RC4 connections pay for the wrappers.
async fn split<H, R, W>(h: Arc<H>, rd: R, wr: W, link: Link, crypto: Option<Box<mse::Crypto>>)
where
    H: PeerHandler,
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    match crypto {
        None => drive(h, rd, wr, link, false).await,
        Some(c) => {
            let c = *c;
            let rd = DecryptRead::new(rd, c.dec);
            let wr = EncryptWrite::new(wr, c.enc);
            drive(h, rd, wr, link, true).await
        }
    }
}

/// What [`run`] knows of a connection besides its stream.
struct Link {
    remote: Handshake,
    addr: SocketAddr,
    incoming: bool,
    /// The first bytes of the peer's message stream, already received.
    pending: Vec<u8>,
    _slot: ConnSlot,
}

async fn drive<H, R, W>(h: Arc<H>, rd: R, wr: W, link: Link, encrypted: bool)
where
    H: PeerHandler,
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let Link {
        remote,
        addr,
        incoming,
        pending,
        _slot,
    } = link;
    let (tx, rx) = mpsc::unbounded_channel();
    let (kill, kill_rx) = watch::channel(false);
    let io = Arc::new(PeerIo::default());
    let key = h.env().next_peer_key();
    let info_hash = h.info_hash();
    let conn = PeerConn {
        addr,
        remote,
        incoming,
        encrypted,
        tx: tx.clone(),
        kill: Arc::new(kill),
        io: io.clone(),
    };
    let kill = conn.kill.clone();
    if let Err(why) = h.register(key, conn) {
        tracing::debug!(%addr, "peer refused: {why}");
        return;
    }
    let mut registration = Registration {
        h: &h,
        key,
        reason: None,
    };
    // BEP 5: tell a DHT-speaking peer where our node listens, after `register`'s first
    // messages (a bitfield must come first).
    if let (true, Some(port)) = (remote.supports_dht(), h.env().dht_port_for(&addr)) {
        let _ = tx.send(WriterCmd::One(Out::Msg(Message::Port(port))));
    }
    tracing::debug!(torrent = %info_hash, %addr, incoming, encrypted, client = %remote.peer_id.client_name(), "peer connected");
    h.env().emit(Event::PeerConnected { info_hash, addr });
    let fast = remote.supports_fast();
    let writer = tokio::spawn(writer::run(h.clone(), wr, rx, io, fast, kill_rx.clone()));
    let reason = reader::run(&h, rd, pending, key, addr, tx, kill_rx).await;
    kill.send_replace(true);
    registration.reason = Some(reason.clone());
    drop(registration);
    let _ = writer.await;
    tracing::debug!(torrent = %info_hash, %addr, %reason, "peer disconnected");
    h.env().emit(Event::PeerDisconnected {
        info_hash,
        addr,
        reason,
    });
}

/// Releases a registered peer when dropped: after the connection ends, and also while the
/// task unwinds if the handler panicked, so a bug cannot leave a ghost peer holding its
/// requests and slots.
struct Registration<'a, H: PeerHandler> {
    h: &'a Arc<H>,
    key: crate::PeerKey,
    /// Why the connection ended; `None` while unwinding from a panic.
    reason: Option<DisconnectReason>,
}

impl<H: PeerHandler> Drop for Registration<'_, H> {
    fn drop(&mut self) {
        let reason = self.reason.take().unwrap_or_else(|| {
            tracing::error!("peer handler panicked; releasing the peer");
            DisconnectReason::Internal
        });
        self.h.unregister(self.key, &reason);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::io::AsyncWriteExt;
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::config::SessionConfig;
    use crate::session::env::Env;
    use crate::session::ratelimit::PeerLimits;
    use crate::storage::Storage;
    use crate::{InfoHash, PeerId, PeerKey};

    /// A handler with a bug: it panics on the first batch of messages.
    struct Panicky {
        env: Arc<Env>,
        released: Mutex<Option<DisconnectReason>>,
    }

    impl PeerHandler for Panicky {
        fn env(&self) -> &Arc<Env> {
            &self.env
        }
        fn limits(&self) -> PeerLimits {
            PeerLimits::default()
        }
        fn info_hash(&self) -> InfoHash {
            InfoHash([7; 20])
        }
        fn handshake(&self) -> Handshake {
            Handshake::new(self.info_hash(), PeerId([1; 20]))
        }
        fn max_frame_len(&self) -> usize {
            1 << 16
        }
        fn register(&self, _: PeerKey, _: PeerConn) -> Result<(), DisconnectReason> {
            Ok(())
        }
        fn on_messages(
            self: &Arc<Self>,
            _: PeerKey,
            _: &mut Vec<Message>,
            _: &mut Vec<Out>,
        ) -> Option<DisconnectReason> {
            panic!("a bug in the handler");
        }
        fn unregister(&self, _: PeerKey, reason: &DisconnectReason) {
            *self.released.lock().unwrap() = Some(reason.clone());
        }
        fn blocks(&self) -> Option<Arc<Storage>> {
            None
        }
        fn on_read_error(&self, _: String) {}
    }

    #[tokio::test]
    async fn a_panicking_handler_still_releases_the_peer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (events, _) = tokio::sync::broadcast::channel(16);
        let env = Arc::new(Env::new(SessionConfig::default(), addr, None, events, None).unwrap());
        let h = Arc::new(Panicky {
            env: env.clone(),
            released: Mutex::new(None),
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let slot = env.conns.try_acquire(peer.ip()).unwrap();
        let remote = Handshake::new(InfoHash([7; 20]), PeerId([2; 20]));
        let task = tokio::spawn(run(
            h.clone(),
            Transport::plain(server),
            remote,
            peer,
            true,
            slot,
        ));
        client.write_all(&[0, 0, 0, 1, 2]).await.unwrap(); // interested
        let end = tokio::time::timeout(std::time::Duration::from_secs(5), task)
            .await
            .expect("the connection task never ended");
        assert!(end.is_err_and(|e| e.is_panic()), "the handler's panic");
        assert_eq!(
            *h.released.lock().unwrap(),
            Some(DisconnectReason::Internal),
            "the peer was released while unwinding"
        );
    }
}
