//! uTP (BEP 29), the Micro Transport Protocol: reliable, ordered byte streams over UDP with
//! LEDBAT congestion control, which yields to other traffic by keeping queueing delay near
//! 100 ms. A second peer transport beside TCP (`peer::stream::PeerStream`).
//!
//! Layout: `packet` (the wire format; [`packet::Packet::parse`] is the fuzz entry point) ·
//! `congestion` (LEDBAT window and the retransmission timer) · `conn` (one connection's
//! state machine without I/O; `STATE.md` is its state note) · `stream` ([`UtpStream`], the
//! application's `AsyncRead`/`AsyncWrite`) · `socket` ([`UtpSocket`]: many connections over
//! one UDP socket, connect and accept, and the port's other datagrams handed to the DHT) ·
//! `udp` (datagrams in batches: GSO sends, `recvmmsg`/GRO receives, a backlog for refusals).
//!
//! Bounds: 1 MiB receive buffer (our advertised window) and 1 MiB send queue per connection,
//! at most 1024 out-of-order packets kept and 2048 packets queued, 4096 connections per
//! socket, 64 incoming connections waiting for `accept`. Nothing a peer sends can panic it.

mod congestion;
pub mod conn;
pub mod packet;
mod socket;
mod stream;
mod udp;

pub use socket::{Datagram, UtpSocket, UtpStats};
pub use stream::{UtpRead, UtpStream, UtpWrite};

/// The fuzz entry point: parses one datagram; a parsed packet re-encodes to the same
/// header, selective ACK and payload.
#[doc(hidden)]
pub fn fuzz_packet(data: &[u8]) {
    if let Ok(p) = packet::Packet::parse(data) {
        let mut out = Vec::new();
        let sack = p
            .sack
            .filter(|s| s.len() <= packet::MAX_SACK_BYTES)
            .unwrap_or(&[]);
        packet::encode(&p.header, sack, p.payload, &mut out);
        let q = packet::Packet::parse(&out).expect("our own encoding parses");
        assert_eq!((q.header, q.payload), (p.header, p.payload));
    }
}

#[cfg(test)]
mod tests;
