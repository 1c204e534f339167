//! Finding the router's UPnP Internet Gateway Device by SSDP: a multicast `M-SEARCH`,
//! answered by unicast HTTP-like replies whose `LOCATION` names its description.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use super::PortMapError;

pub const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 255, 255, 250), 1900);
const SEARCH_TARGET: &str = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";
/// Replies are a few hundred bytes; the receive buffer holds no more, and the parser takes
/// no more either.
const MAX_REPLY: usize = 2048;

pub fn search_request() -> String {
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: {GROUP}\r\nST: {SEARCH_TARGET}\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n"
    )
}

/// The description URL of a reply from `from`, if it is a gateway's: the URL must be plain
/// http on the address that answered, and that address must be on the LAN, so a reply
/// cannot point us at any other host.
pub fn parse_reply(b: &[u8], from: IpAddr) -> Result<url::Url, PortMapError> {
    if b.len() > MAX_REPLY {
        return Err(PortMapError::Malformed("SSDP reply is too long"));
    }
    let text =
        std::str::from_utf8(b).map_err(|_| PortMapError::Malformed("SSDP reply is not text"))?;
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap_or("");
    if !(status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200")) {
        return Err(PortMapError::Malformed("SSDP reply is not 200 OK"));
    }
    let location = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.trim())
        .ok_or(PortMapError::Malformed("SSDP reply without LOCATION"))?;
    let url = url::Url::parse(location).map_err(|_| PortMapError::Malformed("bad LOCATION URL"))?;
    let host_ip = match url.host() {
        Some(url::Host::Ipv4(a)) => IpAddr::V4(a),
        Some(url::Host::Ipv6(a)) => IpAddr::V6(a),
        _ => return Err(PortMapError::Malformed("LOCATION is not an IP address")),
    };
    if url.scheme() != "http" || host_ip != from || !super::on_lan(from) {
        return Err(PortMapError::Malformed(
            "LOCATION is not the answering LAN gateway",
        ));
    }
    Ok(url)
}

/// Searches on `interface` (unspecified: the default one) and returns the first gateway's
/// description URL.
pub async fn discover(interface: Ipv4Addr, wait: Duration) -> Result<url::Url, PortMapError> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_nonblocking(true)?;
    s.set_multicast_if_v4(&interface)?;
    s.set_multicast_ttl_v4(2)?;
    s.bind(&SocketAddr::from((interface, 0)).into())?;
    let sock = UdpSocket::from_std(s.into())?;
    let req = search_request();
    let mut buf = [0u8; MAX_REPLY];
    let deadline = tokio::time::Instant::now() + wait;
    // Two searches, as UDP may drop one.
    for _ in 0..2 {
        sock.send_to(req.as_bytes(), SocketAddr::V4(GROUP)).await?;
        let round = (tokio::time::Instant::now() + wait / 2).min(deadline);
        while let Ok(r) = tokio::time::timeout_at(round, sock.recv_from(&mut buf)).await {
            let (n, from) = r?;
            match parse_reply(&buf[..n], from.ip()) {
                Ok(url) => return Ok(url),
                Err(e) => tracing::debug!(%from, "SSDP reply ignored: {e}"),
            }
        }
    }
    Err(PortMapError::NoGateway)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What miniupnpd 2.3 answers.
    const MINIUPNPD: &[u8] = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:3d3cec3a::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://192.168.1.1:5000/rootDesc.xml\r\nOPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n\r\n";

    #[test]
    fn reads_the_location_of_the_answering_gateway() {
        let from: IpAddr = "192.168.1.1".parse().unwrap();
        let url = parse_reply(MINIUPNPD, from).unwrap();
        assert_eq!(url.as_str(), "http://192.168.1.1:5000/rootDesc.xml");
    }

    #[test]
    fn refuses_a_location_elsewhere() {
        // Another host than the one answering, or a public one: never fetched.
        assert!(parse_reply(MINIUPNPD, "192.168.1.9".parse().unwrap()).is_err());
        let public = String::from_utf8_lossy(MINIUPNPD).replace("192.168.1.1", "80.80.80.80");
        assert!(parse_reply(public.as_bytes(), "80.80.80.80".parse().unwrap()).is_err());
        let https = String::from_utf8_lossy(MINIUPNPD).replace("http://", "https://");
        assert!(parse_reply(https.as_bytes(), "192.168.1.1".parse().unwrap()).is_err());
        assert!(parse_reply(
            b"HTTP/1.1 404 Not Found\r\n\r\n",
            "192.168.1.1".parse().unwrap()
        )
        .is_err());
    }

    #[test]
    fn refuses_a_reply_longer_than_the_receive_buffer() {
        let from: IpAddr = "192.168.1.1".parse().unwrap();
        let padded = |len: usize| {
            // The last header, then "X-PAD: aaa…" and the blank line.
            let mut r = MINIUPNPD[..MINIUPNPD.len() - 2].to_vec();
            let fill = len - r.len() - b"X-PAD: \r\n\r\n".len();
            r.extend(
                b"X-PAD: "
                    .iter()
                    .chain(&vec![b'a'; fill])
                    .chain(b"\r\n\r\n"),
            );
            r
        };
        assert_eq!(padded(MAX_REPLY).len(), MAX_REPLY);
        assert!(parse_reply(&padded(MAX_REPLY), from).is_ok());
        assert!(parse_reply(&padded(MAX_REPLY + 1), from).is_err());
    }
}
