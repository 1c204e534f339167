//! The uTP packet (BEP 29): a 20-byte header, a chain of extensions (only selective ACK, type
//! 1, means anything to us; others are skipped), then the payload. Parsing borrows from the
//! datagram and never allocates; every length is checked against the datagram.

/// Header bytes before any extension.
pub const HEADER_LEN: usize = 20;
/// The only protocol version.
pub const VERSION: u8 = 1;
/// Extension type of a selective ACK.
const EXT_SACK: u8 = 1;
/// Longest extension chain we walk (libtorrent sends at most one or two).
const MAX_EXTENSIONS: usize = 8;
/// Largest selective ACK we send (bits for 256 packets past `ack_nr + 1`).
pub const MAX_SACK_BYTES: usize = 32;

/// What a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    /// Payload; takes a sequence number.
    Data = 0,
    /// The sender's last packet; takes a sequence number.
    Fin = 1,
    /// An ACK without payload; takes no sequence number.
    State = 2,
    /// The connection is gone.
    Reset = 3,
    /// Opens a connection; takes a sequence number.
    Syn = 4,
}

impl PacketType {
    fn from_nibble(n: u8) -> Option<Self> {
        Some(match n {
            0 => PacketType::Data,
            1 => PacketType::Fin,
            2 => PacketType::State,
            3 => PacketType::Reset,
            4 => PacketType::Syn,
            _ => return None,
        })
    }
}

/// Whether a datagram's first byte can start a uTP packet (type 0..=4, version 1). A KRPC
/// (DHT) datagram starts with `d` (0x64), which never does: the shared UDP socket routes by it.
pub fn looks_like_utp(first: u8) -> bool {
    first >> 4 <= 4 && first & 0x0f == VERSION
}

/// Why a datagram is not a uTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("shorter than a uTP header ({0} bytes)")]
    TooShort(usize),
    #[error("unknown uTP version {0}")]
    Version(u8),
    #[error("unknown uTP packet type {0}")]
    Type(u8),
    #[error("an extension runs past the end of the packet")]
    ExtensionTruncated,
    #[error("more than {MAX_EXTENSIONS} extensions")]
    TooManyExtensions,
}

/// The fixed header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub ty: PacketType,
    pub conn_id: u16,
    /// Sender's clock (microseconds, wrapping) when it sent the packet.
    pub ts: u32,
    /// The sender's last delay sample of our packets: its receive clock minus our `ts`.
    pub ts_diff: u32,
    /// Bytes the sender can still receive.
    pub wnd: u32,
    pub seq: u16,
    /// The last sequence number the sender received in order.
    pub ack: u16,
}

impl Header {
    /// Writes the header with `ext` as the first extension's type (0: none).
    pub fn write(&self, ext: u8, out: &mut [u8]) {
        out[0] = (self.ty as u8) << 4 | VERSION;
        out[1] = ext;
        out[2..4].copy_from_slice(&self.conn_id.to_be_bytes());
        out[4..8].copy_from_slice(&self.ts.to_be_bytes());
        out[8..12].copy_from_slice(&self.ts_diff.to_be_bytes());
        out[12..16].copy_from_slice(&self.wnd.to_be_bytes());
        out[16..18].copy_from_slice(&self.seq.to_be_bytes());
        out[18..20].copy_from_slice(&self.ack.to_be_bytes());
    }
}

/// A parsed packet, borrowing the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    pub header: Header,
    /// The selective ACK bitmask: bit `i` (LSB first within each byte) says
    /// `ack + 2 + i` arrived.
    pub sack: Option<&'a [u8]>,
    pub payload: &'a [u8],
}

impl<'a> Packet<'a> {
    pub fn parse(buf: &'a [u8]) -> Result<Packet<'a>, PacketError> {
        if buf.len() < HEADER_LEN {
            return Err(PacketError::TooShort(buf.len()));
        }
        if buf[0] & 0x0f != VERSION {
            return Err(PacketError::Version(buf[0] & 0x0f));
        }
        let ty = PacketType::from_nibble(buf[0] >> 4).ok_or(PacketError::Type(buf[0] >> 4))?;
        let be16 = |i: usize| u16::from_be_bytes([buf[i], buf[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        let header = Header {
            ty,
            conn_id: be16(2),
            ts: be32(4),
            ts_diff: be32(8),
            wnd: be32(12),
            seq: be16(16),
            ack: be16(18),
        };
        let mut next = buf[1];
        let mut at = HEADER_LEN;
        let mut sack = None;
        let mut walked = 0;
        while next != 0 {
            walked += 1;
            if walked > MAX_EXTENSIONS {
                return Err(PacketError::TooManyExtensions);
            }
            let (&following, &len) = match (buf.get(at), buf.get(at + 1)) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(PacketError::ExtensionTruncated),
            };
            let len = usize::from(len);
            let body = buf
                .get(at + 2..at + 2 + len)
                .ok_or(PacketError::ExtensionTruncated)?;
            // BEP 29 says a multiple of 4 bytes, but libtorrent sends any length (as many
            // bytes as its bitmask needs): every length is taken.
            if next == EXT_SACK && len > 0 {
                sack = Some(body);
            }
            next = following;
            at += 2 + len;
        }
        Ok(Packet {
            header,
            sack,
            payload: &buf[at..],
        })
    }
}

/// Writes a packet: header, the selective ACK when `sack` is non-empty, and `payload`, into
/// `out` (cleared first). Returns its length.
pub fn encode(header: &Header, sack: &[u8], payload: &[u8], out: &mut Vec<u8>) -> usize {
    debug_assert!(sack.len() <= MAX_SACK_BYTES);
    out.clear();
    out.resize(HEADER_LEN, 0);
    header.write(if sack.is_empty() { 0 } else { EXT_SACK }, out);
    if !sack.is_empty() {
        out.push(0);
        // The length fits: MAX_SACK_BYTES < 256.
        out.push(sack.len() as u8);
        out.extend_from_slice(sack);
    }
    out.extend_from_slice(payload);
    out.len()
}

/// The sequence numbers a selective ACK names, given the packet's `ack`.
pub fn sacked(ack: u16, mask: &[u8]) -> impl Iterator<Item = u16> + '_ {
    mask.iter().enumerate().flat_map(move |(byte, &bits)| {
        (0..8u16)
            .filter(move |bit| bits & (1 << bit) != 0)
            .map(move |bit| ack.wrapping_add(2 + byte as u16 * 8 + bit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ty: PacketType) -> Header {
        Header {
            ty,
            conn_id: 0xbeef,
            ts: 0x0102_0304,
            ts_diff: 0xa0b0_c0d0,
            wnd: 1 << 20,
            seq: 65535,
            ack: 7,
        }
    }

    #[test]
    fn round_trips_with_and_without_a_selective_ack() {
        let mut out = Vec::new();
        for ty in [
            PacketType::Data,
            PacketType::Fin,
            PacketType::State,
            PacketType::Reset,
            PacketType::Syn,
        ] {
            let h = header(ty);
            encode(&h, &[], b"hello", &mut out);
            assert!(looks_like_utp(out[0]));
            let p = Packet::parse(&out).unwrap();
            assert_eq!((p.header, p.sack, p.payload), (h, None, &b"hello"[..]));
            encode(&h, &[0b101, 0, 0, 0x80], b"", &mut out);
            let p = Packet::parse(&out).unwrap();
            assert_eq!(p.sack, Some(&[0b101, 0, 0, 0x80][..]));
            assert!(p.payload.is_empty());
        }
    }

    #[test]
    fn known_bytes_from_the_spec_layout() {
        // A SYN as libtorrent sends it: type 4, version 1, no extension.
        let mut b = [0u8; 20];
        b[0] = 0x41;
        b[2..4].copy_from_slice(&1234u16.to_be_bytes());
        b[16..18].copy_from_slice(&1u16.to_be_bytes());
        let p = Packet::parse(&b).unwrap();
        assert_eq!(p.header.ty, PacketType::Syn);
        assert_eq!((p.header.conn_id, p.header.seq), (1234, 1));
        assert!(!looks_like_utp(b'd'), "a KRPC datagram is never uTP");
    }

    #[test]
    fn unknown_extensions_are_skipped_and_bad_ones_refused() {
        let mut b = vec![0x01, 2, 0, 1];
        b.resize(20, 0);
        // Extension 2 (libtorrent's close reason, 4 bytes) then a 4-byte SACK.
        b.extend_from_slice(&[1, 4, 0, 0, 0, 9, 0, 4, 1, 0, 0, 0]);
        b.extend_from_slice(b"data");
        let p = Packet::parse(&b).unwrap();
        assert_eq!(p.sack, Some(&[1, 0, 0, 0][..]));
        assert_eq!(p.payload, b"data");
        assert_eq!(Packet::parse(&b[..19]), Err(PacketError::TooShort(19)));
        assert_eq!(
            Packet::parse(&b[..24]),
            Err(PacketError::ExtensionTruncated)
        );
        // libtorrent's selective ACKs are as long as their bitmask, not a multiple of 4.
        let mut short = b.clone();
        short[27] = 3;
        short.truncate(31);
        assert_eq!(Packet::parse(&short).unwrap().sack, Some(&[1, 0, 0][..]));
        let mut v2 = b.clone();
        v2[0] = 0x02;
        assert_eq!(Packet::parse(&v2), Err(PacketError::Version(2)));
        let mut t5 = b.clone();
        t5[0] = 0x51;
        assert_eq!(Packet::parse(&t5), Err(PacketError::Type(5)));
        // A chain that never ends (each extension says another follows).
        let mut chain = vec![0x01, 9, 0, 1];
        chain.resize(20, 0);
        for _ in 0..20 {
            chain.extend_from_slice(&[9, 0]);
        }
        assert_eq!(Packet::parse(&chain), Err(PacketError::TooManyExtensions));
    }

    #[test]
    fn selective_ack_bits_name_packets_past_ack_plus_one() {
        let got: Vec<u16> = sacked(65534, &[0b0000_0101, 0, 0, 0b1000_0000]).collect();
        assert_eq!(got, vec![0, 2, 31]);
    }
}
