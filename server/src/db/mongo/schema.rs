//! Collection names and the indexes that stand for the SQL schema's keys: created at connect
//! when missing (creating an existing index with the same keys and options does nothing).

use mongodb::bson::{doc, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use super::Mongo;
use crate::db::DbError;

pub const COUNTERS: &str = "counters";
pub const USERS: &str = "users";
pub const TORRENTS: &str = "torrents";
pub const SETTINGS: &str = "settings";
pub const CATEGORIES: &str = "categories";
pub const TAGS: &str = "tags";
pub const LABELS: &str = "torrent_labels";
pub const CHAT: &str = "chat_messages";
pub const NOTIFICATIONS: &str = "notifications";
pub const STATS: &str = "stats_history";
pub const PASSKEYS: &str = "tracker_passkeys";
pub const FOLDERS: &str = "folders";
pub const FOLDER_ITEMS: &str = "folder_items";

fn index(keys: Document, unique: bool) -> IndexModel {
    let options = IndexOptions::builder()
        .unique(unique.then_some(true))
        .build();
    IndexModel::builder().keys(keys).options(options).build()
}

/// (collection, indexes). Primary keys are `_id` (unique by itself): the user id, the
/// info-hash, the setting's name, the label's numeric id, the message, notification or
/// sample id. No compound index names `_id` (the SQL `(user_id, id)` is `user_id` alone):
/// nx-27017, one of the wire-compatible servers, refuses those.
fn indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
    vec![
        (
            USERS,
            vec![
                // `username UNIQUE`, and the case-insensitive uniqueness the SQL insert checks.
                index(doc! { "username": 1 }, true),
                index(doc! { "username_lower": 1 }, true),
            ],
        ),
        (
            TORRENTS,
            vec![
                index(doc! { "owner_id": 1 }, false),
                index(doc! { "added_ms": 1 }, false),
            ],
        ),
        (
            CATEGORIES,
            vec![index(doc! { "user_id": 1, "name": 1 }, true)],
        ),
        (TAGS, vec![index(doc! { "user_id": 1, "name": 1 }, true)]),
        (LABELS, vec![index(doc! { "info_hash": 1 }, true)]),
        (
            NOTIFICATIONS,
            vec![
                index(doc! { "user_id": 1 }, false),
                index(doc! { "user_id": 1, "read_at": 1 }, false),
            ],
        ),
        (STATS, vec![index(doc! { "user_id": 1, "at": 1 }, false)]),
        (PASSKEYS, vec![index(doc! { "passkey": 1 }, true)]),
        (FOLDERS, vec![index(doc! { "kind": 1, "path": 1 }, true)]),
        (
            FOLDER_ITEMS,
            vec![index(doc! { "folder_id": 1, "name": 1 }, true)],
        ),
    ]
}

pub async fn ensure(m: &Mongo) -> Result<(), DbError> {
    for (collection, models) in indexes() {
        m.coll::<Document>(collection)
            .create_indexes(models)
            .await?;
    }
    Ok(())
}
