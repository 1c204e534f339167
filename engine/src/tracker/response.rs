//! Parsing of bencoded HTTP announce responses and compact peer lists (BEP 23, BEP 7).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::{AnnounceResponse, TrackerError};
use crate::bencode::{self, Value};

/// Shortest re-announce interval we accept: protects trackers from a misconfigured reply.
pub const MIN_INTERVAL: Duration = Duration::from_secs(30);
/// Longest interval we accept, so a bogus huge value does not silence a tracker forever.
pub const MAX_INTERVAL: Duration = Duration::from_secs(2 * 3600);
/// Peers taken from one response; the rest are ignored.
pub const MAX_PEERS: usize = 2000;

/// Parses an HTTP tracker's bencoded body.
pub fn parse_announce_response(body: &[u8]) -> Result<AnnounceResponse, TrackerError> {
    let root = bencode::decode(body).map_err(|e| TrackerError::Malformed(e.to_string()))?;
    if root.as_dict().is_none() {
        return Err(TrackerError::Malformed(
            "response is not a dictionary".into(),
        ));
    }
    if let Some(reason) = root.get(b"failure reason") {
        return Err(TrackerError::Failure(
            reason.as_bytes().map(tracker_text).unwrap_or_default(),
        ));
    }
    let interval = root
        .get(b"interval")
        .and_then(Value::as_int)
        .ok_or_else(|| TrackerError::Malformed("missing interval".into()))?;
    let min_interval = root
        .get(b"min interval")
        .and_then(Value::as_int)
        .map(clamp_interval);
    let count = |k: &[u8]| {
        root.get(k)
            .and_then(Value::as_int)
            .and_then(|n| u32::try_from(n).ok())
    };

    let mut peers = Vec::new();
    match root.get(b"peers") {
        Some(Value::Bytes(b)) => parse_compact_v4(b, &mut peers)?,
        Some(Value::List(l)) => parse_dict_peers(l, &mut peers),
        Some(_) => return Err(TrackerError::Malformed("peers has the wrong type".into())),
        None => {}
    }
    if let Some(v6) = root.get(b"peers6") {
        let b = v6
            .as_bytes()
            .ok_or_else(|| TrackerError::Malformed("peers6 is not a string".into()))?;
        parse_compact_v6(b, &mut peers)?;
    }

    Ok(AnnounceResponse {
        interval: clamp_interval(interval),
        min_interval,
        peers,
        seeders: count(b"complete"),
        leechers: count(b"incomplete"),
        warning: root
            .get(b"warning message")
            .and_then(Value::as_bytes)
            .map(tracker_text),
    })
}

/// Longest tracker message kept (failure reasons and warnings end up in the UI).
const MAX_TEXT: usize = 512;

/// A tracker-supplied message as text, cut to [`MAX_TEXT`] bytes.
pub(super) fn tracker_text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(MAX_TEXT)]).into_owned()
}

/// Clamps a tracker-supplied interval in seconds to our sane range.
pub(super) fn clamp_interval(secs: i64) -> Duration {
    let secs = u64::try_from(secs).unwrap_or(0);
    Duration::from_secs(secs).clamp(MIN_INTERVAL, MAX_INTERVAL)
}

/// Appends 6-byte `ip:port` entries (BEP 23), up to [`MAX_PEERS`] in total.
pub(super) fn parse_compact_v4(b: &[u8], out: &mut Vec<SocketAddr>) -> Result<(), TrackerError> {
    if !b.chunks_exact(6).remainder().is_empty() {
        return Err(TrackerError::Malformed(format!(
            "compact peers of {} bytes",
            b.len()
        )));
    }
    for e in b.chunks_exact(6) {
        let ip = Ipv4Addr::new(e[0], e[1], e[2], e[3]);
        push_peer(out, IpAddr::V4(ip), u16::from_be_bytes([e[4], e[5]]));
    }
    Ok(())
}

/// Appends 18-byte `ip6:port` entries (BEP 7), up to [`MAX_PEERS`] in total.
pub(super) fn parse_compact_v6(b: &[u8], out: &mut Vec<SocketAddr>) -> Result<(), TrackerError> {
    if !b.chunks_exact(18).remainder().is_empty() {
        return Err(TrackerError::Malformed(format!(
            "compact peers6 of {} bytes",
            b.len()
        )));
    }
    for e in b.chunks_exact(18) {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&e[..16]);
        push_peer(
            out,
            IpAddr::V6(Ipv6Addr::from(ip)),
            u16::from_be_bytes([e[16], e[17]]),
        );
    }
    Ok(())
}

/// The original non-compact form: a list of `{ip, port, peer id}` dictionaries. Entries we
/// cannot use (host names, bad ports) are skipped rather than failing the whole announce.
fn parse_dict_peers(list: &[Value], out: &mut Vec<SocketAddr>) {
    for p in list {
        let ip = p
            .get(b"ip")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok());
        let port = p
            .get(b"port")
            .and_then(Value::as_int)
            .and_then(|n| u16::try_from(n).ok());
        if let (Some(ip), Some(port)) = (ip, port) {
            push_peer(out, ip, port);
        }
    }
}

fn push_peer(out: &mut Vec<SocketAddr>, ip: IpAddr, port: u16) {
    if out.len() < MAX_PEERS && port != 0 && !ip.is_unspecified() {
        out.push(SocketAddr::new(ip, port));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &[u8]) -> Result<AnnounceResponse, TrackerError> {
        parse_announce_response(b)
    }

    #[test]
    fn compact_response() {
        let r = parse(b"d8:completei5e10:incompletei3e8:intervali1800e12:min intervali60e5:peers12:\x7f\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02\x00\x50e").unwrap();
        assert_eq!(r.interval, Duration::from_secs(1800));
        assert_eq!(r.min_interval, Some(Duration::from_secs(60)));
        assert_eq!((r.seeders, r.leechers), (Some(5), Some(3)));
        assert_eq!(
            r.peers,
            vec![
                "127.0.0.1:6881".parse().unwrap(),
                "10.0.0.2:80".parse().unwrap()
            ]
        );
        assert_eq!(r.warning, None);
    }

    #[test]
    fn dict_peers_and_peers6() {
        let mut body = b"d8:intervali900e5:peersld2:ip9:127.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti7000eed2:ip11:example.com4:porti1eed2:ip3:::14:porti99999eee6:peers618:".to_vec();
        body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1b, 0x58]);
        body.extend_from_slice(b"15:warning message4:slowe");
        let r = parse(&body).unwrap();
        assert_eq!(
            r.peers,
            vec![
                "127.0.0.1:7000".parse().unwrap(),
                "[::1]:7000".parse().unwrap()
            ]
        );
        assert_eq!(r.warning.as_deref(), Some("slow"));
        assert_eq!(r.seeders, None);
    }

    #[test]
    fn failure_reason_wins() {
        let e = parse(b"d14:failure reason12:unregisterede").unwrap_err();
        assert!(matches!(e, TrackerError::Failure(m) if m == "unregistered"));
        let long = format!("d14:failure reason2000:{}e", "x".repeat(2000));
        let e = parse(long.as_bytes()).unwrap_err();
        assert!(matches!(e, TrackerError::Failure(m) if m.len() == MAX_TEXT));
    }

    #[test]
    fn malformed_responses() {
        for body in [
            &b"<html>not bencode</html>"[..],
            b"le",
            b"d5:peers0:e",                    // no interval
            b"d8:intervali10e5:peers5:abcdee", // truncated compact list
            b"d8:intervali10e5:peersi1ee",
            b"d8:intervali10e6:peers65:abcdee",
            b"d8:intervali10e6:peers6i1ee",
        ] {
            assert!(
                matches!(parse(body), Err(TrackerError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn intervals_are_clamped_and_counts_checked() {
        let r = parse(b"d8:completei-1e8:intervali1e12:min intervali-5ee").unwrap();
        assert_eq!(r.interval, MIN_INTERVAL);
        assert_eq!(r.min_interval, Some(MIN_INTERVAL));
        assert_eq!(r.seeders, None);
        assert!(r.peers.is_empty());
        let r = parse(b"d8:intervali999999999999ee").unwrap();
        assert_eq!(r.interval, MAX_INTERVAL);
    }

    #[test]
    fn peer_count_is_capped() {
        let n = MAX_PEERS + 10;
        let mut compact = Vec::new();
        for i in 0..n as u32 {
            compact.extend_from_slice(&(0x0a00_0000 + i).to_be_bytes());
            compact.extend_from_slice(&[0x1a, 0xe1]);
        }
        let mut body = format!("d8:intervali60e5:peers{}:", compact.len()).into_bytes();
        body.extend_from_slice(&compact);
        body.push(b'e');
        assert_eq!(parse(&body).unwrap().peers.len(), MAX_PEERS);
    }
}
