//! The 68-byte BEP 3 handshake.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::WireError;
use crate::types::{InfoHash, PeerId};

/// Protocol string following the length byte.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Length of an encoded handshake.
pub const HANDSHAKE_LEN: usize = 68;

/// `<19>"BitTorrent protocol"<reserved:8><info_hash:20><peer_id:20>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    pub reserved: [u8; 8],
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
}

impl Handshake {
    /// Our handshake: advertises the BEP 10 extension protocol (reserved bit 20 from the
    /// right) and the BEP 6 fast extension (bit 2 from the right).
    pub fn new(info_hash: InfoHash, peer_id: PeerId) -> Self {
        let mut reserved = [0u8; 8];
        reserved[5] |= 0x10;
        reserved[7] |= 0x04;
        Handshake {
            reserved,
            info_hash,
            peer_id,
        }
    }

    /// Whether the peer speaks BEP 10 extended messages.
    pub fn supports_extensions(&self) -> bool {
        self.reserved[5] & 0x10 != 0
    }

    /// Whether the peer speaks the BEP 6 fast extension.
    pub fn supports_fast(&self) -> bool {
        self.reserved[7] & 0x04 != 0
    }

    /// Whether the peer runs a BEP 5 DHT node (it may send `port`).
    pub fn supports_dht(&self) -> bool {
        self.reserved[7] & 0x01 != 0
    }

    /// Also advertise a DHT node (BEP 5).
    pub fn with_dht(mut self) -> Self {
        self.reserved[7] |= 0x01;
        self
    }

    pub fn encode(&self) -> [u8; HANDSHAKE_LEN] {
        let mut out = [0u8; HANDSHAKE_LEN];
        out[0] = PROTOCOL.len() as u8;
        out[1..20].copy_from_slice(PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved);
        out[28..48].copy_from_slice(&self.info_hash.0);
        out[48..68].copy_from_slice(&self.peer_id.0);
        out
    }

    /// Parses exactly [`HANDSHAKE_LEN`] bytes.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let buf: &[u8; HANDSHAKE_LEN] = buf
            .try_into()
            .map_err(|_| WireError::InvalidHandshake("wrong length"))?;
        if usize::from(buf[0]) != PROTOCOL.len() {
            return Err(WireError::InvalidHandshake(
                "protocol string length is not 19",
            ));
        }
        if &buf[1..20] != PROTOCOL {
            return Err(WireError::InvalidHandshake(
                "protocol string is not 'BitTorrent protocol'",
            ));
        }
        let mut reserved = [0u8; 8];
        let mut info_hash = [0u8; 20];
        let mut peer_id = [0u8; 20];
        reserved.copy_from_slice(&buf[20..28]);
        info_hash.copy_from_slice(&buf[28..48]);
        peer_id.copy_from_slice(&buf[48..68]);
        Ok(Handshake {
            reserved,
            info_hash: InfoHash(info_hash),
            peer_id: PeerId(peer_id),
        })
    }
}

/// Reads a handshake, failing on the first byte if the stream is not BitTorrent so that
/// stray connections are dropped without waiting for 67 more bytes.
pub async fn read_handshake<R: AsyncRead + Unpin>(r: &mut R) -> Result<Handshake, WireError> {
    let mut buf = [0u8; HANDSHAKE_LEN];
    r.read_exact(&mut buf[..1]).await?;
    if usize::from(buf[0]) != PROTOCOL.len() {
        return Err(WireError::InvalidHandshake(
            "protocol string length is not 19",
        ));
    }
    r.read_exact(&mut buf[1..]).await?;
    Handshake::decode(&buf)
}

/// Writes and flushes a handshake.
pub async fn write_handshake<W: AsyncWrite + Unpin>(
    w: &mut W,
    hs: &Handshake,
) -> Result<(), WireError> {
    w.write_all(&hs.encode()).await?;
    w.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Handshake {
        Handshake::new(InfoHash([7; 20]), PeerId(*b"-TE0100-abcdefghijkl"))
    }

    #[test]
    fn round_trip_and_extension_bit() {
        let hs = sample();
        assert!(hs.supports_extensions());
        assert!(hs.supports_fast());
        assert!(!hs.supports_dht());
        assert!(hs.with_dht().supports_dht());
        let bytes = hs.encode();
        assert_eq!(bytes[0], 19);
        assert_eq!(&bytes[1..20], b"BitTorrent protocol");
        assert_eq!(bytes[25], 0x10);
        assert_eq!(Handshake::decode(&bytes).unwrap(), hs);
        let plain = Handshake {
            reserved: [0; 8],
            ..hs
        };
        assert!(!Handshake::decode(&plain.encode())
            .unwrap()
            .supports_extensions());
    }

    #[test]
    fn rejects_bad_handshakes() {
        let good = sample().encode();
        let mut bad_len = good;
        bad_len[0] = 18;
        assert!(Handshake::decode(&bad_len).is_err());
        let mut bad_proto = good;
        bad_proto[5] = b'x';
        assert!(Handshake::decode(&bad_proto).is_err());
        assert!(Handshake::decode(&good[..67]).is_err());
        assert!(Handshake::decode(&[]).is_err());
    }

    #[tokio::test]
    async fn async_read_write() {
        let (mut a, mut b) = tokio::io::duplex(256);
        write_handshake(&mut a, &sample()).await.unwrap();
        assert_eq!(read_handshake(&mut b).await.unwrap(), sample());

        // Fails on the first byte: an HTTP request is not a handshake.
        a.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        assert!(matches!(
            read_handshake(&mut b).await,
            Err(WireError::InvalidHandshake(_))
        ));

        // A truncated handshake is an I/O (EOF) error.
        let (mut a, mut b) = tokio::io::duplex(256);
        a.write_all(&sample().encode()[..40]).await.unwrap();
        drop(a);
        assert!(matches!(
            read_handshake(&mut b).await,
            Err(WireError::Io(_))
        ));
    }
}
