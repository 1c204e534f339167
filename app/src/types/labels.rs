//! Categories and tags: `/api/categories`, `/api/tags`, a torrent's labels, and the
//! `torrent:labels` event.

use serde::{Deserialize, Serialize};

/// One of a user's categories: torrents added to it are saved in `savePath` (relative to the
/// user's download folder; empty = the folder itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub name: String,
    #[serde(default)]
    pub save_path: String,
}

/// `POST /api/tags`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRequest {
    pub name: String,
}

/// `PUT /api/torrents/{infoHash}/category`: null or absent clears it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetCategory {
    #[serde(default)]
    pub category: Option<String>,
}

/// `PUT /api/torrents/{infoHash}/tags`: the torrent's whole set of tags.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetTags {
    pub tags: Vec<String>,
}

/// `torrent:labels`: a torrent's category or tags changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelsUpdate {
    pub info_hash: String,
    pub category: Option<String>,
    pub tags: Vec<String>,
}
