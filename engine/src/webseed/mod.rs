//! Web seeds (BEP 19, `url-list` / magnet `ws=`): HTTP(S) servers holding a torrent's files.
//!
//! This module is the HTTP side: which URL serves which file (`url.rs`) and one checked
//! `Range` request (`fetch.rs`). The torrent drives them as pseudo-peers that have every
//! piece (`torrent/web_seeds.rs`).

pub(crate) mod fetch;
mod url;

pub use fetch::parse_content_range;
pub use url::file_url;

use crate::http::HttpError;

/// What a web seed is doing, as the dashboard shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WebSeedState {
    /// Nothing to fetch from it right now (seeding, paused, every wanted block requested).
    Idle,
    /// Requests in flight.
    Active,
    /// Failed lately; tried again after `retry_in_secs`.
    BackingOff,
    /// Given up on for this session (see `last_error`).
    Dropped,
}

/// One web seed's line in a torrent's status (shown like a tracker's).
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSeedStatus {
    pub url: String,
    pub state: WebSeedState,
    /// Payload bytes received from it.
    pub downloaded: u64,
    pub download_rate: u64,
    /// Range requests in flight.
    pub requests: usize,
    /// Failures in a row (reset by a good answer).
    pub failures: u32,
    pub last_error: Option<String>,
    pub retry_in_secs: Option<u64>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum WebSeedError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error("bad web seed url: {0}")]
    Url(String),
    #[error("status {0}")]
    Status(u16),
    /// 200 for part of a file: the server does not do ranges.
    #[error("server ignored the Range header")]
    IgnoredRange,
    #[error("wrong Content-Range: {0}")]
    ContentRange(String),
    #[error("answer of {got} bytes where {expected} were asked for")]
    Length { expected: u64, got: u64 },
    #[error("nothing received for {0} s")]
    Stalled(u64),
    /// Its data failed a piece's hash check.
    #[error("served data that failed the hash check")]
    Corrupt,
}
