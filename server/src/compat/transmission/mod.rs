//! Transmission's RPC at `/transmission/rpc`: the legacy protocol
//! (`{"method": "torrent-get", "arguments", "tag"}` → `{"result", "arguments", "tag"}`) and
//! JSON-RPC 2.0 with snake_case names (Transmission 4.1). Methods work on legacy names
//! internally; JSON-RPC requests are translated in and their answers out.

pub mod auth;
mod fields;
mod methods;
mod names;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::api::auth::ClientIp;
use crate::state::AppState;

/// What this adapter reports as Transmission's RPC version (Transmission 4.0's).
pub const RPC_VERSION: i64 = 17;
pub const RPC_VERSION_MIN: i64 = 14;
pub const RPC_VERSION_SEMVER: &str = "5.3.0";

/// A method's failure: its text is the legacy `result`, or the JSON-RPC error's message.
#[derive(Debug)]
pub struct RpcError(pub String);

impl<T: std::fmt::Display> From<T> for RpcError {
    fn from(e: T) -> Self {
        RpcError(e.to_string())
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/transmission/rpc", post(rpc).get(rpc))
        .route("/transmission/rpc/", post(rpc).get(rpc))
}

/// Metainfo arrives base64-encoded inside JSON: a third larger, plus the envelope.
fn body_limit(max_torrent_size: usize) -> usize {
    max_torrent_size.saturating_mul(4) / 3 + (1 << 20)
}

/// Authorizes before reading the body: a caller without credentials (or over its declared
/// length) is answered without a byte of it read.
async fn rpc(State(state): State<AppState>, ClientIp(ip): ClientIp, req: Request) -> Response {
    let sid = state.compat.transmission.session_id().to_owned();
    let user = match auth::authorize(&state, ip, req.headers()).await {
        Ok(u) => u,
        Err(refusal) => return refusal.response(&sid),
    };
    let limit = body_limit(state.config.max_torrent_size);
    let body = match crate::api::check_content_length(&req, limit) {
        Ok(()) => axum::body::to_bytes(req.into_body(), limit).await.ok(),
        Err(_) => None,
    };
    let Some(body) = body else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let mut res = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(batch)) => {
            let mut out = Vec::new();
            for req in batch {
                if let Some(v) = one(&state, &user, req).await {
                    out.push(v);
                }
            }
            json_response(Value::Array(out))
        }
        Ok(req) => match one(&state, &user, req).await {
            Some(v) => json_response(v),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        Err(e) => {
            // Not JSON: JSON-RPC's parse error (a legacy client gets the same shape).
            json_response(json!({ "jsonrpc": "2.0", "id": null,
                "error": { "code": -32700, "message": "Parse error", "data": { "errorString": e.to_string() } } }))
        }
    };
    if let Ok(v) = HeaderValue::from_str(&sid) {
        res.headers_mut().insert(auth::SESSION_HEADER, v);
    }
    res
}

fn json_response(v: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        v.to_string(),
    )
        .into_response()
}

/// One request in either protocol; None for a JSON-RPC notification (no `id`).
async fn one(state: &AppState, user: &crate::auth::AuthUser, req: Value) -> Option<Value> {
    let Value::Object(req) = req else {
        return Some(json!({ "jsonrpc": "2.0", "id": null,
            "error": { "code": -32600, "message": "Invalid Request" } }));
    };
    let jsonrpc = req.get("jsonrpc").and_then(Value::as_str) == Some("2.0");
    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
    if !jsonrpc {
        let args = match req.get("arguments") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let mut out = match methods::call(state, user, method, args).await {
            Ok(args) => json!({ "result": "success", "arguments": args }),
            Err(RpcError(msg)) => json!({ "result": msg, "arguments": {} }),
        };
        if let Some(tag) = req.get("tag") {
            out["tag"] = tag.clone();
        }
        return Some(out);
    }
    let id = req.get("id").cloned();
    let legacy_method = method.replace('_', "-");
    let args = match req.get("params") {
        Some(Value::Object(m)) => names::from_snake(m),
        _ => Map::new(),
    };
    let result = if methods::known(&legacy_method) {
        methods::call(state, user, &legacy_method, args)
            .await
            .map(|r| names::to_snake(&Value::Object(r)))
            .map_err(|RpcError(m)| json!({ "code": 1, "message": m, "data": { "errorString": m } }))
    } else {
        Err(json!({ "code": -32601, "message": "Method not found" }))
    };
    let id = id?;
    Some(match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "result": r, "id": id }),
        Err(e) => json!({ "jsonrpc": "2.0", "error": e, "id": id }),
    })
}
