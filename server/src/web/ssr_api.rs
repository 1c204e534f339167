//! The in-process API the dashboard reads while rendering on the server: the page's
//! `GET /api/...` calls go straight to the API router with the page request's cookies, so a
//! server-rendered page shows exactly what the browser would fetch.

use std::sync::Arc;

use app::client::ssr::SsrApi;
use axum::body::Body;
use axum::http::{header, Request};
use axum::Router;
use tower::ServiceExt;

/// Largest API answer a page render reads (the list of 500 torrents is ~400 KB).
const MAX_BODY: usize = 16 << 20;

pub fn ssr_api(api: Router) -> SsrApi {
    SsrApi(Arc::new(move |path: String, cookie: Option<String>| {
        let api = api.clone();
        // Its own task: the API's futures do not stack on top of the page render's.
        let call = tokio::spawn(async move {
            let mut req = Request::get(path);
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            let Ok(req) = req.body(Body::empty()) else {
                return (400, String::new());
            };
            let Ok(res) = api.oneshot(req).await;
            let status = res.status().as_u16();
            match axum::body::to_bytes(res.into_body(), MAX_BODY).await {
                Ok(bytes) => (status, String::from_utf8_lossy(&bytes).into_owned()),
                Err(e) => (502, format!(r#"{{"error":"internal","message":"{e}"}}"#)),
            }
        });
        Box::pin(async move {
            call.await
                .unwrap_or_else(|e| (500, format!(r#"{{"error":"internal","message":"{e}"}}"#)))
        })
    }))
}
