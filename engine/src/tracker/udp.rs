//! UDP tracker protocol (BEP 15): connect, then announce with the connection id.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::response::{clamp_interval, parse_compact_v4, parse_compact_v6, tracker_text};
use super::{AnnounceRequest, AnnounceResponse, Inner, TrackerError};

const PROTOCOL_ID: u64 = 0x41727101980;
const ACTION_CONNECT: u32 = 0;
const ACTION_ANNOUNCE: u32 = 1;
const ACTION_ERROR: u32 = 3;
/// How long a tracker honours a connection id (BEP 15).
pub(super) const CONNECTION_ID_TTL: Duration = Duration::from_secs(60);
/// Largest datagram we accept: the UDP maximum, so no response is ever truncated.
const MAX_DATAGRAM: usize = 65_536;

pub(super) async fn announce(
    inner: &Inner,
    url: &url::Url,
    req: &AnnounceRequest,
) -> Result<AnnounceResponse, TrackerError> {
    let host = url
        .host_str()
        .ok_or_else(|| TrackerError::InvalidUrl("udp url without host".into()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = url
        .port()
        .ok_or_else(|| TrackerError::InvalidUrl("udp url without port".into()))?;
    let addr = resolve(host, port, inner.cfg.timeout).await?;
    let bind: SocketAddr = if addr.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(bind).await?;
    // A connected socket only delivers datagrams from the tracker's address.
    sock.connect(addr).await?;

    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut attempt: u32 = 0;
    loop {
        let wait = inner
            .cfg
            .udp_initial_timeout
            .saturating_mul(1u32 << attempt.min(16));
        let step = match cached_id(inner, addr) {
            Some(id) => announce_once(&sock, &mut buf, id, req, addr.is_ipv6(), wait).await,
            None => match connect_once(&sock, &mut buf, wait).await {
                Ok(id) => {
                    store_id(inner, addr, id);
                    continue; // announce straight away, same attempt
                }
                Err(e) => Err(e),
            },
        };
        match step {
            Err(TrackerError::Timeout) if attempt < inner.cfg.udp_max_retries => {
                attempt += 1;
                tracing::debug!(%addr, attempt, "udp tracker timeout, retransmitting");
            }
            Err(e) => {
                // An error reply often means our connection id is stale: start afresh next time.
                forget_id(inner, addr);
                return Err(e);
            }
            Ok(r) => return Ok(r),
        }
    }
}

async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<SocketAddr, TrackerError> {
    let lookup = tokio::net::lookup_host((host, port));
    let mut addrs = tokio::time::timeout(timeout, lookup)
        .await
        .map_err(|_| TrackerError::Timeout)?
        .map_err(|e| TrackerError::Resolve(format!("{host}: {e}")))?;
    addrs
        .next()
        .ok_or_else(|| TrackerError::Resolve(format!("{host}: no addresses")))
}

fn cached_id(inner: &Inner, addr: SocketAddr) -> Option<u64> {
    let ids = inner.udp_conn_ids.lock().unwrap_or_else(|p| p.into_inner());
    ids.get(&addr)
        .filter(|(_, at)| at.elapsed() < CONNECTION_ID_TTL)
        .map(|(id, _)| *id)
}

fn store_id(inner: &Inner, addr: SocketAddr, id: u64) {
    let mut ids = inner.udp_conn_ids.lock().unwrap_or_else(|p| p.into_inner());
    ids.retain(|_, (_, at)| at.elapsed() < CONNECTION_ID_TTL);
    ids.insert(addr, (id, Instant::now()));
}

fn forget_id(inner: &Inner, addr: SocketAddr) {
    inner
        .udp_conn_ids
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&addr);
}

async fn connect_once(
    sock: &UdpSocket,
    buf: &mut [u8],
    wait: Duration,
) -> Result<u64, TrackerError> {
    let tid: u32 = rand::random();
    let mut pkt = [0u8; 16];
    pkt[..8].copy_from_slice(&PROTOCOL_ID.to_be_bytes());
    pkt[8..12].copy_from_slice(&ACTION_CONNECT.to_be_bytes());
    pkt[12..16].copy_from_slice(&tid.to_be_bytes());
    let resp = exchange(sock, buf, &pkt, tid, wait).await?;
    parse_connect_reply(resp)
}

async fn announce_once(
    sock: &UdpSocket,
    buf: &mut [u8],
    conn_id: u64,
    req: &AnnounceRequest,
    ipv6: bool,
    wait: Duration,
) -> Result<AnnounceResponse, TrackerError> {
    let tid: u32 = rand::random();
    let num_want = req
        .num_want
        .map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX));
    let mut pkt = Vec::with_capacity(98);
    pkt.extend_from_slice(&conn_id.to_be_bytes());
    pkt.extend_from_slice(&ACTION_ANNOUNCE.to_be_bytes());
    pkt.extend_from_slice(&tid.to_be_bytes());
    pkt.extend_from_slice(&req.info_hash.0);
    pkt.extend_from_slice(&req.peer_id.0);
    pkt.extend_from_slice(&req.downloaded.to_be_bytes());
    pkt.extend_from_slice(&req.left.to_be_bytes());
    pkt.extend_from_slice(&req.uploaded.to_be_bytes());
    pkt.extend_from_slice(&req.event.udp_code().to_be_bytes());
    pkt.extend_from_slice(&0u32.to_be_bytes()); // ip: let the tracker use the source address
    pkt.extend_from_slice(&req.key.to_be_bytes());
    pkt.extend_from_slice(&num_want.to_be_bytes());
    pkt.extend_from_slice(&req.port.to_be_bytes());

    let resp = exchange(sock, buf, &pkt, tid, wait).await?;
    parse_announce_reply(resp, ipv6)
}

/// Parses a tracker's reply to an announce (BEP 15): an error's text, or the interval,
/// counts and compact peers (IPv6 ones when the announce went over IPv6).
pub fn parse_announce_reply(resp: &[u8], ipv6: bool) -> Result<AnnounceResponse, TrackerError> {
    let resp = check_reply(resp, ACTION_ANNOUNCE, 20)?;
    let field = |i: usize| u32::from_be_bytes(read4(&resp[i..i + 4]));
    let mut peers = Vec::new();
    if ipv6 {
        parse_compact_v6(&resp[20..], &mut peers)?;
    } else {
        parse_compact_v4(&resp[20..], &mut peers)?;
    }
    Ok(AnnounceResponse {
        interval: clamp_interval(i64::from(field(8))),
        min_interval: None,
        peers,
        leechers: Some(field(12)),
        seeders: Some(field(16)),
        warning: None,
    })
}

/// Parses a tracker's reply to a connect: the connection id.
pub fn parse_connect_reply(resp: &[u8]) -> Result<u64, TrackerError> {
    let resp = check_reply(resp, ACTION_CONNECT, 16)?;
    Ok(u64::from_be_bytes(read8(&resp[8..16])))
}

/// An error action becomes the tracker's failure text; any other action than `action`, or a
/// reply shorter than `min_len`, is malformed.
fn check_reply(resp: &[u8], action: u32, min_len: usize) -> Result<&[u8], TrackerError> {
    let n = resp.len();
    if n < 8 {
        return Err(TrackerError::Malformed(format!("{n}-byte reply")));
    }
    match u32::from_be_bytes(read4(&resp[..4])) {
        ACTION_ERROR => Err(TrackerError::Failure(tracker_text(&resp[8..]))),
        a if a != action => Err(TrackerError::Malformed(format!(
            "action {a}, expected {action}"
        ))),
        _ if n < min_len => Err(TrackerError::Malformed(format!(
            "{n}-byte reply to action {action}"
        ))),
        _ => Ok(resp),
    }
}

/// Sends `pkt` once and waits up to `wait` for the reply carrying `tid`. Datagrams with
/// another transaction id are stray (late replies to earlier attempts) and are ignored.
async fn exchange<'b>(
    sock: &UdpSocket,
    buf: &'b mut [u8],
    pkt: &[u8],
    tid: u32,
    wait: Duration,
) -> Result<&'b [u8], TrackerError> {
    sock.send(pkt).await?;
    let deadline = tokio::time::Instant::now() + wait;
    let n = loop {
        let n = match tokio::time::timeout_at(deadline, sock.recv(buf)).await {
            Err(_) => return Err(TrackerError::Timeout),
            Ok(r) => r?,
        };
        if n < 8 || u32::from_be_bytes(read4(&buf[4..8])) != tid {
            tracing::trace!(n, "ignoring stray udp tracker datagram");
            continue;
        }
        break n;
    };
    Ok(&buf[..n])
}

fn read4(b: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    a
}

fn read8(b: &[u8]) -> [u8; 8] {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    a
}

/// An in-process BEP 15 tracker on 127.0.0.1 for unit tests; real trackers (opentracker)
/// are exercised by the integration tests.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::tests::request;
    use crate::tracker::{TrackerClient, TrackerConfig};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Normal,
        DropFirst,
        Error,
        WrongTidFirst,
        WrongTidOnly,
        Short,
    }

    #[derive(Default)]
    struct Seen {
        datagrams: AtomicUsize,
        connects: AtomicUsize,
        last_announce: Mutex<Vec<u8>>,
    }

    const CONN_ID: u64 = 0x1122_3344_5566_7788;

    async fn tracker(mode: Mode) -> (String, Arc<Seen>) {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let url = format!("udp://{}/announce", sock.local_addr().unwrap());
        let seen = Arc::new(Seen::default());
        let s = seen.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf).await else {
                    return;
                };
                let count = s.datagrams.fetch_add(1, Ordering::SeqCst);
                if mode == Mode::DropFirst && count == 0 {
                    continue;
                }
                let p = &buf[..n];
                let tid = &p[12..16];
                let mut out = Vec::new();
                if n == 16 && p[..8] == PROTOCOL_ID.to_be_bytes() && p[8..12] == [0, 0, 0, 0] {
                    s.connects.fetch_add(1, Ordering::SeqCst);
                    out.extend_from_slice(&[0, 0, 0, 0]);
                    out.extend_from_slice(tid);
                    out.extend_from_slice(&CONN_ID.to_be_bytes());
                } else if n == 98 && p[..8] == CONN_ID.to_be_bytes() && p[8..12] == [0, 0, 0, 1] {
                    *s.last_announce.lock().unwrap() = p.to_vec();
                    match mode {
                        Mode::Error => {
                            out.extend_from_slice(&3u32.to_be_bytes());
                            out.extend_from_slice(tid);
                            out.extend_from_slice(b"bad torrent");
                        }
                        Mode::Short => {
                            out.extend_from_slice(&1u32.to_be_bytes());
                            out.extend_from_slice(tid);
                        }
                        _ => {
                            out.extend_from_slice(&1u32.to_be_bytes());
                            out.extend_from_slice(tid);
                            for v in [1800u32, 4, 5] {
                                out.extend_from_slice(&v.to_be_bytes());
                            }
                            out.extend_from_slice(&[127, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 1, 0, 80]);
                        }
                    }
                } else {
                    continue;
                }
                if matches!(mode, Mode::WrongTidFirst | Mode::WrongTidOnly) {
                    let mut stray = out.clone();
                    stray[4] ^= 0xff;
                    let _ = sock.send_to(&stray, from).await;
                    if mode == Mode::WrongTidOnly {
                        continue;
                    }
                }
                let _ = sock.send_to(&out, from).await;
            }
        });
        (url, seen)
    }

    fn client(retries: u32) -> TrackerClient {
        TrackerClient::new(TrackerConfig {
            udp_initial_timeout: Duration::from_millis(100),
            udp_max_retries: retries,
            ..Default::default()
        })
        .unwrap()
    }

    fn expire_ids(c: &TrackerClient) {
        let old = Instant::now()
            .checked_sub(CONNECTION_ID_TTL + Duration::from_secs(1))
            .unwrap();
        for (_, at) in c.inner.udp_conn_ids.lock().unwrap().values_mut() {
            *at = old;
        }
    }

    #[tokio::test]
    async fn connect_announce_and_connection_id_reuse() {
        let (url, seen) = tracker(Mode::Normal).await;
        let c = client(2);
        let r = c.announce(&url, &request()).await.unwrap();
        assert_eq!(
            r.peers,
            vec![
                "127.0.0.1:6881".parse().unwrap(),
                "10.0.0.1:80".parse().unwrap()
            ]
        );
        assert_eq!(
            (r.interval, r.leechers, r.seeders),
            (Duration::from_secs(1800), Some(4), Some(5))
        );

        let p = seen.last_announce.lock().unwrap().clone();
        assert_eq!(&p[16..36], &[0xab; 20]);
        assert_eq!(&p[36..56], b"-TE0100-abcdefghijkl");
        assert_eq!(u64::from_be_bytes(read8(&p[56..64])), 2, "downloaded");
        assert_eq!(u64::from_be_bytes(read8(&p[64..72])), 3, "left");
        assert_eq!(u64::from_be_bytes(read8(&p[72..80])), 1, "uploaded");
        assert_eq!(u32::from_be_bytes(read4(&p[80..84])), 2, "event started");
        assert_eq!(u32::from_be_bytes(read4(&p[88..92])), 0x1234_abcd, "key");
        assert_eq!(i32::from_be_bytes(read4(&p[92..96])), 50, "num_want");
        assert_eq!(&p[96..98], &6881u16.to_be_bytes());

        // A clone shares the cache: no second connect within 60 s.
        c.clone().announce(&url, &request()).await.unwrap();
        assert_eq!(seen.connects.load(Ordering::SeqCst), 1);
        expire_ids(&c);
        c.announce(&url, &request()).await.unwrap();
        assert_eq!(
            seen.connects.load(Ordering::SeqCst),
            2,
            "expired id must be refreshed"
        );
    }

    #[tokio::test]
    async fn retransmits_after_a_lost_packet() {
        let (url, seen) = tracker(Mode::DropFirst).await;
        let started = Instant::now();
        let r = client(2).announce(&url, &request()).await.unwrap();
        assert_eq!(r.peers.len(), 2);
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert_eq!(
            seen.datagrams.load(Ordering::SeqCst),
            3,
            "lost connect, connect, announce"
        );
    }

    #[tokio::test]
    async fn error_action_is_a_failure_and_drops_the_id() {
        let (url, seen) = tracker(Mode::Error).await;
        let c = client(2);
        for _ in 0..2 {
            let e = c.announce(&url, &request()).await.unwrap_err();
            assert!(
                matches!(&e, TrackerError::Failure(m) if m == "bad torrent"),
                "{e:?}"
            );
        }
        assert_eq!(seen.connects.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn stray_transaction_ids_are_ignored() {
        let (url, _) = tracker(Mode::WrongTidFirst).await;
        assert_eq!(
            client(0)
                .announce(&url, &request())
                .await
                .unwrap()
                .peers
                .len(),
            2
        );

        let (url, seen) = tracker(Mode::WrongTidOnly).await;
        let started = Instant::now();
        let e = client(1).announce(&url, &request()).await.unwrap_err();
        assert!(matches!(e, TrackerError::Timeout), "{e:?}");
        assert!(
            started.elapsed() >= Duration::from_millis(300),
            "100 ms then 200 ms"
        );
        assert_eq!(
            seen.datagrams.load(Ordering::SeqCst),
            2,
            "one retransmission"
        );
    }

    #[tokio::test]
    async fn short_reply_and_bad_urls() {
        let (url, _) = tracker(Mode::Short).await;
        let e = client(0).announce(&url, &request()).await.unwrap_err();
        assert!(matches!(e, TrackerError::Malformed(_)), "{e:?}");
        let e = client(0)
            .announce("udp://127.0.0.1/announce", &request())
            .await
            .unwrap_err();
        assert!(matches!(e, TrackerError::InvalidUrl(_)), "{e:?}");
    }
}
