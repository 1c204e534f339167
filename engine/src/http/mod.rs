//! Outgoing HTTP(S) that a torrent chooses (tracker announces, web seeds): one client shape
//! and one redirect walk, each hop checked against the SSRF rule (`ssrf.rs`).

pub mod ssrf;
#[cfg(test)]
pub(crate) mod test_server;

use std::time::Duration;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    #[error("http error: {0}")]
    Http(String),
    #[error("timed out")]
    Timeout,
    #[error("unsupported scheme: {0}")]
    UnsupportedScheme(String),
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    #[error("could not resolve host: {0}")]
    Resolve(String),
    /// Not contacted: the SSRF rule forbids it.
    #[error("refused: {0}")]
    Refused(String),
}

/// System proxies are deliberately not used: requests go straight to the server. Redirects
/// are followed by [`get`] itself, which checks each target.
pub(crate) fn client(
    timeout: Option<Duration>,
    connect_timeout: Duration,
    user_agent: &str,
    keep_alive: bool,
) -> Result<reqwest::Client, HttpError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent.to_string())
        .no_proxy();
    if let Some(t) = timeout {
        b = b.timeout(t);
    }
    if !keep_alive {
        b = b.pool_max_idle_per_host(0);
    }
    b.build().map_err(|e| HttpError::Http(e.to_string()))
}

/// GETs `url` (with a `Range` header when given), following up to [`MAX_REDIRECTS`]
/// redirects to http(s) URLs, none into a local address unless `allow_local`.
/// `timeout` bounds each DNS lookup of the check.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: url::Url,
    range: Option<(u64, u64)>,
    allow_local: bool,
    timeout: Duration,
) -> Result<reqwest::Response, HttpError> {
    let mut url = url;
    let mut redirects = 0;
    loop {
        let mut req = client.get(url.clone());
        if let Some((first, last)) = range {
            req = req.header(reqwest::header::RANGE, format!("bytes={first}-{last}"));
        }
        let resp = req.send().await.map_err(map_err)?;
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .filter(|_| resp.status().is_redirection());
        let Some(location) = location else {
            return Ok(resp);
        };
        if redirects == MAX_REDIRECTS {
            return Err(HttpError::Http(format!(
                "more than {MAX_REDIRECTS} redirects"
            )));
        }
        redirects += 1;
        let next = location
            .to_str()
            .ok()
            .and_then(|l| url.join(l).ok())
            .ok_or_else(|| HttpError::InvalidUrl("unreadable redirect location".into()))?;
        if !matches!(next.scheme(), "http" | "https") {
            return Err(HttpError::UnsupportedScheme(next.scheme().to_string()));
        }
        if !allow_local {
            ssrf::check_redirect(&next, timeout).await?;
        }
        url = next;
    }
}

/// A reqwest error with its whole chain ("connection refused" rather than just "error
/// sending request").
pub(crate) fn map_err(e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        return HttpError::Timeout;
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    HttpError::Http(msg)
}
