//! `/api/categories`, `/api/tags`, and a torrent's category and tags.

use app::types::{Category, SetCategory, SetTags, TagRequest, TorrentSummary};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use super::errors::{ApiError, ApiJson};
use super::torrents::parse_info_hash;
use crate::auth::AuthUser;
use crate::state::AppState;
use crate::torrents::tags::TagEdit;

pub async fn categories(State(state): State<AppState>, user: AuthUser) -> Json<Vec<Category>> {
    Json(state.library.categories(&user))
}

pub async fn create_category(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<Category>,
) -> Result<(StatusCode, Json<Category>), ApiError> {
    let c = state
        .library
        .create_category(&user, &body.name, &body.save_path)
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `PUT /api/categories/{name}` `{"savePath"}` (the body's `name`, if any, is ignored).
pub async fn edit_category(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<Category>, ApiError> {
    let path = body
        .get("savePath")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ApiError::BadRequest("savePath (a string) is required".into()))?;
    Ok(Json(state.library.edit_category(&user, &name, path).await?))
}

pub async fn remove_category(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state
        .library
        .categories(&user)
        .iter()
        .any(|c| c.name == name)
    {
        return Err(ApiError::NotFound(format!("no category named {name:?}")));
    }
    state.library.remove_categories(&user, &[name]).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn tags(State(state): State<AppState>, user: AuthUser) -> Json<Vec<String>> {
    Json(state.library.tags(&user))
}

pub async fn create_tag(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<TagRequest>,
) -> Result<StatusCode, ApiError> {
    state.library.create_tags(&user, &[body.name]).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn delete_tag(
    State(state): State<AppState>,
    user: AuthUser,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.library.delete_tags(&user, &[name]).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_category(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<SetCategory>,
) -> Result<Json<TorrentSummary>, ApiError> {
    let ih = parse_info_hash(&ih)?;
    Ok(Json(
        state
            .library
            .set_category(&user, &ih, body.category.as_deref())
            .await?,
    ))
}

pub async fn set_tags(
    State(state): State<AppState>,
    user: AuthUser,
    Path(ih): Path<String>,
    ApiJson(body): ApiJson<SetTags>,
) -> Result<Json<TorrentSummary>, ApiError> {
    let ih = parse_info_hash(&ih)?;
    Ok(Json(
        state
            .library
            .edit_tags(&user, &ih, TagEdit::Replace, &body.tags)
            .await?,
    ))
}
