//! The receive side: one large read, decode every complete message, hand the batch to the
//! handler (one lock for a torrent), hand the writer one batch.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{mpsc, watch};

use super::dht_port::PortGate;
use super::handler::PeerHandler;
use super::{DisconnectReason, WriterCmd};
use crate::wire::Codec;
use crate::PeerKey;

/// Read buffer size: at 400+ MiB/s one read should carry a dozen or more blocks.
const READ_BUF: usize = 512 * 1024;

/// Reads until the connection ends; returns why.
pub(super) async fn run<H: PeerHandler, R: AsyncRead + Unpin>(
    h: &Arc<H>,
    mut rd: R,
    pending: Vec<u8>,
    key: PeerKey,
    addr: SocketAddr,
    tx: mpsc::UnboundedSender<WriterCmd>,
    mut kill: watch::Receiver<bool>,
) -> DisconnectReason {
    let codec = Codec::new(h.max_frame_len());
    let mut buf = BytesMut::with_capacity(READ_BUF);
    // Bytes that arrived with the handshake are decoded before the first read.
    let mut primed = !pending.is_empty();
    buf.extend_from_slice(&pending);
    let mut msgs = Vec::with_capacity(64);
    let mut out = Vec::new();
    let dht = h.env().dht.clone();
    let mut port_gate = PortGate::default();
    let limits = h.limits();
    loop {
        if *kill.borrow_and_update() {
            return DisconnectReason::ByUs;
        }
        if buf.capacity() - buf.len() < READ_BUF / 4 {
            // Reclaims the front of the buffer once the previous batch's blocks are dropped.
            buf.reserve(READ_BUF);
        }
        if !std::mem::take(&mut primed) {
            // Limited: read at most one bucket's worth, then wait for its tokens before the
            // next read, so the kernel's receive window fills and TCP slows the sender.
            let chunk = limits.down_chunk();
            let read = tokio::select! {
                r = async {
                    match chunk {
                        None => rd.read_buf(&mut buf).await,
                        Some(c) => {
                            let c = usize::try_from(c).unwrap_or(READ_BUF).min(READ_BUF);
                            rd.read_buf(&mut (&mut buf).limit(c)).await
                        }
                    }
                } => r,
                _ = kill.changed() => return DisconnectReason::ByUs,
            };
            // Our own kill closes the writer half, so the peer may hang up in the same
            // instant: the hang-up is then ours.
            if *kill.borrow() {
                return DisconnectReason::ByUs;
            }
            let n = match read {
                Ok(0) => return DisconnectReason::ClosedByPeer,
                Ok(n) => n,
                Err(e) => return DisconnectReason::Io(e.to_string()),
            };
            if chunk.is_some() {
                tokio::select! {
                    _ = limits.acquire_down(n as u64) => {}
                    _ = kill.changed() => return DisconnectReason::ByUs,
                }
            }
        }
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(m)) => msgs.push(m),
                Ok(None) => break,
                Err(e) => return DisconnectReason::Protocol(e.to_string()),
            }
        }
        if let Some(dht) = &dht {
            if let Some(node) = port_gate.take(&mut msgs, addr) {
                if let Err(e) = dht.add_node(node) {
                    tracing::debug!(%addr, %node, "DHT node from a port message not added: {e}");
                }
            }
        }
        if msgs.is_empty() {
            continue;
        }
        let close = h.on_messages(key, &mut msgs, &mut out);
        if !out.is_empty() && tx.send(WriterCmd::Batch(std::mem::take(&mut out))).is_err() {
            return DisconnectReason::WriterGone;
        }
        if let Some(reason) = close {
            return reason;
        }
    }
}
