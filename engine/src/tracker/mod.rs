//! Tracker announces over HTTP(S) (BEP 3/23) and UDP (BEP 15), with BEP 12 tier failover.
//!
//! [`TrackerClient`] performs one announce to one URL; [`TrackerTiers`] walks a torrent's
//! announce list and keeps the per-tracker status the UI shows.

mod http;
mod response;
mod tiers;
mod udp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::http::ssrf::is_local;
pub use response::{parse_announce_response, MAX_INTERVAL, MAX_PEERS, MIN_INTERVAL};
pub use tiers::{TrackerTiers, MAX_TRACKERS};
pub use udp::{
    parse_announce_reply as parse_udp_announce_reply,
    parse_connect_reply as parse_udp_connect_reply,
};

use crate::types::{InfoHash, PeerId};

/// The `event` of an announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum AnnounceEvent {
    None,
    Started,
    Completed,
    Stopped,
}

impl AnnounceEvent {
    /// Value of the HTTP `event=` parameter; `None` omits it.
    fn http_value(self) -> Option<&'static str> {
        match self {
            AnnounceEvent::None => None,
            AnnounceEvent::Started => Some("started"),
            AnnounceEvent::Completed => Some("completed"),
            AnnounceEvent::Stopped => Some("stopped"),
        }
    }

    /// BEP 15 event code.
    fn udp_code(self) -> u32 {
        match self {
            AnnounceEvent::None => 0,
            AnnounceEvent::Completed => 1,
            AnnounceEvent::Started => 2,
            AnnounceEvent::Stopped => 3,
        }
    }
}

/// What we tell the tracker.
#[derive(Clone, Debug)]
pub struct AnnounceRequest {
    pub info_hash: InfoHash,
    pub peer_id: PeerId,
    pub port: u16,
    pub uploaded: u64,
    pub downloaded: u64,
    pub left: u64,
    pub event: AnnounceEvent,
    pub num_want: Option<u32>,
    /// Random per-session value that lets a tracker recognise us across IP changes.
    pub key: u32,
    /// Where we listen over IPv4 and IPv6 when known (BEP 7's `ipv4=`/`ipv6=`): a tracker
    /// reached over one family hands out our address in the other too.
    pub ipv4: Option<SocketAddr>,
    pub ipv6: Option<SocketAddr>,
}

/// What a tracker told us. `interval` is clamped to [`MIN_INTERVAL`, `MAX_INTERVAL`].
#[derive(Clone, Debug)]
pub struct AnnounceResponse {
    pub interval: Duration,
    pub min_interval: Option<Duration>,
    pub peers: Vec<SocketAddr>,
    pub seeders: Option<u32>,
    pub leechers: Option<u32>,
    pub warning: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// The tracker answered with a `failure reason` (HTTP) or an error action (UDP).
    #[error("tracker failure: {0}")]
    Failure(String),
    #[error("http error: {0}")]
    Http(String),
    #[error("tracker timed out")]
    Timeout,
    #[error("malformed tracker response: {0}")]
    Malformed(String),
    #[error("unsupported tracker scheme: {0}")]
    UnsupportedScheme(String),
    #[error("invalid tracker url: {0}")]
    InvalidUrl(String),
    #[error("could not resolve tracker host: {0}")]
    Resolve(String),
    #[error("no trackers")]
    NoTrackers,
    /// Not contacted: the SSRF rule ([`TrackerConfig::allow_local`]) forbids it.
    #[error("tracker refused: {0}")]
    Refused(String),
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::http::HttpError> for TrackerError {
    fn from(e: crate::http::HttpError) -> Self {
        use crate::http::HttpError as H;
        match e {
            H::Http(m) => TrackerError::Http(m),
            H::Timeout => TrackerError::Timeout,
            H::UnsupportedScheme(s) => TrackerError::UnsupportedScheme(s),
            H::InvalidUrl(m) => TrackerError::InvalidUrl(m),
            H::Resolve(m) => TrackerError::Resolve(m),
            H::Refused(m) => TrackerError::Refused(m),
        }
    }
}

/// The part of a response the UI and events show.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AnnounceSummary {
    pub peers: usize,
    pub seeders: Option<u32>,
    pub leechers: Option<u32>,
    pub interval_secs: u64,
}

impl From<&AnnounceResponse> for AnnounceSummary {
    fn from(r: &AnnounceResponse) -> Self {
        AnnounceSummary {
            peers: r.peers.len(),
            seeders: r.seeders,
            leechers: r.leechers,
            interval_secs: r.interval.as_secs(),
        }
    }
}

/// One tracker's line in a torrent's status.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrackerStatus {
    pub url: String,
    pub tier: usize,
    pub last_announce_unix: Option<u64>,
    pub last_result: Option<Result<AnnounceSummary, String>>,
    pub next_announce_secs: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct TrackerConfig {
    /// Bound on a whole HTTP announce (connect, redirects, body) and on DNS resolution.
    pub timeout: Duration,
    /// First UDP retransmission timeout; doubles on every retry (BEP 15 uses 15 s).
    pub udp_initial_timeout: Duration,
    /// UDP retransmissions before giving up.
    pub udp_max_retries: u32,
    pub user_agent: String,
    /// Contact trackers on loopback and private addresses whatever their path, and follow
    /// redirects into them (LAN trackers, tests). Off: libtorrent's SSRF rule (`ssrf.rs`).
    pub allow_local: bool,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            timeout: Duration::from_secs(15),
            udp_initial_timeout: Duration::from_secs(15),
            udp_max_retries: 4,
            user_agent: crate::config::USER_AGENT.to_string(),
            allow_local: false,
        }
    }
}

/// Announces to HTTP(S) and UDP trackers. Cheap to clone; clones share the HTTP connection
/// pool and the UDP connection-id cache.
#[derive(Clone)]
pub struct TrackerClient {
    inner: Arc<Inner>,
}

struct Inner {
    cfg: TrackerConfig,
    http: reqwest::Client,
    /// BEP 15 connection ids by tracker address, with when they were obtained.
    udp_conn_ids: Mutex<HashMap<SocketAddr, (u64, Instant)>>,
}

impl TrackerClient {
    pub fn new(cfg: TrackerConfig) -> Result<Self, TrackerError> {
        let http = http::build_client(&cfg)?;
        Ok(TrackerClient {
            inner: Arc::new(Inner {
                cfg,
                http,
                udp_conn_ids: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// One announce to `url` (`http://`, `https://` or `udp://`).
    pub async fn announce(
        &self,
        url: &str,
        req: &AnnounceRequest,
    ) -> Result<AnnounceResponse, TrackerError> {
        let parsed = url::Url::parse(url).map_err(|e| TrackerError::InvalidUrl(e.to_string()))?;
        let result = self.dispatch(url, &parsed, req).await;
        match &result {
            Ok(r) => tracing::debug!(url, peers = r.peers.len(), "announce ok"),
            Err(e) => tracing::debug!(url, error = %e, "announce failed"),
        }
        result
    }

    async fn dispatch(
        &self,
        url: &str,
        parsed: &url::Url,
        req: &AnnounceRequest,
    ) -> Result<AnnounceResponse, TrackerError> {
        let scheme = parsed.scheme();
        if !matches!(scheme, "http" | "https" | "udp") {
            return Err(TrackerError::UnsupportedScheme(scheme.to_string()));
        }
        if !self.inner.cfg.allow_local {
            crate::http::ssrf::check_tracker(parsed, self.inner.cfg.timeout).await?;
        }
        if scheme == "udp" {
            udp::announce(&self.inner, parsed, req).await
        } else {
            http::announce(&self.inner.http, &self.inner.cfg, url, req).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn request() -> AnnounceRequest {
        AnnounceRequest {
            info_hash: InfoHash([0xab; 20]),
            peer_id: PeerId(*b"-TE0100-abcdefghijkl"),
            port: 6881,
            uploaded: 1,
            downloaded: 2,
            left: 3,
            event: AnnounceEvent::Started,
            num_want: Some(50),
            key: 0x1234_abcd,
            ipv4: None,
            ipv6: None,
        }
    }

    #[tokio::test]
    async fn rejects_unknown_schemes_and_bad_urls() {
        let c = TrackerClient::new(TrackerConfig::default()).unwrap();
        assert!(matches!(
            c.announce("wss://tracker.invalid/announce", &request()).await,
            Err(TrackerError::UnsupportedScheme(s)) if s == "wss"
        ));
        assert!(matches!(
            c.announce("not a url", &request()).await,
            Err(TrackerError::InvalidUrl(_))
        ));
    }

    #[test]
    fn summary_from_response() {
        let r = AnnounceResponse {
            interval: Duration::from_secs(1800),
            min_interval: None,
            peers: vec!["127.0.0.1:1".parse().unwrap()],
            seeders: Some(2),
            leechers: None,
            warning: None,
        };
        let s = AnnounceSummary::from(&r);
        assert_eq!(
            s,
            AnnounceSummary {
                peers: 1,
                seeders: Some(2),
                leechers: None,
                interval_secs: 1800
            }
        );
    }
}
