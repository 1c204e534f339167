//! `GET /api/nostr` (admins): the server's Nostr identity, its relays and how publishing
//! to each is going. 404 when `NOSTR_RELAYS` is not set.

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::errors::ApiError;
use crate::auth::AuthUser;
use crate::nostr::publish::RelayStatus;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NostrInfo {
    /// The x-only public key, hex.
    pub pubkey: String,
    /// The same key as NIP-19 `npub1…`.
    pub npub: String,
    /// Signed torrent events kept to publish (one per public torrent).
    pub events: usize,
    pub relays: Vec<RelayStatus>,
}

pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<NostrInfo>, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden(
            "only admins see the Nostr settings".into(),
        ));
    }
    let Some(n) = &state.search.nostr else {
        return Err(ApiError::NotFound(
            "Nostr is off (NOSTR_RELAYS is not set)".into(),
        ));
    };
    Ok(Json(NostrInfo {
        pubkey: n.pubkey_hex(),
        npub: n.npub(),
        events: n.published().await,
        relays: n.statuses(),
    }))
}

/// The OpenAPI path and schema of `/api/nostr` (merged by `openapi.rs`).
pub fn openapi() -> (serde_json::Value, serde_json::Value) {
    use serde_json::json;
    let s = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let b = json!({ "type": "boolean" });
    let error = |d: &str| json!({ "description": d, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let paths = json!({
        "/api/nostr": { "get": {
            "summary": "Admins: this server's Nostr public key (hex and npub), its relays (NOSTR_RELAYS) and each relay's publishing status",
            "responses": {
                "200": { "description": "the key and the relays", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/NostrInfo" } } } },
                "401": error("missing, expired, forged or revoked token"),
                "403": error("not an admin"),
                "404": error("NOSTR_RELAYS is not set") } } },
    });
    let schemas = json!({
        "NostrInfo": { "type": "object", "required": ["pubkey", "npub", "events", "relays"], "properties": {
            "pubkey": s, "npub": s, "events": int,
            "relays": { "type": "array", "items": { "type": "object", "required": ["url", "connected", "accepted", "refused", "pending"], "properties": {
                "url": s, "connected": b, "accepted": int, "refused": int, "pending": int,
                "lastOk": { "type": "object", "properties": { "eventId": s, "accepted": b, "message": s } },
                "lastError": s, "lastPublishMs": int } } } } },
    });
    (paths, schemas)
}
