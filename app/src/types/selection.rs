//! File selection and seeding goals: a torrent's file priorities (`PATCH
//! /api/torrents/{infoHash}/files`), its sequential flag and seeding limits (`PATCH
//! /api/torrents/{infoHash}`), the server-wide seeding goals (`/api/settings`), and the file
//! list of a `.torrent` before it is added (`POST /api/torrents/preview`).

use serde::{Deserialize, Serialize};

/// How much a file is wanted. `skip`: not downloaded and not created on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilePriority {
    Skip,
    Low,
    #[default]
    Normal,
    High,
}

impl FilePriority {
    pub const ALL: [FilePriority; 4] = [
        FilePriority::Skip,
        FilePriority::Low,
        FilePriority::Normal,
        FilePriority::High,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FilePriority::Skip => "skip",
            FilePriority::Low => "low",
            FilePriority::Normal => "normal",
            FilePriority::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<FilePriority> {
        FilePriority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One entry of `PATCH /api/torrents/{infoHash}/files` (and of the add option `files`):
/// the file's index in the torrent's file list (0-based, as `GET .../files` lists them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilePriorityChange {
    pub index: usize,
    pub priority: FilePriority,
}

/// What happens to a torrent that reached a seeding goal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GoalAction {
    #[default]
    Pause,
    /// Removed from the server; its data stays on disk.
    Remove,
}

/// The server-wide seeding goals (part of `/api/settings`). `0` = no limit. A torrent
/// stops seeding (by `action`) when it reaches any of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedingGoals {
    /// Uploaded ÷ downloaded.
    #[serde(default)]
    pub ratio_limit: f64,
    /// Minutes spent seeding.
    #[serde(default)]
    pub seeding_time_limit: u64,
    /// Minutes seeding without uploading anything.
    #[serde(default)]
    pub inactive_seeding_time_limit: u64,
    #[serde(default)]
    pub action: GoalAction,
}

/// `PATCH /api/settings` `seeding`: only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedingGoalsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_limit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeding_time_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_seeding_time_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<GoalAction>,
}

/// A torrent's own goals: `-1` = the server's, `0` = no limit, above = the limit
/// (ratio; minutes).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentGoals {
    pub ratio_limit: f64,
    pub seeding_time_limit: i64,
    pub inactive_seeding_time_limit: i64,
    /// What happens at this torrent's goal (`server` = the server's action).
    #[serde(default)]
    pub action: TorrentGoalAction,
}

/// A torrent's own action at its seeding goal, or the server's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TorrentGoalAction {
    #[default]
    Server,
    Pause,
    Remove,
}

impl TorrentGoalAction {
    /// The action in force, given the server's.
    pub fn or(self, server: GoalAction) -> GoalAction {
        match self {
            TorrentGoalAction::Server => server,
            TorrentGoalAction::Pause => GoalAction::Pause,
            TorrentGoalAction::Remove => GoalAction::Remove,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TorrentGoalAction::Server => "server",
            TorrentGoalAction::Pause => "pause",
            TorrentGoalAction::Remove => "remove",
        }
    }

    pub fn parse(s: &str) -> Option<TorrentGoalAction> {
        [Self::Server, Self::Pause, Self::Remove]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

impl Default for TorrentGoals {
    fn default() -> Self {
        TorrentGoals {
            ratio_limit: -1.0,
            seeding_time_limit: -1,
            inactive_seeding_time_limit: -1,
            action: TorrentGoalAction::Server,
        }
    }
}

/// One file of a `.torrent` not added yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewFile {
    pub index: usize,
    pub path: String,
    pub length: u64,
}

/// `POST /api/torrents/preview`: what a `.torrent` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TorrentPreview {
    pub info_hash: String,
    pub name: String,
    pub total_bytes: u64,
    pub files: Vec<PreviewFile>,
}

/// Parses a file list like `1,3-5` into indices; `None` on anything else.
pub fn parse_index_list(s: &str) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b || b - a > 1_000_000 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    out.sort_unstable();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists() {
        assert_eq!(parse_index_list("1,3-5"), Some(vec![1, 3, 4, 5]));
        assert_eq!(parse_index_list(" 2 , 2,0"), Some(vec![0, 2]));
        assert_eq!(parse_index_list("5-3"), None);
        assert_eq!(parse_index_list("a"), None);
        assert_eq!(parse_index_list(""), None);
    }

    #[test]
    fn priorities_are_lowercase_names() {
        let c: FilePriorityChange =
            serde_json::from_str(r#"{"index":2,"priority":"skip"}"#).unwrap();
        assert_eq!(c.priority, FilePriority::Skip);
        assert!(
            serde_json::from_str::<FilePriorityChange>(r#"{"index":2,"priority":"x"}"#).is_err()
        );
    }
}

/// `POST /api/torrents/{infoHash}/files/{index}/link`: a URL that streams the file without
/// the login cookie (for VLC, mpv, or sharing with yourself on another device).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamLink {
    /// Path and query, relative to the server's address.
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}
