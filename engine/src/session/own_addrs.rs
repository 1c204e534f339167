//! Our own address in each family, for BEP 7's `ipv4=`/`ipv6=` announce parameters: a
//! tracker reached over one family learns from them where we listen in the other.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// Addresses that route to the public internet in each family. Connecting a UDP socket
/// only looks the route up: no packet leaves.
pub(crate) const PROBE_V4: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const PROBE_V6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));

/// What to tell a tracker about a listener: its own address when bound to a specific one,
/// else the source address the host would use to reach the internet in that family, if it
/// is a global one. `None`: nothing useful to say.
pub(crate) fn advertised(listen: SocketAddr) -> Option<SocketAddr> {
    let ip = listen.ip();
    if !ip.is_unspecified() {
        return Some(listen);
    }
    let probe = if ip.is_ipv6() { PROBE_V6 } else { PROBE_V4 };
    let src = route_source(probe)?;
    is_global(src).then(|| SocketAddr::new(src, listen.port()))
}

/// Our address on the route to `dest` (a UDP connect sends nothing).
pub(crate) fn route_source(dest: IpAddr) -> Option<IpAddr> {
    let any: SocketAddr = match dest {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let s = UdpSocket::bind(any).ok()?;
    s.connect((dest, 9)).ok()?;
    Some(s.local_addr().ok()?.ip())
}

/// Reachable from other networks: not loopback, link-local, private or unique-local.
fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified())
                && v4.octets()[0] != 100 // carrier-grade NAT, 100.64/10, loosely
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback() || v6.is_unspecified())
                && first & 0xffc0 != 0xfe80 // link-local
                && first & 0xfe00 != 0xfc00 // unique local
                && v6.to_ipv4_mapped().is_none()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_listener_is_told_as_is() {
        let a: SocketAddr = "[::1]:6881".parse().unwrap();
        assert_eq!(advertised(a), Some(a));
        let b: SocketAddr = "192.0.2.7:51413".parse().unwrap();
        assert_eq!(advertised(b), Some(b));
    }

    #[test]
    fn only_global_addresses_count() {
        for ip in [
            "10.1.2.3",
            "127.0.0.1",
            "169.254.1.1",
            "fe80::1",
            "fd00::1",
            "::1",
        ] {
            assert!(!is_global(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["198.51.100.7", "2001:db8::5", "2a01:4f8::1"] {
            assert!(is_global(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn an_unspecified_listener_is_told_only_with_a_global_route() {
        // Whatever this host's routes are, the answer is either nothing or a global address.
        let got = advertised("[::]:6881".parse().unwrap());
        assert!(
            got.is_none_or(|a| is_global(a.ip()) && a.port() == 6881),
            "{got:?}"
        );
    }
}
