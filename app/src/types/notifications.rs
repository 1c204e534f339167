//! Per-user notifications about torrents: `GET /api/notifications`, live as `notification`.

use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NotificationKind {
    Completed,
    Seeding,
    Error,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Completed => "completed",
            NotificationKind::Seeding => "seeding",
            NotificationKind::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationKind> {
        [
            NotificationKind::Completed,
            NotificationKind::Seeding,
            NotificationKind::Error,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One notification, stored for its owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub kind: NotificationKind,
    pub info_hash: String,
    /// The torrent's name when it happened.
    pub name: String,
    /// A sentence for people ("Ubuntu ISO finished downloading").
    pub message: String,
    /// Unix milliseconds.
    pub created_at: i64,
    pub read: bool,
}

/// `GET /api/notifications`: newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationList {
    pub unread: usize,
    pub items: Vec<Notification>,
}

/// `POST /api/notifications/read`: the given ids, or all when `ids` is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
}
