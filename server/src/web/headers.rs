//! Security headers on every response.
//!
//! The Content-Security-Policy allows only this origin: scripts, styles, the WASM bundle
//! and `fetch`/`EventSource` come from here and nowhere else, no plugin runs, no other site
//! may frame the dashboard, and forms post only here. Inline scripts and styles stay allowed
//! (`'unsafe-inline'`): Leptos writes the hydration bootstrap and the server-rendered data
//! inline, and the early theme script avoids a flash; `'wasm-unsafe-eval'` lets the bundle
//! compile.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
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
