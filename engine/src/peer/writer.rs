//! The send side: drains every queued command into one buffer, serves requested blocks
//! from disk in batches on a blocking worker, and writes with as few syscalls as possible.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::handler::PeerHandler;
use super::{Out, WriterCmd};
use crate::storage::Storage;
use crate::torrent::shared::PeerIo;
use crate::wire::{BlockRequest, Codec, Message};

/// Send a keep-alive after this much idle time (peers drop us after ~2 min of silence).
const KEEPALIVE: Duration = Duration::from_secs(90);
/// Blocks read from disk per blocking job (1 MiB).
const SERVE_BATCH: usize = 64;
/// Stop draining commands once this much is buffered, and write it out first.
const FLUSH_AT: usize = 1 << 20;
/// A write that makes no progress this long ends the connection (the peer stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// A block and its `piece` header, for sizing limited batches.
const BLOCK_ESTIMATE: u64 = 16 * 1024 + 13;

struct Writer {
    /// The peer speaks BEP 6: dropped requests are rejected explicitly.
    fast: bool,
    out: BytesMut,
    serve: VecDeque<BlockRequest>,
    io: Arc<PeerIo>,
}

pub(super) async fn run<H: PeerHandler, W: AsyncWrite + Unpin>(
    h: Arc<H>,
    mut wr: W,
    mut rx: mpsc::UnboundedReceiver<WriterCmd>,
    io: Arc<PeerIo>,
    fast: bool,
    mut kill: watch::Receiver<bool>,
) {
    let mut w = Writer {
        fast,
        out: BytesMut::with_capacity(64 * 1024),
        serve: VecDeque::new(),
        io,
    };
    let mut last_write = Instant::now();
    let limits = h.limits();
    loop {
        if w.out.is_empty() && w.serve.is_empty() {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => w.apply(cmd),
                    None => return,
                },
                _ = kill.changed() => return,
                _ = tokio::time::sleep_until(last_write + KEEPALIVE) => w.encode(&Message::KeepAlive),
            }
        }
        while w.out.len() < FLUSH_AT {
            match rx.try_recv() {
                Ok(cmd) => w.apply(cmd),
                Err(_) => break,
            }
        }
        let mut payload = 0u64;
        // Limited: serve about one bucket's worth per write, so blocks leave evenly.
        let chunk = limits.up_chunk();
        if !w.serve.is_empty() {
            let blocks = chunk.map_or(SERVE_BATCH, |c| {
                usize::try_from(c / BLOCK_ESTIMATE).map_or(SERVE_BATCH, |n| n.clamp(1, SERVE_BATCH))
            });
            match h.blocks() {
                Some(storage) => match w.read_blocks(storage, blocks).await {
                    Ok(n) => payload = n,
                    Err(e) => {
                        h.on_read_error(e);
                        return;
                    }
                },
                None => w.drop_serves(),
            }
        }
        if w.out.is_empty() {
            continue;
        }
        if chunk.is_some() && payload > 0 {
            // Everything in this write counts (headers and other messages too).
            tokio::select! {
                _ = limits.acquire_up(w.out.len() as u64) => {}
                _ = kill.changed() => return,
            }
        }
        // Counted when handed to the socket, before the write: the peer may act on the last
        // block (say it is complete, and be disconnected) before this task runs again, and
        // the count is read when the peer is removed. A failed write takes it back.
        w.io.uploaded.fetch_add(payload, Ordering::Relaxed);
        // A peer that stops reading must not hold its slot and our buffers forever.
        let wrote = tokio::select! {
            // `flush` is free on a socket; an encrypting writer sends its tail there.
            r = tokio::time::timeout(WRITE_TIMEOUT, async {
                wr.write_all(&w.out).await?;
                wr.flush().await
            }) => r,
            _ = kill.changed() => return,
        };
        if !matches!(wrote, Ok(Ok(()))) {
            w.io.uploaded.fetch_sub(payload, Ordering::Relaxed);
            return;
        }
        w.out.clear();
        last_write = Instant::now();
    }
}

impl Writer {
    fn encode(&mut self, m: &Message) {
        Codec::encode(m, &mut self.out);
    }

    fn apply(&mut self, cmd: WriterCmd) {
        match cmd {
            WriterCmd::One(o) => self.apply_one(o),
            WriterCmd::Batch(v) => v.into_iter().for_each(|o| self.apply_one(o)),
        }
    }

    fn apply_one(&mut self, o: Out) {
        match o {
            Out::Msg(m) => {
                self.encode(&m);
                if matches!(m, Message::Choke) {
                    // Choking discards the peer's pending requests (BEP 3); a fast peer is
                    // told which (BEP 6).
                    self.io
                        .queued
                        .fetch_sub(self.serve.len(), Ordering::Relaxed);
                    for r in std::mem::take(&mut self.serve) {
                        if self.fast {
                            self.encode(&Message::RejectRequest(r));
                        }
                    }
                }
            }
            Out::Serve(r) => self.serve.push_back(r),
            Out::Unserve(r) => {
                self.io.cancels.fetch_sub(1, Ordering::Relaxed);
                if let Some(i) = self.serve.iter().position(|q| *q == r) {
                    self.serve.remove(i);
                    self.io.queued.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Forgets queued requests (the handler has nothing to serve them from).
    fn drop_serves(&mut self) {
        self.io
            .queued
            .fetch_sub(self.serve.len(), Ordering::Relaxed);
        self.serve.clear();
    }

    /// Appends up to `max` piece messages read from disk; returns payload bytes.
    async fn read_blocks(&mut self, storage: Arc<Storage>, max: usize) -> Result<u64, String> {
        let n = self.serve.len().min(max);
        let batch: Vec<BlockRequest> = self.serve.drain(..n).collect();
        self.io.queued.fetch_sub(n, Ordering::Relaxed);
        let mut out = std::mem::take(&mut self.out);
        let job = tokio::task::spawn_blocking(move || {
            let mut payload = 0u64;
            for r in &batch {
                Codec::encode_piece_header(r.piece, r.offset, r.len, &mut out);
                let start = out.len();
                out.resize(start + r.len as usize, 0);
                if let Err(e) = storage.read_block(r.piece, r.offset, &mut out[start..]) {
                    return (out, Err(format!("reading piece {}: {e}", r.piece)));
                }
                payload += u64::from(r.len);
            }
            (out, Ok(payload))
        });
        let (out, result) = job.await.map_err(|e| format!("disk read worker: {e}"))?;
        self.out = out;
        result
    }
}
