//! One `Range` request to a web seed, checked: the answer must be exactly the bytes asked
//! for (206 with a matching `Content-Range`, or 200 when the whole file was asked for), never
//! more, and read under the torrent's and session's download limits.

use std::time::Duration;

use super::WebSeedError;
use crate::http;
use crate::session::ratelimit::PeerLimits;

/// `bytes first-last/total` (total may be `*`): first, last, total.
pub fn parse_content_range(v: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    (first <= last && total.is_none_or(|t| last < t)).then_some((first, last, total))
}

/// What to fetch: `len` bytes from `first` of a file `file_len` bytes long at `url`.
pub(crate) struct RangeRequest {
    pub url: url::Url,
    pub first: u64,
    pub len: u64,
    pub file_len: u64,
}

/// How to fetch: the SSRF rule, and how long the server may stay silent.
pub(crate) struct Policy<'a> {
    pub allow_local: bool,
    pub dns_timeout: Duration,
    pub idle: Duration,
    pub limits: &'a PeerLimits,
}

/// Appends the requested bytes to `out` (which the caller sized), or fails without
/// appending more than was asked for.
pub(crate) async fn fetch_range(
    client: &reqwest::Client,
    req: &RangeRequest,
    policy: &Policy<'_>,
    out: &mut Vec<u8>,
) -> Result<(), WebSeedError> {
    if req.len == 0 {
        return Ok(());
    }
    let last = req.first + req.len - 1;
    let send = http::get(
        client,
        req.url.clone(),
        Some((req.first, last)),
        policy.allow_local,
        policy.dns_timeout,
    );
    let mut resp = tokio::time::timeout(policy.idle, send)
        .await
        .map_err(|_| WebSeedError::Stalled(policy.idle.as_secs()))??;
    match resp.status().as_u16() {
        206 => {
            let cr = resp
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match parse_content_range(cr) {
                Some((f, l, _)) if f == req.first && l == last => {}
                _ => return Err(WebSeedError::ContentRange(cr.chars().take(80).collect())),
            }
        }
        200 if req.first == 0 && req.len == req.file_len => {}
        200 => return Err(WebSeedError::IgnoredRange),
        s => return Err(WebSeedError::Status(s)),
    }
    if let Some(n) = resp.content_length().filter(|&n| n != req.len) {
        return Err(WebSeedError::Length {
            expected: req.len,
            got: n,
        });
    }
    let mut got = 0u64;
    loop {
        let chunk = tokio::time::timeout(policy.idle, resp.chunk())
            .await
            .map_err(|_| WebSeedError::Stalled(policy.idle.as_secs()))?
            .map_err(|e| WebSeedError::Http(http::map_err(e)))?;
        let Some(chunk) = chunk else { break };
        got += chunk.len() as u64;
        if got > req.len {
            return Err(WebSeedError::Length {
                expected: req.len,
                got,
            });
        }
        policy.limits.acquire_down(chunk.len() as u64).await;
        out.extend_from_slice(&chunk);
    }
    if got != req.len {
        return Err(WebSeedError::Length {
            expected: req.len,
            got,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::test_server::{ok, serve};

    #[test]
    fn content_range() {
        assert_eq!(parse_content_range("bytes 0-9/10"), Some((0, 9, Some(10))));
        assert_eq!(parse_content_range("bytes 5-5/*"), Some((5, 5, None)));
        for bad in [
            "",
            "bytes 9-0/10",
            "bytes 0-10/10",
            "items 0-1/2",
            "bytes -1/2",
            "bytes 0-1",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    fn partial(body: &[u8], range: &str) -> Vec<u8> {
        let mut r = format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: {range}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    async fn get(base: &str, first: u64, len: u64, file_len: u64) -> Result<Vec<u8>, WebSeedError> {
        let client = http::client(None, Duration::from_secs(5), "test", false).unwrap();
        let limits = PeerLimits::default();
        let policy = Policy {
            allow_local: true,
            dns_timeout: Duration::from_secs(5),
            idle: Duration::from_secs(5),
            limits: &limits,
        };
        let req = RangeRequest {
            url: url::Url::parse(&format!("{base}/f")).unwrap(),
            first,
            len,
            file_len,
        };
        let mut out = Vec::new();
        fetch_range(&client, &req, &policy, &mut out)
            .await
            .map(|()| out)
    }

    /// Against a tiny in-process HTTP server with canned answers; nginx is the real
    /// counterpart in `engine/tests/web_seeds.rs`.
    #[tokio::test]
    async fn answers_are_checked() {
        let (base, srv) = serve(vec![
            partial(b"cdef", "bytes 2-5/10"),
            partial(b"cdef", "bytes 3-6/10"),
            ok(b"0123456789"),
            ok(b"0123"),
            partial(b"cdefg", "bytes 2-5/10"),
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        ])
        .await;
        assert_eq!(get(&base, 2, 4, 10).await.unwrap(), b"cdef");
        assert!(matches!(
            get(&base, 2, 4, 10).await,
            Err(WebSeedError::ContentRange(_))
        ));
        assert!(matches!(
            get(&base, 2, 4, 10).await,
            Err(WebSeedError::IgnoredRange)
        ));
        assert_eq!(
            get(&base, 0, 4, 4).await.unwrap(),
            b"0123",
            "whole file: 200 is fine"
        );
        assert!(matches!(
            get(&base, 2, 4, 10).await,
            Err(WebSeedError::Length {
                expected: 4,
                got: 5
            })
        ));
        assert_eq!(get(&base, 2, 4, 10).await, Err(WebSeedError::Status(404)));
        let seen = srv.await.unwrap();
        assert!(seen.iter().all(|l| l == "GET /f HTTP/1.1"), "{seen:?}");
    }
}
