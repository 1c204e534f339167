//! HTTP(S) announces (BEP 3 with BEP 23 compact peers).

use super::response::parse_announce_response;
use super::{AnnounceRequest, AnnounceResponse, TrackerConfig, TrackerError};

/// Largest response body we read; a real announce reply is a few KiB.
pub const MAX_BODY: usize = 2 << 20;
/// Idle connections are not kept: announces are minutes apart and trackers (opentracker)
/// close idle keep-alive connections, so a pooled one fails with a reset.
pub(super) fn build_client(cfg: &TrackerConfig) -> Result<reqwest::Client, TrackerError> {
    Ok(crate::http::client(
        Some(cfg.timeout),
        cfg.timeout,
        &cfg.user_agent,
        false,
    )?)
}

/// The announce URL with our parameters appended (after any query it already has, such as
/// a private tracker's passkey).
pub(super) fn announce_url(base: &str, req: &AnnounceRequest) -> String {
    let base = base.split('#').next().unwrap_or(base);
    let sep = match base.rfind('?') {
        None => "?",
        Some(i) if i + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut url = format!(
        "{base}{sep}info_hash={}&peer_id={}&port={}&uploaded={}&downloaded={}&left={}&compact=1&key={:08x}",
        req.info_hash.url_encode(),
        req.peer_id.url_encode(),
        req.port,
        req.uploaded,
        req.downloaded,
        req.left,
        req.key,
    );
    if let Some(n) = req.num_want {
        url.push_str(&format!("&numwant={n}"));
    }
    if let Some(ev) = req.event.http_value() {
        url.push_str("&event=");
        url.push_str(ev);
    }
    for (name, addr) in [("ipv4", req.ipv4), ("ipv6", req.ipv6)] {
        if let Some(a) = addr {
            url.push_str(&format!("&{name}={}", bep7_value(a, req.port)));
        }
    }
    url
}

/// BEP 7: the bare address when it listens on the announced port, else `addr:port`
/// (`[addr]:port` for IPv6), URL-encoded.
fn bep7_value(a: std::net::SocketAddr, port: u16) -> String {
    let text = if a.port() == port {
        a.ip().to_string()
    } else {
        a.to_string()
    };
    percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) async fn announce(
    client: &reqwest::Client,
    cfg: &TrackerConfig,
    base: &str,
    req: &AnnounceRequest,
) -> Result<AnnounceResponse, TrackerError> {
    let url = announce_url(base, req);
    // reqwest's own timeout covers the request; this also bounds our body loop.
    match tokio::time::timeout(cfg.timeout, fetch(client, cfg, &url)).await {
        Ok(r) => r,
        Err(_) => Err(TrackerError::Timeout),
    }
}

/// GETs `url` (redirects checked by [`crate::http::get`]) and parses the final body.
async fn fetch(
    client: &reqwest::Client,
    cfg: &TrackerConfig,
    url: &str,
) -> Result<AnnounceResponse, TrackerError> {
    let url = url::Url::parse(url).map_err(|e| TrackerError::InvalidUrl(e.to_string()))?;
    let resp = crate::http::get(client, url, None, cfg.allow_local, cfg.timeout).await?;
    read_response(resp).await
}

async fn read_response(mut resp: reqwest::Response) -> Result<AnnounceResponse, TrackerError> {
    let status = resp.status();
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(TrackerError::Malformed(format!(
            "response body over {MAX_BODY} bytes"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(map_err)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(TrackerError::Malformed(format!(
                "response body over {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    match parse_announce_response(&body) {
        // Some trackers send their failure reason with a 4xx status: report the reason.
        Err(TrackerError::Failure(m)) => Err(TrackerError::Failure(m)),
        _ if !status.is_success() => Err(TrackerError::Http(format!("status {status}"))),
        other => other,
    }
}

fn map_err(e: reqwest::Error) -> TrackerError {
    crate::http::map_err(e).into()
}

/// These talk to a tiny in-process HTTP server on 127.0.0.1 with canned replies; real
/// trackers (opentracker) are exercised by the integration tests.
#[cfg(test)]
pub(super) mod tests {
    use super::*;
    pub(crate) use crate::http::test_server::{ok, serve};
    use crate::tracker::tests::request;
    use crate::tracker::{AnnounceEvent, TrackerClient};
    use std::time::Duration;
    use tokio::net::TcpListener;

    fn client() -> TrackerClient {
        TrackerClient::new(TrackerConfig {
            timeout: Duration::from_secs(5),
            allow_local: true,
            ..Default::default()
        })
        .unwrap()
    }

    /// With local trackers not allowed (the default), the in-process tracker on 127.0.0.1 is
    /// contacted only at `/announce`, and a redirect from there into a local address is not
    /// followed.
    #[tokio::test]
    async fn ssrf_rule_for_local_trackers() {
        let strict = TrackerClient::new(TrackerConfig {
            timeout: Duration::from_secs(5),
            ..Default::default()
        })
        .unwrap();
        let redirect = b"HTTP/1.1 302 Found\r\nLocation: {base}/admin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
        let (base, srv) = serve(vec![ok(COMPACT), redirect]).await;
        for path in ["/", "/admin?x=1", "/announce.php", "/announce/"] {
            let e = strict
                .announce(&format!("{base}{path}"), &request())
                .await
                .unwrap_err();
            assert!(matches!(e, TrackerError::Refused(_)), "{path}: {e:?}");
        }
        let r = strict
            .announce(&format!("{base}/announce"), &request())
            .await
            .unwrap();
        assert_eq!(r.peers.len(), 1);
        let e = strict
            .announce(&format!("{base}/announce"), &request())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, TrackerError::Refused(m) if m.contains("redirect")),
            "{e:?}"
        );
        let seen = srv.await.unwrap();
        assert_eq!(seen.len(), 2, "refused URLs were never requested: {seen:?}");
        assert!(
            seen.iter().all(|l| l.starts_with("GET /announce?")),
            "{seen:?}"
        );
    }

    const COMPACT: &[u8] =
        b"d8:completei1e10:incompletei2e8:intervali1800e5:peers6:\x7f\x00\x00\x01\x1a\xe1e";

    #[test]
    fn url_building() {
        let mut req = request();
        req.info_hash.0[0] = 0x12;
        req.info_hash.0[1] = b'a';
        let url = announce_url("http://t.example/announce", &req);
        assert!(
            url.starts_with("http://t.example/announce?info_hash=%12a%AB%AB"),
            "{url}"
        );
        assert!(url.contains("&peer_id=-TE0100-abcdefghijkl&port=6881&uploaded=1&downloaded=2&left=3&compact=1&key=1234abcd&numwant=50&event=started"), "{url}");
        assert!(announce_url("http://t/a?passkey=x", &req)
            .starts_with("http://t/a?passkey=x&info_hash="));
        assert!(announce_url("http://t/a?", &req).starts_with("http://t/a?info_hash="));
        req.event = AnnounceEvent::None;
        req.num_want = None;
        let url = announce_url("http://t/a#frag", &req);
        assert!(
            !url.contains("event=") && !url.contains("numwant") && !url.contains('#'),
            "{url}"
        );
        assert!(!url.contains("ipv4=") && !url.contains("ipv6="), "{url}");
    }

    #[test]
    fn bep7_addresses_ride_along() {
        let mut req = request();
        req.ipv6 = Some("[2001:db8::5]:6881".parse().unwrap());
        req.ipv4 = Some("198.51.100.7:7000".parse().unwrap());
        let url = announce_url("http://t/a", &req);
        assert!(url.contains("&ipv6=2001%3Adb8%3A%3A5"), "{url}");
        assert!(url.contains("&ipv4=198%2E51%2E100%2E7%3A7000"), "{url}");
        req.ipv6 = Some("[2001:db8::5]:7000".parse().unwrap());
        let url = announce_url("http://t/a", &req);
        assert!(
            url.contains("&ipv6=%5B2001%3Adb8%3A%3A5%5D%3A7000"),
            "{url}"
        );
    }

    #[tokio::test]
    async fn compact_announce_and_query() {
        let (base, srv) = serve(vec![ok(COMPACT)]).await;
        let r = client()
            .announce(&format!("{base}/announce?passkey=p"), &request())
            .await
            .unwrap();
        assert_eq!(r.peers, vec!["127.0.0.1:6881".parse().unwrap()]);
        assert_eq!((r.seeders, r.leechers), (Some(1), Some(2)));
        let seen = srv.await.unwrap();
        let line = &seen[0];
        assert!(
            line.starts_with("GET /announce?passkey=p&info_hash=%AB%AB"),
            "{line}"
        );
        for part in ["&left=3&", "&event=started", "&compact=1", "&port=6881&"] {
            assert!(line.contains(part), "{part} missing in {line}");
        }
    }

    #[tokio::test]
    async fn dict_peers() {
        let body = b"d8:intervali60e5:peersld2:ip8:10.0.0.14:porti80eeee";
        let (base, _srv) = serve(vec![ok(body)]).await;
        let r = client()
            .announce(&format!("{base}/a"), &request())
            .await
            .unwrap();
        assert_eq!(r.peers, vec!["10.0.0.1:80".parse().unwrap()]);
        assert_eq!(r.interval, Duration::from_secs(60));
    }

    #[tokio::test]
    async fn failure_reason_even_with_error_status() {
        let body = b"d14:failure reason9:not founde";
        let mut resp = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body);
        let (base, _srv) = serve(vec![ok(body), resp]).await;
        for _ in 0..2 {
            let e = client()
                .announce(&format!("{base}/a"), &request())
                .await
                .unwrap_err();
            assert!(
                matches!(&e, TrackerError::Failure(m) if m == "not found"),
                "{e:?}"
            );
        }
    }

    #[tokio::test]
    async fn garbage_missing_interval_and_truncated_peers() {
        let (base, _srv) = serve(vec![
            ok(b"<html>hello</html>"),
            ok(b"d5:peers0:e"),
            ok(b"d8:intervali60e5:peers7:\x7f\x00\x00\x01\x1a\xe1\x00e"),
        ])
        .await;
        for _ in 0..3 {
            let e = client()
                .announce(&format!("{base}/a"), &request())
                .await
                .unwrap_err();
            assert!(matches!(e, TrackerError::Malformed(_)), "{e:?}");
        }
    }

    #[tokio::test]
    async fn error_status_without_bencode() {
        let (base, _srv) = serve(vec![
            b"HTTP/1.1 503 Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
                .to_vec(),
        ])
        .await;
        let e = client()
            .announce(&format!("{base}/a"), &request())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, TrackerError::Http(m) if m.contains("503")),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn oversized_bodies_are_refused() {
        let big = vec![b'x'; MAX_BODY + 1];
        // One declares its length, the other streams without a length until close.
        let mut streamed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
        streamed.extend_from_slice(&big);
        let (base, _srv) = serve(vec![ok(&big), streamed]).await;
        for _ in 0..2 {
            let e = client()
                .announce(&format!("{base}/a"), &request())
                .await
                .unwrap_err();
            assert!(
                matches!(&e, TrackerError::Malformed(m) if m.contains("over")),
                "{e:?}"
            );
        }
    }

    #[tokio::test]
    async fn follows_a_few_redirects_only() {
        let redirect = b"HTTP/1.1 302 Found\r\nLocation: {base}/next\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec();
        let (base, srv) = serve(vec![redirect.clone(), ok(COMPACT)]).await;
        let r = client()
            .announce(&format!("{base}/a"), &request())
            .await
            .unwrap();
        assert_eq!(r.peers.len(), 1);
        assert!(srv.await.unwrap()[1].starts_with("GET /next "));

        let (base, _srv) = serve(vec![redirect; 4]).await;
        let e = client()
            .announce(&format!("{base}/a"), &request())
            .await
            .unwrap_err();
        assert!(matches!(e, TrackerError::Http(_)), "{e:?}");
    }

    #[tokio::test]
    async fn timeout_and_refused() {
        // A server that accepts and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _hold = tokio::spawn(async move {
            let (_s, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let c = TrackerClient::new(TrackerConfig {
            timeout: Duration::from_millis(300),
            allow_local: true,
            ..Default::default()
        })
        .unwrap();
        let e = c
            .announce(&format!("http://{addr}/a"), &request())
            .await
            .unwrap_err();
        assert!(matches!(e, TrackerError::Timeout), "{e:?}");

        // Nothing listens on a port we just released.
        let free = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let e = c
            .announce(&format!("http://{free}/a"), &request())
            .await
            .unwrap_err();
        assert!(matches!(e, TrackerError::Http(_)), "{e:?}");
    }
}
