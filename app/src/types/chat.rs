//! The instance-wide chat room: `GET`/`POST /api/chat`, live as `chat:message`.

use serde::{Deserialize, Serialize};

/// Longest message body, in characters.
pub const CHAT_MAX_CHARS: usize = 2000;

/// One message, as stored and as broadcast to every signed-in user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub body: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// `POST /api/chat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostChat {
    pub body: String,
}
