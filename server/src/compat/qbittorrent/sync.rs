//! `sync/maindata?rid=N`: the first answer (or one for an unknown `rid`) is the full state;
//! later ones carry only what changed since the answer numbered `rid`: new torrents whole,
//! changed fields of the others, removed hashes, and the same for categories, tags and the
//! server state. Recent answers are kept per user (a few, so several clients of one user
//! can poll at once) to diff against.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};

use super::app::{dht_nodes, transfer_of};
use super::convert;
use super::session::QbitUser;
use super::torrents::categories_json;
use super::Params;
use crate::compat::now;
use crate::state::AppState;

/// Answers remembered per user.
const KEEP: usize = 8;

/// One answer's full state.
#[derive(Clone, Default, PartialEq)]
struct Snapshot {
    torrents: Map<String, Value>,
    categories: Map<String, Value>,
    tags: Vec<String>,
    server_state: Map<String, Value>,
}

/// A user's recent answers, oldest first.
type Recent = VecDeque<(u64, Arc<Snapshot>)>;

#[derive(Default)]
pub struct Snapshots {
    next_rid: AtomicU64,
    by_user: Mutex<HashMap<i64, Recent>>,
}

impl Snapshots {
    fn get(&self, user: i64, rid: u64) -> Option<Arc<Snapshot>> {
        let map = self.by_user.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&user)?
            .iter()
            .find(|(r, _)| *r == rid)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, user: i64, snap: Snapshot) -> u64 {
        let rid = self.next_rid.fetch_add(1, Ordering::Relaxed) + 1;
        let mut map = self.by_user.lock().unwrap_or_else(|e| e.into_inner());
        let q = map.entry(user).or_default();
        if q.len() >= KEEP {
            q.pop_front();
        }
        q.push_back((rid, Arc::new(snap)));
        rid
    }
}

fn snapshot(state: &AppState, user: &crate::auth::AuthUser, dht_nodes: usize) -> Snapshot {
    let (q, t) = (state.library.max_active() > 0, now());
    let torrents = state
        .library
        .list(user)
        .iter()
        .map(|s| {
            (
                s.info_hash.clone(),
                Value::Object(convert::torrent(s, q, t)),
            )
        })
        .collect();
    let categories = match categories_json(state, user) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut server_state = transfer_of(state, user, dht_nodes);
    server_state.insert("queueing".into(), json!(q));
    server_state.insert(
        "use_alt_speed_limits".into(),
        json!(state.speed.settings().alt_enabled),
    );
    server_state.insert("refresh_interval".into(), json!(1500));
    Snapshot {
        torrents,
        categories,
        tags: state.library.tags(user),
        server_state,
    }
}

/// Fields of `cur` that differ from `prev`.
fn changed(prev: &Map<String, Value>, cur: &Map<String, Value>) -> Map<String, Value> {
    cur.iter()
        .filter(|(k, v)| prev.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn delta(prev: &Snapshot, cur: &Snapshot) -> Map<String, Value> {
    let mut out = Map::new();
    let mut torrents = Map::new();
    for (h, t) in &cur.torrents {
        match (prev.torrents.get(h), t) {
            (Some(Value::Object(p)), Value::Object(c)) => {
                let d = changed(p, c);
                if !d.is_empty() {
                    torrents.insert(h.clone(), Value::Object(d));
                }
            }
            _ => {
                torrents.insert(h.clone(), t.clone());
            }
        }
    }
    let removed: Vec<&String> = prev
        .torrents
        .keys()
        .filter(|h| !cur.torrents.contains_key(*h))
        .collect();
    if !torrents.is_empty() {
        out.insert("torrents".into(), Value::Object(torrents));
    }
    if !removed.is_empty() {
        out.insert("torrents_removed".into(), json!(removed));
    }
    let cats = changed(&prev.categories, &cur.categories);
    if !cats.is_empty() {
        out.insert("categories".into(), Value::Object(cats));
    }
    let cats_removed: Vec<&String> = prev
        .categories
        .keys()
        .filter(|c| !cur.categories.contains_key(*c))
        .collect();
    if !cats_removed.is_empty() {
        out.insert("categories_removed".into(), json!(cats_removed));
    }
    let tags: Vec<&String> = cur.tags.iter().filter(|t| !prev.tags.contains(t)).collect();
    if !tags.is_empty() {
        out.insert("tags".into(), json!(tags));
    }
    let tags_removed: Vec<&String> = prev.tags.iter().filter(|t| !cur.tags.contains(t)).collect();
    if !tags_removed.is_empty() {
        out.insert("tags_removed".into(), json!(tags_removed));
    }
    let server = changed(&prev.server_state, &cur.server_state);
    if !server.is_empty() {
        out.insert("server_state".into(), Value::Object(server));
    }
    out
}

pub async fn maindata(
    State(state): State<AppState>,
    QbitUser(user): QbitUser,
    p: Params,
) -> Json<Value> {
    let rid: u64 = p
        .get("rid")
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(0);
    let cur = snapshot(&state, &user, dht_nodes(&state).await);
    let prev = (rid > 0)
        .then(|| state.compat.qbit_sync.get(user.id, rid))
        .flatten();
    let mut out = match &prev {
        Some(prev) => delta(prev, &cur),
        None => {
            let mut m = Map::new();
            m.insert("full_update".into(), json!(true));
            m.insert("torrents".into(), Value::Object(cur.torrents.clone()));
            m.insert("categories".into(), Value::Object(cur.categories.clone()));
            m.insert("tags".into(), json!(cur.tags));
            m.insert(
                "server_state".into(),
                Value::Object(cur.server_state.clone()),
            );
            m
        }
    };
    let new_rid = state.compat.qbit_sync.put(user.id, cur);
    out.insert("rid".into(), json!(new_rid));
    Json(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(fields: Value) -> Value {
        fields
    }

    #[test]
    fn deltas_carry_only_changes() {
        let mut a = Snapshot::default();
        a.torrents
            .insert("h1".into(), t(json!({"name": "a", "progress": 0.1})));
        a.torrents
            .insert("h2".into(), t(json!({"name": "b", "progress": 0.5})));
        a.tags = vec!["x".into()];
        a.categories
            .insert("tv".into(), json!({"name": "tv", "savePath": "/d/tv"}));
        let mut b = a.clone();
        b.torrents
            .insert("h1".into(), t(json!({"name": "a", "progress": 0.2})));
        b.torrents.remove("h2");
        b.torrents
            .insert("h3".into(), t(json!({"name": "c", "progress": 0.0})));
        b.tags = vec!["y".into()];
        b.categories.clear();
        let d = delta(&a, &b);
        assert_eq!(d["torrents"]["h1"], json!({"progress": 0.2}));
        assert_eq!(d["torrents"]["h3"], json!({"name": "c", "progress": 0.0}));
        assert_eq!(d["torrents_removed"], json!(["h2"]));
        assert_eq!(d["tags"], json!(["y"]));
        assert_eq!(d["tags_removed"], json!(["x"]));
        assert_eq!(d["categories_removed"], json!(["tv"]));
        assert!(delta(&b, &b).is_empty());
    }

    #[test]
    fn snapshots_are_kept_per_user_and_bounded() {
        let s = Snapshots::default();
        let first = s.put(1, Snapshot::default());
        assert!(s.get(1, first).is_some());
        assert!(s.get(2, first).is_none());
        for _ in 0..KEEP {
            s.put(1, Snapshot::default());
        }
        assert!(s.get(1, first).is_none(), "the oldest is dropped");
    }
}
