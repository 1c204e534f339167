//! NAT-PMP (RFC 6886): ask the gateway on UDP 5351 to forward a port to us. PCP servers
//! answer version-0 requests too (RFC 6887, section 9).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

use super::{Mapping, PortMapError, Protocol};

pub const PORT: u16 = 5351;
/// RFC 6886 3.1: 250 ms, doubled each retry; we give up after 4 tries (~4 s).
const FIRST_WAIT: Duration = Duration::from_millis(250);
const TRIES: u32 = 4;

/// A gateway's answer to a mapping request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapReply {
    pub protocol: Protocol,
    pub internal: u16,
    pub external: u16,
    pub lifetime: u32,
}

/// Bytes of a mapping request (`lifetime` 0 deletes).
pub fn map_request(p: Protocol, internal: u16, external: u16, lifetime: u32) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[1] = opcode(p);
    b[4..6].copy_from_slice(&internal.to_be_bytes());
    b[6..8].copy_from_slice(&external.to_be_bytes());
    b[8..12].copy_from_slice(&lifetime.to_be_bytes());
    b
}

fn opcode(p: Protocol) -> u8 {
    match p {
        Protocol::Udp => 1,
        Protocol::Tcp => 2,
    }
}

/// Reads the answer to opcode `op` (0: public address, 1/2: mapping): the public address
/// or the mapping, or the gateway's refusal.
pub fn parse_reply(b: &[u8], op: u8) -> Result<Reply, PortMapError> {
    if b.len() < 8 || b[0] != 0 || b[1] != 128 + op {
        return Err(PortMapError::Malformed(
            "not a NAT-PMP answer to our request",
        ));
    }
    let code = u16::from_be_bytes([b[2], b[3]]);
    if code != 0 {
        return Err(PortMapError::Refused(format!("NAT-PMP result code {code}")));
    }
    match op {
        0 if b.len() >= 12 => Ok(Reply::Address(Ipv4Addr::new(b[8], b[9], b[10], b[11]))),
        1 | 2 if b.len() >= 16 => Ok(Reply::Map(MapReply {
            protocol: if op == 1 {
                Protocol::Udp
            } else {
                Protocol::Tcp
            },
            internal: u16::from_be_bytes([b[8], b[9]]),
            external: u16::from_be_bytes([b[10], b[11]]),
            lifetime: u32::from_be_bytes([b[12], b[13], b[14], b[15]]),
        })),
        _ => Err(PortMapError::Malformed("short NAT-PMP answer")),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Address(Ipv4Addr),
    Map(MapReply),
}

/// One request/answer exchange with retries.
async fn exchange(gateway: IpAddr, req: &[u8], op: u8) -> Result<Reply, PortMapError> {
    let bind: SocketAddr = if gateway.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).await?;
    sock.connect((gateway, PORT)).await?;
    let mut wait = FIRST_WAIT;
    let mut buf = [0u8; 64];
    for _ in 0..TRIES {
        sock.send(req).await?;
        let deadline = tokio::time::Instant::now() + wait;
        while let Ok(r) = tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            match r {
                // Another answer (an old retry's) is skipped, not fatal.
                Ok(n) => match parse_reply(&buf[..n], op) {
                    Err(PortMapError::Malformed(_)) => continue,
                    other => return other,
                },
                // ICMP port unreachable: no NAT-PMP here.
                Err(e) => return Err(e.into()),
            }
        }
        wait *= 2;
    }
    Err(PortMapError::Timeout)
}

/// The gateway's public address.
pub async fn public_address(gateway: IpAddr) -> Result<Ipv4Addr, PortMapError> {
    match exchange(gateway, &[0, 0], 0).await? {
        Reply::Address(a) => Ok(a),
        Reply::Map(_) => Err(PortMapError::Malformed("mapping for an address request")),
    }
}

/// Maps `internal` (asking for the same external port) for `lifetime` seconds.
pub async fn map(
    gateway: IpAddr,
    p: Protocol,
    internal: u16,
    lifetime: u32,
) -> Result<Mapping, PortMapError> {
    let public = public_address(gateway).await?;
    let req = map_request(p, internal, internal, lifetime);
    match exchange(gateway, &req, opcode(p)).await? {
        Reply::Map(m) if m.internal == internal && m.protocol == p => Ok(Mapping {
            protocol: p,
            internal,
            external: SocketAddr::new(IpAddr::V4(public), m.external),
            lifetime: Duration::from_secs(m.lifetime.into()),
            method: super::Method::NatPmp,
        }),
        _ => Err(PortMapError::Malformed("answer for another mapping")),
    }
}

/// Deletes our mapping of `internal`.
pub async fn unmap(gateway: IpAddr, p: Protocol, internal: u16) -> Result<(), PortMapError> {
    exchange(gateway, &map_request(p, internal, 0, 0), opcode(p))
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let b = map_request(Protocol::Tcp, 6881, 6881, 3600);
        assert_eq!(b, [0, 2, 0, 0, 0x1a, 0xe1, 0x1a, 0xe1, 0, 0, 0x0e, 0x10]);
    }

    #[test]
    fn replies() {
        let addr = [0, 128, 0, 0, 0, 0, 2, 86, 80, 80, 80, 80];
        assert_eq!(
            parse_reply(&addr, 0).unwrap(),
            Reply::Address(Ipv4Addr::new(80, 80, 80, 80))
        );
        let map = [
            0, 130, 0, 0, 0, 0, 2, 86, 0x1a, 0xe1, 0x1a, 0xe2, 0, 0, 0x0e, 0x10,
        ];
        assert_eq!(
            parse_reply(&map, 2).unwrap(),
            Reply::Map(MapReply {
                protocol: Protocol::Tcp,
                internal: 6881,
                external: 6882,
                lifetime: 3600
            })
        );
        let refused = [0, 130, 0, 2, 0, 0, 2, 86, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0];
        assert!(matches!(
            parse_reply(&refused, 2),
            Err(PortMapError::Refused(_))
        ));
        assert!(matches!(
            parse_reply(&map[..10], 2),
            Err(PortMapError::Malformed(_))
        ));
        assert!(matches!(
            parse_reply(&map, 1),
            Err(PortMapError::Malformed(_))
        ));
    }
}
