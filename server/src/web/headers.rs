//! Headers on every response: the security headers, and `Connection: close` on a 413.
//!
//! The Content-Security-Policy allows only this origin: scripts, styles, the WASM bundle
//! and `fetch`/`EventSource` come from here and nowhere else, no plugin runs, no other site
//! may frame the dashboard, and forms post only here. Inline scripts and styles stay allowed
//! (`'unsafe-inline'`): Leptos writes the hydration bootstrap and the server-rendered data
//! inline, and the early theme script avoids a flash; `'wasm-unsafe-eval'` lets the bundle
//! compile.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

pub const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; \
style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers unless a handler set its own.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    for (name, value) in set {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}

/// A 413 refuses a body it has not read (often on its declared length alone), and the
/// connection then closes: say so, whichever surface answered (REST, qBittorrent,
/// Transmission), or a client reuses the connection for its next request, which meets the
/// close ("connection closed before message completed").
pub async fn close_after_refused_body(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}
