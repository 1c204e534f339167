//! `torrents/add`: multipart `torrents` (files) and/or `urls` (magnets, one per line) with
//! qBittorrent's options. A category that does not exist yet is created, as qBittorrent
//! does. Options asking for features TorrentEdge lacks are refused (409) rather than
//! silently dropped.

use app::types::AddOptions;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::response::Response;

use super::session::QbitUser;
use super::{content_type_is, multipart_error, text, Params, QbitError};
use crate::api::add_body_limit;
use crate::state::AppState;
use crate::torrents::categories::AddSource;
use crate::torrents::LibraryError;

/// Torrents in one call at most.
const MAX_ITEMS: usize = 100;

#[derive(Default)]
struct Form {
    files: Vec<Vec<u8>>,
    fields: std::collections::HashMap<String, String>,
}

async fn read_form(req: Request, state: &AppState) -> Result<Form, QbitError> {
    if !content_type_is(&req, "multipart/form-data") {
        let p = Params::from_request(req, state).await?;
        return Ok(Form {
            files: Vec::new(),
            fields: p.0,
        });
    }
    let limit = state.config.max_torrent_size;
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|e| QbitError::BadRequest(e.body_text()))?;
    let mut form = Form::default();
    while let Some(mut field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "torrents" || field.file_name().is_some() {
            if form.files.len() >= MAX_ITEMS {
                return Err(QbitError::BadRequest(format!(
                    "at most {MAX_ITEMS} torrents per call"
                )));
            }
            let mut buf = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if buf.len() + chunk.len() > limit {
                    return Err(QbitError::Unsupported(format!(
                        "Torrent file is not valid: larger than {limit} bytes"
                    )));
                }
                buf.extend_from_slice(&chunk);
            }
            form.files.push(buf);
        } else {
            let value = field.text().await.map_err(multipart_error)?;
            form.fields.insert(name, value);
        }
    }
    Ok(form)
}

/// Options that need a feature TorrentEdge lacks, when set to anything but "off".
fn unsupported(p: &Params) -> Option<&'static str> {
    if p.flag("autoTMM") {
        Some("automatic torrent management")
    } else if p.get("rename").is_some_and(|v| !v.trim().is_empty()) {
        Some("renaming torrents")
    } else {
        None
    }
}

pub async fn add(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    req: Request,
) -> Result<Response, QbitError> {
    crate::api::check_content_length(&req, add_body_limit(state.config.max_torrent_size))
        .map_err(|_| QbitError::TooLarge)?;
    let form = read_form(req, &state).await?;
    let p = Params(form.fields);
    if let Some(what) = unsupported(&p) {
        return Err(QbitError::Conflict(format!(
            "TorrentEdge does not support {what} yet"
        )));
    }
    let urls: Vec<&str> = p
        .get("urls")
        .unwrap_or("")
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    if form.files.is_empty() && urls.is_empty() {
        return Err(QbitError::BadRequest("No torrents or URLs given".into()));
    }
    if form.files.len() + urls.len() > MAX_ITEMS {
        return Err(QbitError::BadRequest(format!(
            "at most {MAX_ITEMS} torrents per call"
        )));
    }
    let category = p.get("category").map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = category {
        if !state.library.categories(&user).iter().any(|x| x.name == c) {
            match state.library.create_category(&user, c, "").await {
                Ok(_) | Err(LibraryError::Exists(_)) => {}
                Err(_) => return Err(QbitError::BadRequest("Incorrect category name".into())),
            }
        }
    }
    let opts = AddOptions {
        save_path: p
            .get("savepath")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        paused: p.flag("paused") || p.flag("stopped"),
        category: category.map(str::to_owned),
        tags: p
            .get("tags")
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        sequential: p.flag("sequentialDownload"),
        first_last_piece: p.flag("firstLastPiecePrio"),
        ..AddOptions::default()
    };
    let goals = super::limits::ShareLimits::from_params(&p)?;
    let down = super::limits::parse_rate(p.get("dlLimit"))?;
    let up = super::limits::parse_rate(p.get("upLimit"))?;
    let mut added = 0;
    let mut invalid = 0;
    let mut last_error = None;
    let sources = form
        .files
        .iter()
        .map(|b| AddSource::File(b))
        .chain(urls.iter().map(|u| AddSource::Magnet(u)));
    for source in sources {
        if let AddSource::Magnet(u) = &source {
            if !u.starts_with("magnet:") {
                // Fetching .torrent files from URLs is not supported (see docs/compat.md).
                tracing::info!("qBittorrent add: cannot fetch {u}");
                last_error = Some(QbitError::Conflict(
                    "TorrentEdge does not fetch torrent URLs yet; send the file or a magnet link"
                        .into(),
                ));
                continue;
            }
        }
        match state.library.add_labelled(&user, source, &opts).await {
            Ok(s) => {
                added += 1;
                let Ok(ih) = engine::InfoHash::from_hex(&s.info_hash) else {
                    continue;
                };
                if down > 0 || up > 0 {
                    state
                        .library
                        .set_limits(&user, &ih, Some(down), Some(up))
                        .await?;
                }
                goals.apply(&state, &user, &ih).await?;
            }
            Err(LibraryError::InvalidTorrent(_)) => invalid += 1,
            Err(LibraryError::Duplicate) => {}
            Err(e @ (LibraryError::Path(_) | LibraryError::Label(_))) => {
                return Err(QbitError::BadRequest(e.to_string()))
            }
            Err(e @ (LibraryError::Db(_) | LibraryError::Engine(_))) => return Err(e.into()),
            Err(e) => tracing::info!("qBittorrent add failed: {e}"),
        }
    }
    if added > 0 {
        Ok(text("Ok."))
    } else if invalid > 0 {
        Err(QbitError::Unsupported("Torrent file is not valid".into()))
    } else if let Some(e) = last_error {
        Err(e)
    } else {
        Ok(text("Fails."))
    }
}
