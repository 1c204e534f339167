//! One peer connection: a reader task that applies message batches to the torrent and a
//! writer task that sends batched messages and serves blocks from disk.

pub(crate) mod pipeline;
pub(crate) mod rate;
mod reader;
mod writer;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::events::Event;
use crate::torrent::env::ConnSlot;
use crate::torrent::shared::{PeerEntry, PeerIo};
use crate::torrent::Torrent;
use crate::wire::{BlockRequest, Handshake, Message};
use crate::Bitfield;
use pipeline::Pipeline;

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

/// Our handshake for a torrent (`Handshake::new` sets the BEP 10 extension bit).
pub(crate) fn our_handshake(t: &Torrent) -> Handshake {
    Handshake::new(t.info_hash, t.env.config.peer_id)
}

/// Runs an established connection (handshakes exchanged) until either side ends it.
pub(crate) async fn run(
    t: Arc<Torrent>,
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
    let kill = Arc::new(kill);
    let io = Arc::new(PeerIo::default());
    let key = t.env.next_peer_key();
    let now = Instant::now();
    let entry = PeerEntry {
        addr,
        peer_id: remote.peer_id,
        incoming,
        tx: tx.clone(),
        kill: kill.clone(),
        io: io.clone(),
        bitfield: Bitfield::new(t.num_pieces() as usize),
        announced: false,
        am_choking: true,
        am_interested: false,
        peer_choking: true,
        peer_interested: false,
        pipe: Pipeline::new(now),
        downloaded: 0,
        down: Default::default(),
        up: Default::default(),
        uploaded_seen: 0,
        last_recv: now,
        abuse: 0,
        haves: Vec::new(),
    };
    if let Err(why) = t.register_peer(key, entry) {
        tracing::debug!(%addr, "peer refused: {why}");
        return;
    }
    tracing::debug!(torrent = %t.info_hash, %addr, incoming, client = %remote.peer_id.client_name(), "peer connected");
    t.env.emit(Event::PeerConnected {
        info_hash: t.info_hash,
        addr,
    });
    let writer = tokio::spawn(writer::run(t.clone(), wr, rx, io, kill_rx.clone()));
    let reason = reader::run(&t, rd, key, tx, kill_rx).await;
    kill.send_replace(true);
    t.unregister_peer(key);
    let _ = writer.await;
    tracing::debug!(torrent = %t.info_hash, %addr, %reason, "peer disconnected");
    t.env.emit(Event::PeerDisconnected {
        info_hash: t.info_hash,
        addr,
        reason,
    });
}
