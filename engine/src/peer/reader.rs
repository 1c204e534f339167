//! The receive side: one large read, decode every complete message, apply the batch to the
//! torrent under one lock, hand the writer one batch.

use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, watch};

use super::WriterCmd;
use crate::torrent::{BatchOut, Torrent};
use crate::wire::{Codec, DEFAULT_MAX_MESSAGE_LEN};
use crate::PeerKey;

/// Read buffer size: at 400+ MiB/s one read should carry a dozen or more blocks.
const READ_BUF: usize = 512 * 1024;

/// Reads until the connection ends; returns why.
pub(super) async fn run(
    t: &Arc<Torrent>,
    mut rd: OwnedReadHalf,
    key: PeerKey,
    tx: mpsc::UnboundedSender<WriterCmd>,
    mut kill: watch::Receiver<bool>,
) -> String {
    // A bitfield for a huge torrent may exceed the default frame limit.
    let max_len = DEFAULT_MAX_MESSAGE_LEN.max(t.num_pieces() as usize / 8 + 16);
    let codec = Codec::new(max_len);
    let mut buf = BytesMut::with_capacity(READ_BUF);
    let mut msgs = Vec::with_capacity(64);
    let mut out = BatchOut::default();
    loop {
        if *kill.borrow_and_update() {
            return "disconnected by us".into();
        }
        if buf.capacity() - buf.len() < READ_BUF / 4 {
            // Reclaims the front of the buffer once the previous batch's blocks are dropped.
            buf.reserve(READ_BUF);
        }
        let read = tokio::select! {
            r = rd.read_buf(&mut buf) => r,
            _ = kill.changed() => return "disconnected by us".into(),
        };
        match read {
            Ok(0) => return "connection closed by peer".into(),
            Ok(_) => {}
            Err(e) => return format!("read error: {e}"),
        }
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(m)) => msgs.push(m),
                Ok(None) => break,
                Err(e) => return format!("protocol error: {e}"),
            }
        }
        if msgs.is_empty() {
            continue;
        }
        t.on_messages(key, &mut msgs, &mut out);
        if !out.msgs.is_empty() {
            let batch = std::mem::take(&mut out.msgs);
            if tx.send(WriterCmd::Batch(batch)).is_err() {
                return "writer gone".into();
            }
        }
        if !out.done.is_empty() {
            t.spawn_verify(out.done.drain(..));
        }
        if let Some(reason) = out.close.take() {
            return reason;
        }
    }
}
