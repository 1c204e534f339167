//! The dashboard's cookies: `te_session` (the JWT, HttpOnly) and `te_csrf` (readable by the
//! page, echoed in `X-CSRF-Token`). Both `SameSite=Strict`, `Path=/`.

use axum::http::{header, HeaderMap, HeaderValue};

pub const SESSION: &str = "te_session";
pub const CSRF: &str = "te_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The value of cookie `name`, if the request has it.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_owned())
}

/// `Set-Cookie` values that log the browser in for `max_age` seconds (0 logs out).
pub fn login(token: &str, csrf: &str, max_age: u64, secure: bool) -> [HeaderValue; 2] {
    let secure = if secure { "; Secure" } else { "" };
    let session =
        format!("{SESSION}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    let csrf = format!("{CSRF}={csrf}; SameSite=Strict; Path=/; Max-Age={max_age}{secure}");
    [session, csrf].map(|c| HeaderValue::from_str(&c).unwrap_or(HeaderValue::from_static("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cookie_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; te_session=tok; te_csrf=c"),
        );
        assert_eq!(get(&h, SESSION).as_deref(), Some("tok"));
        assert_eq!(get(&h, CSRF).as_deref(), Some("c"));
        assert_eq!(get(&h, "nope"), None);
        let [s, c] = login("tok", "c", 60, true);
        let s = s.to_str().unwrap();
        assert!(s.contains("HttpOnly") && s.contains("Secure") && s.contains("Max-Age=60"));
        assert!(!c.to_str().unwrap().contains("HttpOnly"));
    }
}
