//! The dashboard's one way to the data: the REST API under `/api`.
//!
//! In the browser a call is a `fetch` with the session cookie (and the CSRF header on writes).
//! During server rendering the same call goes to the server's own router in-process, carrying
//! the page request's cookies, so server-rendered pages show what the API would return and
//! there is no second data path to keep in step.

use std::fmt;
use std::future::Future;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// A failed API call: the HTTP status and the API's `{"error", "message"}` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiFailure {
    /// 0 when the request did not reach the server.
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl ApiFailure {
    fn network(message: impl fmt::Display) -> ApiFailure {
        ApiFailure {
            status: 0,
            error: "network".into(),
            message: format!("cannot reach the server: {message}"),
        }
    }

    /// The token is missing, expired or revoked: the person must log in.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiFailure {}

pub type ApiResult<T> = Result<T, ApiFailure>;

/// Turns a response into `T` (an empty body reads as JSON `null`, so `()` fits 204s).
#[cfg_attr(not(any(feature = "ssr", feature = "hydrate")), allow(dead_code))]
fn decode<T: DeserializeOwned>(status: u16, body: &str) -> ApiResult<T> {
    if (200..300).contains(&status) {
        let body = if body.trim().is_empty() { "null" } else { body };
        return serde_json::from_str(body).map_err(|e| ApiFailure {
            status,
            error: "bad_response".into(),
            message: format!("unexpected answer from the server: {e}"),
        });
    }
    #[derive(Deserialize)]
    struct Body {
        error: String,
        message: String,
    }
    Err(match serde_json::from_str::<Body>(body) {
        Ok(b) => ApiFailure {
            status,
            error: b.error,
            message: b.message,
        },
        Err(_) => ApiFailure {
            status,
            error: "http".into(),
            message: format!("the server answered {status}"),
        },
    })
}

/// `GET path`: works in both the browser and server rendering.
pub fn get<T>(path: String) -> impl Future<Output = ApiResult<T>> + Send + 'static
where
    T: DeserializeOwned + Send + 'static,
{
    #[cfg(feature = "ssr")]
    {
        let api = leptos::prelude::use_context::<ssr::SsrApi>();
        let cookie = ssr::request_cookie();
        async move {
            let api = api.ok_or_else(|| ApiFailure::network("no in-process API"))?;
            let (status, body) = (api.0)(path, cookie).await;
            decode(status, &body)
        }
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        send_wrapper::SendWrapper::new(browser::send(
            gloo_net::http::Method::GET,
            path,
            browser::Body::None,
        ))
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        async move {
            let _ = path;
            Err::<T, _>(ApiFailure::network("built without ssr or hydrate"))
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The server's side of [`super::get`].
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    /// Answers `GET path` with the given `Cookie` header: `(status, body)`. The server puts
    /// one in the rendering context.
    pub type Fetch = dyn Fn(String, Option<String>) -> Pin<Box<dyn Future<Output = (u16, String)> + Send>>
        + Send
        + Sync;

    #[derive(Clone)]
    pub struct SsrApi(pub Arc<Fetch>);

    /// The `Cookie` header of the page request being rendered.
    pub fn request_cookie() -> Option<String> {
        leptos::prelude::use_context::<http::request::Parts>()?
            .headers
            .get(http::header::COOKIE)?
            .to_str()
            .ok()
            .map(str::to_owned)
    }
}

#[cfg(feature = "hydrate")]
pub mod browser {
    //! Writes: only the browser sends them.
    use super::{decode, ApiFailure, ApiResult};
    use gloo_net::http::{Method, RequestBuilder};
    use serde::{de::DeserializeOwned, Serialize};
    use wasm_bindgen::JsCast;

    pub enum Body {
        None,
        Json(String),
        Form(web_sys::FormData),
    }

    /// The `te_csrf` cookie, which cookie-authenticated writes echo in `X-CSRF-Token`.
    pub fn csrf_token() -> Option<String> {
        let doc = web_sys::window()?.document()?;
        let cookies = doc
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()?
            .cookie()
            .ok()?;
        cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == "te_csrf")
            .map(|(_, v)| v.to_owned())
    }

    pub async fn send<T: DeserializeOwned>(
        method: Method,
        path: String,
        body: Body,
    ) -> ApiResult<T> {
        let mut req = RequestBuilder::new(&path).method(method.clone());
        if method != Method::GET {
            if let Some(token) = csrf_token() {
                req = req.header("X-CSRF-Token", &token);
            }
        }
        let req = match body {
            Body::None => req.build(),
            Body::Json(json) => req.header("Content-Type", "application/json").body(json),
            Body::Form(form) => req.body(form),
        }
        .map_err(ApiFailure::network)?;
        let res = req.send().await.map_err(ApiFailure::network)?;
        let status = res.status();
        let text = res.text().await.map_err(ApiFailure::network)?;
        decode(status, &text)
    }

    pub async fn json<B: Serialize, T: DeserializeOwned>(
        method: Method,
        path: String,
        body: &B,
    ) -> ApiResult<T> {
        let json = serde_json::to_string(body).map_err(ApiFailure::network)?;
        send(method, path, Body::Json(json)).await
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(path: String, body: &B) -> ApiResult<T> {
        json(Method::POST, path, body).await
    }

    pub async fn put<B: Serialize, T: DeserializeOwned>(path: String, body: &B) -> ApiResult<T> {
        json(Method::PUT, path, body).await
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(path: String, body: &B) -> ApiResult<T> {
        json(Method::PATCH, path, body).await
    }

    pub async fn delete(path: String) -> ApiResult<()> {
        send(Method::DELETE, path, Body::None).await
    }

    pub async fn post_form<T: DeserializeOwned>(
        path: String,
        form: web_sys::FormData,
    ) -> ApiResult<T> {
        send(Method::POST, path, Body::Form(form)).await
    }

    /// Posts a form whose answer is a file: the file and the response's headers.
    pub async fn post_form_file(
        path: String,
        form: web_sys::FormData,
    ) -> ApiResult<(web_sys::Blob, gloo_net::http::Headers)> {
        let mut req = RequestBuilder::new(&path).method(Method::POST);
        if let Some(token) = csrf_token() {
            req = req.header("X-CSRF-Token", &token);
        }
        let res = req
            .body(form)
            .map_err(ApiFailure::network)?
            .send()
            .await
            .map_err(ApiFailure::network)?;
        if !res.ok() {
            let status = res.status();
            let text = res.text().await.map_err(ApiFailure::network)?;
            return decode::<()>(status, &text)
                .and_then(|()| Err(ApiFailure::network(format!("status {status}"))));
        }
        let headers = res.headers();
        let raw: web_sys::Response = res.into();
        let promise = raw
            .blob()
            .map_err(|e| ApiFailure::network(format!("{e:?}")))?;
        let blob = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|e| ApiFailure::network(format!("{e:?}")))?;
        Ok((blob.unchecked_into(), headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_success_errors_and_empty_bodies() {
        assert_eq!(decode::<u32>(200, "7"), Ok(7));
        assert_eq!(decode::<()>(204, ""), Ok(()));
        let e = decode::<u32>(404, r#"{"error":"not_found","message":"no such torrent"}"#);
        assert_eq!(e.unwrap_err().message, "no such torrent");
        let e = decode::<u32>(502, "<html>bad gateway</html>").unwrap_err();
        assert_eq!((e.status, e.error.as_str()), (502, "http"));
        assert!(decode::<u32>(200, "{").is_err());
    }
}
