//! Watch folders and shared folders as the API shows them (`/api/folders`).

use serde::{Deserialize, Serialize};

/// What a folder is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderKind {
    /// `.torrent` and `.magnet` files dropped here are added.
    #[default]
    Watch,
    /// Its content is seeded where it lies.
    Share,
}

impl FolderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FolderKind::Watch => "watch",
            FolderKind::Share => "share",
        }
    }

    pub fn parse(s: &str) -> Option<FolderKind> {
        match s {
            "watch" => Some(FolderKind::Watch),
            "share" => Some(FolderKind::Share),
            _ => None,
        }
    }
}

/// How a shared folder is cut into torrents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareMode {
    /// Each file directly in the folder is a torrent.
    #[default]
    Files,
    /// Each subfolder is a torrent.
    Subfolders,
}

impl ShareMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareMode::Files => "files",
            ShareMode::Subfolders => "subfolders",
        }
    }

    pub fn parse(s: &str) -> Option<ShareMode> {
        match s {
            "files" => Some(ShareMode::Files),
            "subfolders" => Some(ShareMode::Subfolders),
            _ => None,
        }
    }
}

/// `POST /api/folders`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFolder {
    pub kind: FolderKind,
    /// Absolute path on the server.
    pub path: String,
    /// Watch: the category of added torrents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Watch: the save folder (inside the user's download folder) of added torrents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_path: Option<String>,
    /// Watch: add torrents paused.
    #[serde(default)]
    pub paused: bool,
    /// Share: files or subfolders (default files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ShareMode>,
}

/// Where one shared item is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShareItemState {
    /// Waiting for its turn to be hashed, or being hashed (`progress`).
    #[default]
    Hashing,
    Seeding,
    Error,
}

impl ShareItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ShareItemState::Hashing => "hashing",
            ShareItemState::Seeding => "seeding",
            ShareItemState::Error => "error",
        }
    }
}

/// A file or subfolder of a shared folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareItem {
    /// Its name in the shared folder.
    pub name: String,
    pub state: ShareItemState,
    /// Bytes.
    pub size: u64,
    /// While hashing: 0 to 1.
    #[serde(default)]
    pub progress: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A folder of `GET /api/folders`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderInfo {
    pub id: i64,
    pub kind: FolderKind,
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_path: Option<String>,
    #[serde(default)]
    pub paused: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ShareMode>,
    /// Share: its items, by name.
    #[serde(default)]
    pub items: Vec<ShareItem>,
    /// Why the folder cannot be watched right now (missing, unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
