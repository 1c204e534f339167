//! `/api/bans` (everyone reads; admins ban and unban) and a torrent's ended connections.

use std::net::IpAddr;

use app::types::{BanInfo, BanRequest, PeerEndInfo};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::errors::{ApiError, ApiJson};
use super::torrents::parse_info_hash;
use crate::auth::AuthUser;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, _user: AuthUser) -> Json<Vec<BanInfo>> {
    Json(state.library.bans())
}

fn admin(user: &AuthUser) -> Result<(), ApiError> {
    if user.is_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden("only admins ban and unban".into()))
    }
}

fn parse_ip(s: &str) -> Result<IpAddr, ApiError> {
    s.trim()
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{s:?} is not an IP address")))
}

/// `POST /api/bans` `{ip}`: 201 when banned now, 200 when it already was.
pub async fn ban(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<BanRequest>,
) -> Result<(StatusCode, Json<Vec<BanInfo>>), ApiError> {
    admin(&user)?;
    let ip = parse_ip(&body.ip)?;
    let status = if state.library.ban(ip) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(state.library.bans())))
}

/// `DELETE /api/bans/{ip}`.
pub async fn unban(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ip): Path<String>,
) -> Result<StatusCode, ApiError> {
    admin(&user)?;
    if state.library.unban(parse_ip(&ip)?) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound(format!("{ip} is not banned")))
    }
}

/// `GET /api/torrents/{infoHash}/peers/ended`.
pub async fn peer_ends(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
) -> Result<Json<Vec<PeerEndInfo>>, ApiError> {
    Ok(Json(
        state.library.peer_ends(&user, &parse_info_hash(&ih)?)?,
    ))
}

/// The OpenAPI paths and schemas of this module, merged into the document.
pub fn openapi() -> (Value, Value) {
    let s = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let ban = json!({ "type": "object", "required": ["ip", "kind", "reason", "since"], "properties": {
        "ip": s, "kind": { "enum": ["corrupt_data", "unrequested_data", "manual"] },
        "reason": s, "since": { "type": "integer", "description": "unix seconds" } } });
    let end = json!({ "type": "object", "required": ["addr", "kind", "reason", "at"], "properties": {
        "addr": s, "client": s, "downloaded": int, "uploaded": int,
        "kind": { "type": "string", "description": "closed_by_peer, banned, unrequested_data, …" },
        "reason": s, "at": { "type": "integer", "description": "unix seconds" } } });
    let e = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let list = |d: &str, item: &str| {
        json!({ "description": d, "content": { "application/json": { "schema": {
        "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } } } } })
    };
    let paths = json!({
        "/api/bans": {
            "get": { "summary": "Banned addresses (strikes from corrupt data, pushed data, or by hand)",
                "responses": { "200": list("bans", "Ban"), "401": e("not signed in") } },
            "post": { "summary": "Ban an address for the session (admins); its connections end within a second",
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "required": ["ip"], "properties": { "ip": s } } } } },
                "responses": { "201": list("banned now; every ban", "Ban"), "200": list("was banned already", "Ban"),
                    "400": e("not an IP address"), "401": e("not signed in"), "403": e("not an admin") } },
        },
        "/api/bans/{ip}": { "delete": { "summary": "Lift a ban (admins); its strikes are forgotten",
            "parameters": [{ "name": "ip", "in": "path", "required": true, "schema": s }],
            "responses": { "204": { "description": "unbanned" }, "400": e("not an IP address"),
                "401": e("not signed in"), "403": e("not an admin"), "404": e("not banned") } } },
        "/api/torrents/{infoHash}/peers/ended": { "get": { "summary": "How the torrent's latest connections ended, newest first",
            "parameters": [{ "$ref": "#/components/parameters/InfoHash" }],
            "responses": { "200": list("ended connections", "PeerEnd"), "400": e("malformed info-hash"),
                "401": e("not signed in"), "404": e("no such torrent, or not yours") } } },
    });
    (paths, json!({ "Ban": ban, "PeerEnd": end }))
}
