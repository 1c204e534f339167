//! Serves the site files embedded at build time (see `build.rs`).

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The embedded file at `path`, if there is one.
pub fn lookup(path: &str) -> Option<&'static [u8]> {
    ASSETS
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

/// A response for an embedded file: content type by extension; the WASM bundle and
/// styles are revalidated each load (no hashed names yet), images may be cached.
pub fn respond(path: &str, bytes: &'static [u8]) -> Response {
    let mut res = Response::new(Body::from(bytes));
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    let cache = if path.ends_with(".svg") || path.ends_with(".png") || path.ends_with(".ico") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// 404 for a path that is neither a route nor an embedded file.
pub fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stylesheet_and_icon_are_embedded() {
        assert!(lookup("/style.css").is_some_and(|b| !b.is_empty()));
        assert!(lookup("/favicon.svg").is_some());
        assert!(lookup("/nope.css").is_none());
        assert_eq!(content_type("/pkg/torrentedge_bg.wasm"), "application/wasm");
    }
}
