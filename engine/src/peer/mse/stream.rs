//! A connection after its handshakes: the socket, the keystreams when RC4 was selected,
//! and the read/write wrappers that apply them. Plaintext connections never touch these
//! wrappers (the peer tasks are generic over the stream), so they cost nothing there.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::cipher::Rc4;
use super::handshake::Crypto;
use crate::peer::stream::PeerStream;
use crate::wire::{Handshake, WireError, HANDSHAKE_LEN};

/// A handshaken (or handshaking) peer socket.
pub(crate) struct Transport {
    pub stream: PeerStream,
    /// The keystreams, when the connection is RC4-encrypted.
    pub crypto: Option<Box<Crypto>>,
    /// Plaintext the peer sent past its BitTorrent handshake inside an MSE initial
    /// payload: the first bytes of its message stream.
    pub pending: Vec<u8>,
}

impl Transport {
    pub fn plain(stream: impl Into<PeerStream>) -> Self {
        Transport {
            stream: stream.into(),
            crypto: None,
            pending: Vec::new(),
        }
    }

    /// Sends our BitTorrent handshake (encrypted if the connection is).
    pub async fn write_handshake(&mut self, hs: &Handshake) -> Result<(), WireError> {
        let mut b = hs.encode();
        if let Some(c) = &mut self.crypto {
            c.enc.apply(&mut b);
        }
        self.stream.write_all(&b).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// Reads the peer's BitTorrent handshake; `have` is what of it already arrived (an
    /// MSE initial payload, possibly longer than a handshake: the rest is kept as
    /// [`Transport::pending`]).
    pub async fn read_handshake(&mut self, have: &[u8]) -> Result<Handshake, WireError> {
        let mut b = [0u8; HANDSHAKE_LEN];
        let n = have.len().min(HANDSHAKE_LEN);
        b[..n].copy_from_slice(&have[..n]);
        if n < HANDSHAKE_LEN {
            self.stream.read_exact(&mut b[n..]).await?;
            if let Some(c) = &mut self.crypto {
                c.dec.apply(&mut b[n..]);
            }
        } else {
            self.pending = have[HANDSHAKE_LEN..].to_vec();
        }
        Handshake::decode(&b)
    }
}

/// Decrypts whatever the inner reader delivers, in place.
pub(crate) struct DecryptRead<R> {
    inner: R,
    rc4: Rc4,
}

impl<R> DecryptRead<R> {
    pub fn new(inner: R, rc4: Rc4) -> Self {
        DecryptRead { inner, rc4 }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for DecryptRead<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.rc4.apply(&mut buf.filled_mut()[before..]);
        Poll::Ready(Ok(()))
    }
}

/// Largest chunk encrypted per `poll_write` (the writer's batches are about 1 MiB).
const WRITE_CHUNK: usize = 256 * 1024;

/// Encrypts into its own buffer and writes that out. A `poll_write` accepts its input
/// once encrypted (the keystream has moved on), so callers must flush before waiting:
/// `flush` (and `shutdown`) write out what is still buffered.
pub(crate) struct EncryptWrite<W> {
    inner: W,
    rc4: Rc4,
    buf: Vec<u8>,
    /// How much of `buf` is written.
    done: usize,
}

impl<W> EncryptWrite<W> {
    pub fn new(inner: W, rc4: Rc4) -> Self {
        EncryptWrite {
            inner,
            rc4,
            buf: Vec::new(),
            done: 0,
        }
    }
}

impl<W: AsyncWrite + Unpin> EncryptWrite<W> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.done < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.done += n;
        }
        self.buf.clear();
        self.done = 0;
        Poll::Ready(Ok(()))
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for EncryptWrite<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        let n = data.len().min(WRITE_CHUNK);
        this.rc4.apply_into(&data[..n], &mut this.buf);
        // Start sending now; what the socket does not take waits for the next call.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wrappers_round_trip_through_a_slow_pipe() {
        // A tiny pipe forces partial writes and reads.
        let (a, b) = tokio::io::duplex(7);
        let key = [3u8; 20];
        let mut w = EncryptWrite::new(a, Rc4::mse(&key));
        let mut r = DecryptRead::new(b, Rc4::mse(&key));
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let send = data.clone();
        let writer = tokio::spawn(async move {
            w.write_all(&send).await.unwrap();
            w.flush().await.unwrap();
            w
        });
        let mut got = vec![0u8; data.len()];
        r.read_exact(&mut got).await.unwrap();
        assert_eq!(got, data);
        writer.await.unwrap();
    }
}
