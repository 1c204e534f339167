//! Log in and register without JavaScript: the dashboard's forms post here when the WASM
//! bundle has not taken over. Success sets the session cookies and redirects to the page the
//! person wanted; failure redirects back to the form with the reason.

use app::types::Credentials;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use crate::api::auth::{self, ClientIp, ViaHttps};
use crate::api::errors::ApiJson;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

/// `next` when it is a path on this site, else the overview (the dashboard's own rule).
fn local(next: Option<String>) -> String {
    app::pages::auth::next_path(next)
}

fn see_other(location: &str, mut headers: HeaderMap) -> Response {
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

/// Back to the form, with the reason in `?error=` (the page shows it).
fn back(form: &str, message: &str) -> Response {
    let encoded = app::format::url_encode(message);
    see_other(&format!("/{form}?error={encoded}"), HeaderMap::new())
}

async fn sign_in(
    state: AppState,
    ip: ClientIp,
    https: ViaHttps,
    creds: Credentials,
    next: Option<String>,
) -> Response {
    match auth::login(State(state), ip, https, ApiJson(creds)).await {
        Ok(res) => {
            let mut headers = HeaderMap::new();
            for c in res.headers().get_all(header::SET_COOKIE) {
                headers.append(header::SET_COOKIE, c.clone());
            }
            see_other(&local(next), headers)
        }
        Err(e) => back("login", &e.to_string()),
    }
}

pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    https: ViaHttps,
    Query(q): Query<Next>,
    Form(creds): Form<Credentials>,
) -> Response {
    sign_in(state, ip, https, creds, q.next).await
}

pub async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    https: ViaHttps,
    Query(q): Query<Next>,
    Form(creds): Form<Credentials>,
) -> Response {
    let again = creds.clone();
    let ClientIp(addr) = ip;
    match auth::register(State(state.clone()), ClientIp(addr), None, ApiJson(creds)).await {
        Ok(_) => sign_in(state, ClientIp(addr), https, again, q.next).await,
        Err(e) => back("register", &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::local;

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(local(Some("/torrents".into())), "/torrents");
        assert_eq!(local(Some("//evil.example/".into())), "/");
        assert_eq!(local(Some("/\\evil.example".into())), "/");
        assert_eq!(local(Some("https://evil.example".into())), "/");
        assert_eq!(local(None), "/");
        // `next=/%09/evil.example` arrives decoded: browsers drop the tab.
        assert_eq!(local(Some("/\t/evil.example".into())), "/");
    }
}
