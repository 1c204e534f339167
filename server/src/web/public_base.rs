//! Where this server is reached from outside, for URLs put in torrents it creates (the
//! built-in tracker's announce URL, its web seed): `PUBLIC_URL`, else `http://` and the
//! request's `Host` (behind a TLS proxy, set `PUBLIC_URL`).

use axum::http::{header, HeaderMap};

use crate::config::Config;

/// Scheme and authority without a trailing `/`; `None` without `PUBLIC_URL` or a usable
/// `Host`.
pub fn public_base(config: &Config, headers: &HeaderMap) -> Option<String> {
    if let Some(u) = &config.public_url {
        return Some(u.clone());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_graphic() && b != b'/');
    plain.then(|| format!("http://{host}"))
}
