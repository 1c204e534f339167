//! One peer connection: a reader task that applies message batches to the torrent and a
//! writer task that sends batched messages and serves blocks from disk.

pub(crate) mod dht_port;
pub(crate) mod dial;
pub(crate) mod handler;
pub(crate) mod pipeline;
pub(crate) mod rate;
mod reader;
pub mod reason;
mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::events::Event;
use crate::session::conns::ConnSlot;
use crate::torrent::shared::PeerIo;
use crate::wire::{BlockRequest, Handshake, Message};
use handler::{PeerConn, PeerHandler};
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
    stream: TcpStream,
    remote: Handshake,
    addr: SocketAddr,
    incoming: bool,
    _slot: ConnSlot,
) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(%addr, "set_nodelay: {e}");
    }
    let (rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (kill, kill_rx) = watch::channel(false);
    let io = Arc::new(PeerIo::default());
    let key = h.env().next_peer_key();
    let info_hash = h.info_hash();
    let conn = PeerConn {
        addr,
        remote,
        incoming,
        tx: tx.clone(),
        kill: Arc::new(kill),
        io: io.clone(),
    };
    let kill = conn.kill.clone();
    if let Err(why) = h.register(key, conn) {
        tracing::debug!(%addr, "peer refused: {why}");
        return;
    }
    // BEP 5: tell a DHT-speaking peer where our node listens, after `register`'s first
    // messages (a bitfield must come first).
    if let (true, Some(port)) = (remote.supports_dht(), h.env().dht_port()) {
        let _ = tx.send(WriterCmd::One(Out::Msg(Message::Port(port))));
    }
    tracing::debug!(torrent = %info_hash, %addr, incoming, client = %remote.peer_id.client_name(), "peer connected");
    h.env().emit(Event::PeerConnected { info_hash, addr });
    let fast = remote.supports_fast();
    let writer = tokio::spawn(writer::run(h.clone(), wr, rx, io, fast, kill_rx.clone()));
    let reason = reader::run(&h, rd, key, addr, tx, kill_rx).await;
    kill.send_replace(true);
    h.unregister(key, &reason);
    let _ = writer.await;
    tracing::debug!(torrent = %info_hash, %addr, %reason, "peer disconnected");
    h.env().emit(Event::PeerDisconnected {
        info_hash,
        addr,
        reason,
    });
}
