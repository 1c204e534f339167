//! Search across servers over HTTP: `GET /api/search` and `POST /api/search/add` for
//! signed-in users, and `GET /federation/catalog`, the read-only public catalog that
//! federated servers read with this server's `FEDERATION_TOKEN`.

use std::convert::Infallible;
use std::net::SocketAddr;

use app::types::{SearchAdd, SearchResponse, TorrentSummary};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use engine::InfoHash;
use futures_util::Stream;
use serde::Deserialize;

use super::auth::ClientIp;
use super::errors::{ApiError, ApiJson, ApiQuery};
use crate::auth::AuthUser;
use crate::search::catalog::{self, Paging};
use crate::search::query::{Query, MAX_QUERY};
use crate::search::wire::{CatalogPage, CatalogServer};
use crate::state::AppState;
use crate::torrents::categories::AddSource;

/// Peers and web seeds one add may name.
const MAX_SOURCES: usize = 64;

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `GET /api/search?q=`: this server's public catalog and every federated server's, each
/// under the federation timeout, merged and ranked.
pub async fn search(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiQuery(p): ApiQuery<SearchQuery>,
) -> Result<Json<SearchResponse>, ApiError> {
    let q = words(&p.q)?;
    Ok(Json(state.search.run(&state.library, q, &p.q).await))
}

/// `GET /api/search/stream?q=`: the same search as server-sent events, one snapshot (the
/// merged results so far, every source's state) at once and one more as each source
/// answers; the stream ends after the snapshot whose `pending` is 0.
pub async fn stream(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiQuery(p): ApiQuery<SearchQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let q = words(&p.q)?;
    let progress = state.search.start(&state.library, q, &p.q);
    let events = futures_util::stream::unfold((progress, true), |(mut p, first)| async move {
        if !first && !p.next().await {
            return None;
        }
        let event = Event::default()
            .json_data(p.snapshot())
            .unwrap_or_else(|_| Event::default().comment("unserialisable snapshot"));
        Some((Ok(event), (p, false)))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The query's words, or why there are none to search for.
fn words(raw: &str) -> Result<Query, ApiError> {
    if raw.len() > MAX_QUERY * 4 {
        return Err(ApiError::BadRequest("the query is too long".into()));
    }
    Query::parse(raw).ok_or_else(|| ApiError::BadRequest("search for at least one word".into()))
}

/// `POST /api/search/add`: the result as a magnet with every holder as a peer (`x.pe`), web
/// seed (`ws`) and tracker (`tr`, from Nostr entries), so it downloads from all at once.
pub async fn add(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<SearchAdd>,
) -> Result<(StatusCode, Json<TorrentSummary>), ApiError> {
    let ih = super::torrents::parse_info_hash(&body.info_hash)?;
    if body.peers.len() > MAX_SOURCES
        || body.web_seeds.len() > MAX_SOURCES
        || body.trackers.len() > MAX_SOURCES
    {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_SOURCES} peers, {MAX_SOURCES} web seeds and {MAX_SOURCES} trackers"
        )));
    }
    if let Some(bad) = body.trackers.iter().find(|t| !tracker_url(t)) {
        return Err(ApiError::BadRequest(format!(
            "tracker {bad:?} is not an http(s) or udp URL"
        )));
    }
    let peers = body
        .peers
        .iter()
        .map(|p| {
            p.parse::<SocketAddr>()
                .map_err(|_| ApiError::BadRequest(format!("peer {p:?} is not IP:PORT")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(bad) = body.web_seeds.iter().find(|w| !web_url(w)) {
        return Err(ApiError::BadRequest(format!(
            "web seed {bad:?} is not an http(s) URL"
        )));
    }
    let name = body.name.as_deref().filter(|n| n.len() <= 1024);
    let uri = crate::search::magnet_uri(&ih, name, &peers, &body.web_seeds, &body.trackers);
    let summary = state
        .library
        .add_labelled(&user, AddSource::Magnet(&uri), &body.options)
        .await?;
    Ok((StatusCode::CREATED, Json(summary)))
}

fn web_url(u: &str) -> bool {
    u.len() <= 2048 && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https"))
}

fn tracker_url(u: &str) -> bool {
    u.len() <= 2048
        && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https" | "udp"))
}

#[derive(Deserialize)]
pub struct CatalogQuery {
    #[serde(default)]
    q: String,
    page: Option<u32>,
    per_page: Option<u32>,
}

/// `GET /federation/catalog?q=&page=&per_page=`: this server's public torrents (only those),
/// for servers presenting `FEDERATION_TOKEN`; rate-limited per client address.
pub async fn catalog(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<CatalogQuery>,
) -> Result<Json<CatalogPage>, ApiError> {
    state
        .search
        .limiter
        .attempt(ip)
        .map_err(ApiError::TooManyRequests)?;
    let Some(token) = &state.search.settings.token else {
        return Err(ApiError::NotFound(
            "this server shares no catalog (FEDERATION_TOKEN is not set)".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !given.is_some_and(|g| crate::auth::constant_time_eq(g.as_bytes(), token.as_bytes())) {
        return Err(ApiError::Unauthorized(
            "a federation token is needed (Authorization: Bearer)".into(),
        ));
    }
    if p.q.len() > MAX_QUERY * 4 {
        return Err(ApiError::BadRequest("the query is too long".into()));
    }
    let query = Query::parse(&p.q);
    let matching = catalog::matching(state.library.public_torrents(), query.as_ref());
    let base = crate::web::public_base(&state.config, &headers);
    let keys = &state.keys;
    let web_seed = |ih: &InfoHash| base.as_ref().map(|b| crate::webseed::url(b, keys, ih));
    let server = CatalogServer {
        peer_port: state.library.session().local_addr().port(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    Ok(Json(catalog::page(
        &matching,
        Paging::new(p.page, p.per_page),
        server,
        web_seed,
    )))
}

/// The OpenAPI paths and schemas of search (merged by `openapi.rs`).
pub fn openapi() -> (serde_json::Value, serde_json::Value) {
    use serde_json::json;
    let s = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let b = json!({ "type": "boolean" });
    let schema = |n: &str| json!({ "$ref": format!("#/components/schemas/{n}") });
    let body = |v: serde_json::Value| json!({ "content": { "application/json": { "schema": v } } });
    let error = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": schema("Error") } } });
    let q = |d: &str| json!({ "name": "q", "in": "query", "description": d, "schema": s });
    let paths = json!({
        "/api/search": { "get": {
    "summary": "Search this server's public catalog, every federated server's (FEDERATION_PEERS) and every Nostr relay's NIP-35 torrents (NOSTR_RELAYS) by name: words in any order, case- and accent-insensitive; each source under FEDERATION_TIMEOUT_MS, results merged by info-hash with their holders",
            "parameters": [q("the words")],
            "responses": {
                "200": { "description": "merged results and how each server answered", "content": { "application/json": { "schema": schema("SearchResponse") } } },
                "400": error("no word to search for, or a query over 2 KiB"),
                "401": error("missing, expired, forged or revoked token") } } },
        "/api/search/stream": { "get": {
            "summary": "The same search, live: server-sent events, each a SearchResponse snapshot (results merged so far, sources not answered yet in state pending, `pending` their count); the first at once, one more per source that answers or times out; the stream ends after the snapshot with pending 0",
            "parameters": [q("the words")],
            "responses": {
                "200": { "description": "text/event-stream of SearchResponse snapshots" },
                "400": error("no word to search for, or a query over 2 KiB"),
                "401": error("missing, expired, forged or revoked token") } } },
        "/api/search/add": { "post": {
            "summary": "Add a search result: a magnet with every holder as a peer (x.pe) and web seed (ws), so it downloads from all at once",
            "requestBody": body(schema("SearchAdd")),
            "responses": {
                "201": { "description": "added", "content": { "application/json": { "schema": schema("TorrentSummary") } } },
                "400": error("malformed info-hash, peer, web seed or tracker, or more than 64 of them"),
                "401": error("missing, expired, forged or revoked token"),
                "403": error("cookie authentication without the CSRF header, or over quota"),
                "409": error("already on this server") } } },
        "/federation/catalog": { "get": {
            "summary": "This server's public catalog, for federated servers: read-only, only torrents marked public, paginated, rate-limited per address (FEDERATION_RATE_LIMIT)",
            "security": [{ "federation": [] }],
            "parameters": [q("words to match (empty: every public torrent, newest first)"),
                { "name": "page", "in": "query", "description": "from 1", "schema": int },
                { "name": "per_page", "in": "query", "description": "default 50, at most 200", "schema": int }],
            "responses": {
                "200": { "description": "a page", "content": { "application/json": { "schema": schema("CatalogPage") } } },
                "401": error("missing or wrong FEDERATION_TOKEN (Authorization: Bearer)"),
                "404": error("FEDERATION_TOKEN is not set: no catalog"),
                "429": error("too many requests from this address (Retry-After)") } } },
    });
    let obj = |props: serde_json::Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    let file = obj(json!({ "path": s, "length": int }), &["path", "length"]);
    let schemas = json!({
        "SearchResponse": obj(json!({ "query": s,
            "results": { "type": "array", "items": schema("SearchResult") },
            "servers": { "type": "array", "items": schema("SourceStatus") },
            "pending": { "type": "integer", "description": "sources not answered yet (0 in /api/search)" } }), &["query", "results", "servers"]),
        "SearchResult": obj(json!({ "infoHash": s, "name": s, "totalBytes": int, "fileCount": int,
            "files": { "type": "array", "items": file }, "seeders": int, "score": int,
            "holders": { "type": "array", "items": schema("Holder") } }),
            &["infoHash", "name", "totalBytes", "fileCount", "files", "seeders", "score", "holders"]),
        "Holder": obj(json!({ "server": s, "local": b, "complete": b,
            "peer": { "type": "string", "description": "IP:PORT" },
            "webSeed": { "type": "string", "description": "BEP 19 URL" },
            "trackers": { "type": "array", "items": s, "description": "tracker URLs (Nostr entries)" } }), &["server", "local", "complete"]),
        "SourceStatus": obj(json!({ "server": s, "local": b, "status": { "enum": ["ok", "pending", "timeout", "error"] },
            "message": s, "results": int, "elapsedMs": int }), &["server", "local", "status", "results", "elapsedMs"]),
        "SearchAdd": obj(json!({ "infoHash": s, "name": s,
            "peers": { "type": "array", "items": s, "description": "IP:PORT of holders" },
            "webSeeds": { "type": "array", "items": s },
            "trackers": { "type": "array", "items": s, "description": "tracker URLs (tr)" },
            "savePath": s, "category": s, "paused": b }), &["infoHash"]),
        "CatalogPage": obj(json!({
            "server": obj(json!({ "peerPort": int, "version": s }), &["peerPort"]),
            "total": int, "page": int, "perPage": int,
            "items": { "type": "array", "items": obj(json!({ "infoHash": s, "name": s, "totalBytes": int,
                "fileCount": int, "files": { "type": "array", "items": file }, "seeders": int, "complete": b,
                "webSeed": s, "magnet": s, "trackers": { "type": "array", "items": s } }), &["infoHash", "name", "totalBytes", "fileCount"]) } }),
            &["server", "total", "page", "perPage", "items"]),
    });
    (paths, schemas)
}
