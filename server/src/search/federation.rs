//! The federated servers this one asks (`FEDERATION_PEERS=url|token,...`), and asking them:
//! in parallel, each under `FEDERATION_TIMEOUT_MS` for the whole exchange (connect, headers,
//! body), the body read up to [`wire::MAX_BODY`] and parsed by [`wire::parse`]. A server
//! that is slow, down, refuses the token or answers nonsense is reported as such; it never
//! delays the others or fails the search.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use app::types::SourceState;

use super::wire::{self, CatalogPage};

/// One federated server.
#[derive(Clone, PartialEq, Eq)]
pub struct Peer {
    /// Base URL without a trailing `/` (`http://host:port`).
    pub url: String,
    /// What it expects in `Authorization: Bearer` (its own `FEDERATION_TOKEN`).
    pub token: String,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token in logs.
        f.debug_struct("Peer").field("url", &self.url).finish()
    }
}

/// Federation settings (see `config.rs`).
#[derive(Clone, Debug)]
pub struct Settings {
    pub peers: Vec<Peer>,
    /// The token other servers must present to read this server's catalog; `None`: the
    /// catalog endpoint is off.
    pub token: Option<String>,
    pub timeout: Duration,
    /// Catalog requests per client address per minute (0 = no limit).
    pub rate_limit: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            peers: Vec::new(),
            token: None,
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            rate_limit: DEFAULT_RATE_LIMIT,
        }
    }
}

pub const DEFAULT_TIMEOUT_MS: u64 = 3000;
pub const DEFAULT_RATE_LIMIT: u32 = 60;
/// Federated servers at most.
pub const MAX_PEERS: usize = 64;

/// Parses `url|token,url|token` (spaces around entries ignored, empty entries skipped).
pub fn parse_peers(s: &str) -> Result<Vec<Peer>, String> {
    let mut out = Vec::new();
    for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (url, token) = entry
            .split_once('|')
            .ok_or_else(|| format!("{:?} is not url|token", redact(entry)))?;
        let url = url.trim().trim_end_matches('/');
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(format!("{url:?} is not an http:// or https:// URL"));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(format!("{url:?} has an empty token"));
        }
        out.push(Peer {
            url: url.to_owned(),
            token: token.to_owned(),
        });
    }
    if out.len() > MAX_PEERS {
        return Err(format!("{} servers (at most {MAX_PEERS})", out.len()));
    }
    Ok(out)
}

fn redact(entry: &str) -> String {
    entry.chars().take(40).collect::<String>() + if entry.len() > 40 { "…" } else { "" }
}

/// What one server answered.
pub struct Outcome {
    pub peer: Peer,
    pub state: SourceState,
    pub message: Option<String>,
    pub page: Option<CatalogPage>,
    /// The server's BitTorrent address: its URL's host and the peer port it gave.
    pub peer_addr: Option<SocketAddr>,
    pub elapsed: Duration,
}

/// The HTTP client for federation: no proxy, no redirects (a peer's URL is configured, not
/// followed), connect bounded by the timeout.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .user_agent(concat!(
            "TorrentEdge/",
            env!("CARGO_PKG_VERSION"),
            " federation"
        ))
        .build()
}

/// Asks one peer for `q`'s matches, under `timeout` for the whole exchange.
pub async fn ask(client: &reqwest::Client, peer: &Peer, q: &str, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, fetch(client, peer, q)).await;
    let mut out = Outcome {
        peer: peer.clone(),
        state: SourceState::Ok,
        message: None,
        page: None,
        peer_addr: None,
        elapsed: started.elapsed(),
    };
    match result {
        Err(_) => {
            out.state = SourceState::Timeout;
            out.message = Some(format!("no answer within {} ms", timeout.as_millis()));
        }
        Ok(Err(e)) => {
            tracing::info!(peer = %peer.url, "federated search failed: {e}");
            out.state = SourceState::Error;
            out.message = Some(e);
        }
        Ok(Ok((page, addr))) => {
            out.peer_addr = addr;
            out.page = Some(page);
        }
    }
    out
}

/// One catalog request: the page and the server's peer address.
async fn fetch(
    client: &reqwest::Client,
    peer: &Peer,
    q: &str,
) -> Result<(CatalogPage, Option<SocketAddr>), String> {
    let url = format!("{}/federation/catalog", peer.url);
    let per_page = wire::MAX_ITEMS.to_string();
    let res = client
        .get(&url)
        .query(&[("q", q), ("page", "1"), ("per_page", per_page.as_str())])
        .bearer_auth(&peer.token)
        .send()
        .await
        .map_err(|e| format!("cannot reach it: {}", describe(&e)))?;
    let status = res.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err("it refused our token (401)".into());
    }
    if !status.is_success() {
        return Err(format!("it answered {status}"));
    }
    let body = read_bounded(res, wire::MAX_BODY).await?;
    let page = wire::parse(&body).map_err(|e| e.to_string())?;
    let addr = peer_addr(&peer.url, page.server.peer_port).await;
    Ok((page, addr))
}

/// The error with its causes ("connection refused" is in a source, not in the message).
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Reads a body of at most `max` bytes (a longer one is an error, read no further).
async fn read_bounded(mut res: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if res.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("answer over {max} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("answer broke off: {e}"))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("answer over {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The peer address of the server at `url`: its host (resolved) and `port`.
async fn peer_addr(url: &str, port: u16) -> Option<SocketAddr> {
    if port == 0 {
        return None;
    }
    let host = url::Url::parse(url).ok()?.host_str()?.to_owned();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Some(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((host.as_str(), port)).await.ok()?;
    addrs.next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_or_are_refused() {
        let p = parse_peers(" http://a:1/|t1 , https://b.example|t2,, ").unwrap();
        assert_eq!(
            p,
            [
                Peer {
                    url: "http://a:1".into(),
                    token: "t1".into()
                },
                Peer {
                    url: "https://b.example".into(),
                    token: "t2".into()
                }
            ]
        );
        assert!(parse_peers("").unwrap().is_empty());
        assert!(parse_peers("http://a").is_err(), "no token");
        assert!(parse_peers("http://a|").is_err(), "empty token");
        assert!(parse_peers("ftp://a|t").is_err());
        assert!(parse_peers("not a url|t").is_err());
        assert!(!format!("{:?}", p[0]).contains("t1"), "no token in Debug");
    }
}
