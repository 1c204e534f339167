//! The client's address for rate limits: the socket's peer, or, when that peer is one of the
//! configured `TRUSTED_PROXIES`, the address the proxies recorded in `X-Forwarded-For`.
//!
//! Only trusted proxies are believed: anyone else could write any address into the header and
//! get a fresh rate-limit bucket per request. Limits count IPv6 clients by /64, the block one
//! home or server is typically given, so cycling through its addresses gains nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An address block: `10.0.0.0/8`, `::1/128`, or a plain address (a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an IP address or CIDR block: {0:?}")]
pub struct BadNet(String);

impl FromStr for IpNet {
    type Err = BadNet;

    fn from_str(s: &str) -> Result<IpNet, BadNet> {
        let bad = || BadNet(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet {
            addr: mask(addr, prefix),
            prefix,
        })
    }
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.addr.is_ipv4() && mask(ip, self.prefix) == self.addr
    }
}

/// Parses `TRUSTED_PROXIES`: comma-separated addresses and CIDR blocks; empty entries are
/// ignored.
pub fn parse_list(s: &str) -> Result<Vec<IpNet>, BadNet> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::parse)
        .collect()
}

/// The client's address: `peer` itself unless it is a trusted proxy; then the right-most
/// `X-Forwarded-For` entry that is not a trusted proxy (entries to its left were written by
/// the client and prove nothing), or the left-most one when every entry is trusted.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several headers count as one list, in order.
    let hops: Vec<&str> = forwarded_for.flat_map(|h| h.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            // A hop we cannot read ends what we can believe: the last good one stands.
            break;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The rate-limit bucket of `ip`: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64.
pub fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        v4 @ IpAddr::V4(_) => v4,
        v6 => mask(v6, 64),
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_blocks() {
        let list = parse_list(" 127.0.0.1, 10.0.0.0/8 ,,::1,fd00::/8").unwrap();
        assert_eq!(list.len(), 4);
        assert!(list[1].contains(ip("10.200.3.4")));
        assert!(!list[1].contains(ip("11.0.0.1")));
        assert!(list[0].contains(ip("::ffff:127.0.0.1")), "mapped IPv4");
        assert!(list[3].contains(ip("fd12::1")));
        assert!(!list[2].contains(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "example.com", "1.2.3.4/x"] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
        assert!(parse_list("").unwrap().is_empty());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted = parse_list("127.0.0.1,10.0.0.0/8").unwrap();
        let xff = |h: &'static str| std::iter::once(h);
        // A direct client cannot pick its address.
        assert_eq!(
            client_ip(ip("203.0.113.9"), xff("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
        // Behind the proxy: the right-most untrusted hop; a client-written prefix is ignored.
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                xff("1.2.3.4, 198.51.100.7, 10.1.1.1"),
                &trusted
            ),
            ip("198.51.100.7")
        );
        // Two headers are one list.
        let two = ["1.2.3.4", "198.51.100.8"].into_iter();
        assert_eq!(
            client_ip(ip("127.0.0.1"), two, &trusted),
            ip("198.51.100.8")
        );
        // No header, or garbage: the proxy itself (one bucket, not a free pass).
        assert_eq!(
            client_ip(ip("127.0.0.1"), std::iter::empty(), &trusted),
            ip("127.0.0.1")
        );
        assert_eq!(
            client_ip(ip("127.0.0.1"), xff("junk"), &trusted),
            ip("127.0.0.1")
        );
        // Nothing trusted (the default): the header never counts.
        assert_eq!(
            client_ip(ip("127.0.0.1"), xff("1.2.3.4"), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(
            bucket(ip("2001:db8:1:2:aaaa::1")),
            bucket(ip("2001:db8:1:2:ffff:1:2:3"))
        );
        assert_ne!(bucket(ip("2001:db8:1:2::1")), bucket(ip("2001:db8:1:3::1")));
        assert_eq!(bucket(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(bucket(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
