//! `/api/folders`: the caller's watch folders and shared folders (an admin's: everyone's).

use app::types::{FolderInfo, NewFolder};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::errors::{ApiError, ApiJson};
use crate::auth::AuthUser;
use crate::folders::FolderError;
use crate::state::AppState;

impl From<FolderError> for ApiError {
    fn from(e: FolderError) -> Self {
        match e {
            FolderError::Path(_) | FolderError::Invalid(_) => ApiError::BadRequest(e.to_string()),
            FolderError::NotAllowed(_) => ApiError::Forbidden(e.to_string()),
            FolderError::Exists => ApiError::Conflict(e.to_string()),
            FolderError::NotFound => ApiError::NotFound(e.to_string()),
            FolderError::Db(e) => ApiError::Internal(e.to_string()),
        }
    }
}

pub async fn list(State(state): State<AppState>, user: AuthUser) -> Json<Vec<FolderInfo>> {
    Json(state.folders.list(&user))
}

pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewFolder>,
) -> Result<(StatusCode, Json<FolderInfo>), ApiError> {
    let f = state.folders.create(&user, body).await?;
    Ok((StatusCode::CREATED, Json(f)))
}

pub async fn get(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<FolderInfo>, ApiError> {
    Ok(Json(state.folders.get(&user, id)?))
}

pub async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.folders.delete(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// (paths, schemas) for the OpenAPI document.
pub fn openapi() -> (Value, Value) {
    let s = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let b = json!({ "type": "boolean" });
    let opt_s = json!({ "type": ["string", "null"] });
    let kind = json!({ "enum": ["watch", "share"] });
    let mode = json!({ "enum": ["files", "subfolders"] });
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    let body = |d: &str, schema: Value| json!({ "description": d, "content": { "application/json": { "schema": schema } } });
    let e = |d: &str| body(d, r("Error"));
    let id = json!([{ "name": "id", "in": "path", "required": true, "schema": int }]);
    let paths = json!({
        "/api/folders": {
            "get": { "summary": "The caller's watch and shared folders (admins: all), shares with their items",
                "responses": { "200": body("folders", json!({ "type": "array", "items": r("Folder") })),
                    "401": e("not signed in") } },
            "post": { "summary": "Watch a folder (.torrent and .magnet files dropped there are added, then moved to added/ or failed/) or share one (each file or subfolder seeded in place; only below SHARE_ROOTS)",
                "requestBody": { "content": { "application/json": { "schema": r("NewFolder") } } },
                "responses": { "201": body("created", r("Folder")),
                    "400": e("not an absolute folder, unknown category or bad save path"),
                    "401": e("not signed in"),
                    "403": e("outside the allowed roots"),
                    "409": e("already watched or shared") } },
        },
        "/api/folders/{id}": {
            "get": { "summary": "One folder", "parameters": id.clone(),
                "responses": { "200": body("folder", r("Folder")), "401": e("not signed in"),
                    "404": e("no such folder, or not yours") } },
            "delete": { "summary": "Stop watching or sharing; a share's torrents leave the library, files stay",
                "parameters": id,
                "responses": { "204": { "description": "removed" }, "401": e("not signed in"),
                    "404": e("no such folder, or not yours") } },
        },
    });
    let schemas = json!({
        "NewFolder": { "type": "object", "required": ["kind", "path"], "properties": {
            "kind": kind, "path": { "type": "string", "description": "absolute path on the server" },
            "category": s, "savePath": s, "paused": b, "mode": mode } },
        "ShareItem": { "type": "object", "required": ["name", "state", "size"], "properties": {
            "name": s, "state": { "enum": ["hashing", "seeding", "error"] }, "size": int,
            "progress": { "type": "number", "description": "0 to 1 while hashing" },
            "infoHash": s, "magnet": s, "error": s } },
        "Folder": { "type": "object", "required": ["id", "kind", "path", "items"], "properties": {
            "id": int, "kind": kind, "path": s, "category": s, "savePath": s, "paused": b,
            "mode": mode, "items": { "type": "array", "items": r("ShareItem") }, "error": opt_s } },
    });
    (paths, schemas)
}
