//! HTTP(S) announces (BEP 3 with BEP 23 compact peers).

use super::response::parse_announce_response;
use super::{AnnounceRequest, AnnounceResponse, TrackerConfig, TrackerError};

/// Largest response body we read; a real announce reply is a few KiB.
pub const MAX_BODY: usize = 2 << 20;
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 3;

/// System proxies are deliberately not used: announces go straight to the tracker.
/// Idle connections are not kept: announces are minutes apart and trackers (opentracker)
/// close idle keep-alive connections, so a pooled one fails with a reset. Redirects are
/// followed by [`fetch`] itself, which checks each target against the SSRF rule.
pub(super) fn build_client(cfg: &TrackerConfig) -> Result<reqwest::Client, TrackerError> {
    reqwest::Client::builder()
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(cfg.user_agent.clone())
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| TrackerError::Http(e.to_string()))
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
    url
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

/// GETs `url`, following up to [`MAX_REDIRECTS`] redirects to http(s) URLs (none into a
/// local address unless the config allows local trackers), and parses the final body.
async fn fetch(
    client: &reqwest::Client,
    cfg: &TrackerConfig,
    url: &str,
) -> Result<AnnounceResponse, TrackerError> {
    let mut url = url::Url::parse(url).map_err(|e| TrackerError::InvalidUrl(e.to_string()))?;
    let mut redirects = 0;
    loop {
        let resp = client.get(url.clone()).send().await.map_err(map_err)?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .filter(|_| resp.status().is_redirection());
        let Some(location) = location else {
            return read_response(resp).await;
        };
        if redirects == MAX_REDIRECTS {
            return Err(TrackerError::Http(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        redirects += 1;
        let next = location
            .to_str()
            .ok()
            .and_then(|l| url.join(l).ok())
            .ok_or_else(|| TrackerError::InvalidUrl("unreadable redirect location".into()))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(TrackerError::UnsupportedScheme(next.scheme().to_string()));
        }
        if !cfg.allow_local {
            super::ssrf::check_redirect(&next, cfg.timeout).await?;
        }
        url = next;
    }
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
    if e.is_timeout() {
        TrackerError::Timeout
    } else {
        // The full chain says e.g. "connection refused" rather than just "error sending request".
        let mut msg = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        TrackerError::Http(msg)
    }
}

/// These talk to a tiny in-process HTTP server on 127.0.0.1 with canned replies; real
/// trackers (opentracker) are exercised by the integration tests.
#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::tracker::tests::request;
    use crate::tracker::{AnnounceEvent, TrackerClient};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::task::JoinHandle;

    /// Serves each canned raw HTTP response to one connection, in order, and returns the
    /// request lines it saw. `{base}` in a response is replaced by the server's base URL.
    pub(crate) async fn serve(responses: Vec<Vec<u8>>) -> (String, JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let b = base.clone();
        let task = tokio::spawn(async move {
            let mut seen = Vec::new();
            for resp in responses {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    req.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&req);
                seen.push(text.lines().next().unwrap_or("").to_string());
                let _ = s.write_all(&replace(&resp, b"{base}", b.as_bytes())).await;
                let _ = s.shutdown().await;
            }
            seen
        });
        (base, task)
    }

    fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        match hay.windows(from.len()).position(|w| w == from) {
            Some(i) => [&hay[..i], to, &replace(&hay[i + from.len()..], from, to)].concat(),
            None => hay.to_vec(),
        }
    }

    pub(crate) fn ok(body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

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
