//! Categories, tags and numeric ids, in memory (the database holds the same; see
//! `db::categories` and `db::labels`). One lock, never held across an await.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use engine::InfoHash;

/// Per-user and per-torrent bounds: untrusted clients create these.
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_PER_USER: usize = 1000;
pub const MAX_TAGS_PER_TORRENT: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabelError {
    #[error("{0}")]
    Invalid(String),
    #[error("no category named {0:?}")]
    UnknownCategory(String),
    #[error("at most 1000 categories and 1000 tags per user, 100 tags per torrent")]
    TooMany,
}

/// A torrent's labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Label {
    pub id: u32,
    pub category: Option<String>,
    pub tags: BTreeSet<String>,
}

#[derive(Default)]
struct Inner {
    by_hash: HashMap<InfoHash, Label>,
    by_id: HashMap<u32, InfoHash>,
    last_id: u32,
    /// user → category name → save path.
    categories: HashMap<i64, BTreeMap<String, String>>,
    tags: HashMap<i64, BTreeSet<String>>,
}

#[derive(Default)]
pub struct Labels {
    inner: Mutex<Inner>,
}

/// A category name: trimmed, 1..=100 characters, no control characters or backslashes,
/// '/' only between parts (qBittorrent's subcategories).
pub fn category_name(raw: &str) -> Result<String, LabelError> {
    let name = raw.trim();
    check_name(name, "category")?;
    if name.contains('\\') || name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Err(LabelError::Invalid(format!(
            "invalid category name {name:?}"
        )));
    }
    Ok(name.to_owned())
}

/// A tag: trimmed, 1..=100 characters, no commas or control characters.
pub fn tag_name(raw: &str) -> Result<String, LabelError> {
    let name = raw.trim();
    check_name(name, "tag")?;
    if name.contains(',') {
        return Err(LabelError::Invalid(format!(
            "tag {name:?} must not contain a comma"
        )));
    }
    Ok(name.to_owned())
}

fn check_name(name: &str, what: &str) -> Result<(), LabelError> {
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(LabelError::Invalid(format!(
            "a {what} name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(LabelError::Invalid(format!(
            "a {what} name must not contain control characters"
        )));
    }
    Ok(())
}

impl Labels {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads what the database holds (at start, before torrents are restored).
    pub fn load(
        &self,
        torrents: impl IntoIterator<Item = (InfoHash, Label)>,
        categories: impl IntoIterator<Item = (i64, String, String)>,
        tags: impl IntoIterator<Item = (i64, String)>,
    ) {
        let mut g = self.lock();
        for (ih, l) in torrents {
            g.last_id = g.last_id.max(l.id);
            g.by_id.insert(l.id, ih);
            g.by_hash.insert(ih, l);
        }
        for (user, name, path) in categories {
            g.categories.entry(user).or_default().insert(name, path);
        }
        for (user, name) in tags {
            g.tags.entry(user).or_default().insert(name);
        }
    }

    /// The torrent's labels, and whether its id was allocated just now.
    pub fn get_or_assign(&self, ih: &InfoHash) -> (Label, bool) {
        let mut g = self.lock();
        if let Some(l) = g.by_hash.get(ih) {
            return (l.clone(), false);
        }
        g.last_id = g.last_id.wrapping_add(1).max(1);
        let id = g.last_id;
        let l = Label {
            id,
            ..Label::default()
        };
        g.by_id.insert(id, *ih);
        g.by_hash.insert(*ih, l.clone());
        (l, true)
    }

    pub fn get(&self, ih: &InfoHash) -> Option<Label> {
        self.lock().by_hash.get(ih).cloned()
    }

    pub fn hash_of(&self, id: u32) -> Option<InfoHash> {
        self.lock().by_id.get(&id).copied()
    }

    /// Sets a torrent's category and tags (allocating its id if new); returns the result.
    pub fn set(&self, ih: &InfoHash, category: Option<String>, tags: BTreeSet<String>) -> Label {
        self.get_or_assign(ih);
        let mut g = self.lock();
        let l = g.by_hash.entry(*ih).or_default();
        l.category = category;
        l.tags = tags;
        l.clone()
    }

    pub fn forget(&self, ih: &InfoHash) -> Option<Label> {
        let mut g = self.lock();
        let l = g.by_hash.remove(ih)?;
        g.by_id.remove(&l.id);
        Some(l)
    }

    pub fn categories(&self, user: i64) -> BTreeMap<String, String> {
        self.lock()
            .categories
            .get(&user)
            .cloned()
            .unwrap_or_default()
    }

    pub fn category_path(&self, user: i64, name: &str) -> Option<String> {
        self.lock().categories.get(&user)?.get(name).cloned()
    }

    /// Adds or replaces a category; false when the user has too many.
    pub fn put_category(&self, user: i64, name: &str, save_path: &str) -> bool {
        let mut g = self.lock();
        let cats = g.categories.entry(user).or_default();
        if !cats.contains_key(name) && cats.len() >= MAX_PER_USER {
            return false;
        }
        cats.insert(name.to_owned(), save_path.to_owned());
        true
    }

    pub fn remove_category(&self, user: i64, name: &str) -> bool {
        self.lock()
            .categories
            .get_mut(&user)
            .is_some_and(|c| c.remove(name).is_some())
    }

    pub fn tags(&self, user: i64) -> BTreeSet<String> {
        self.lock().tags.get(&user).cloned().unwrap_or_default()
    }

    /// Adds tags to the user's list; the ones that were new, or None when over the limit.
    pub fn add_tags(&self, user: i64, names: &BTreeSet<String>) -> Option<Vec<String>> {
        let mut g = self.lock();
        let tags = g.tags.entry(user).or_default();
        let new: Vec<String> = names.difference(tags).cloned().collect();
        if tags.len() + new.len() > MAX_PER_USER {
            return None;
        }
        tags.extend(new.iter().cloned());
        Some(new)
    }

    pub fn remove_tag(&self, user: i64, name: &str) -> bool {
        self.lock()
            .tags
            .get_mut(&user)
            .is_some_and(|t| t.remove(name))
    }

    /// Torrents among `hashes` whose label matches `keep`.
    pub fn matching(&self, keep: impl Fn(&Label) -> bool) -> Vec<InfoHash> {
        self.lock()
            .by_hash
            .iter()
            .filter(|(_, l)| keep(l))
            .map(|(ih, _)| *ih)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert_eq!(category_name(" tv ").unwrap(), "tv");
        assert_eq!(category_name("tv/hd").unwrap(), "tv/hd");
        assert!(category_name("").is_err());
        assert!(category_name("/tv").is_err());
        assert!(category_name("a//b").is_err());
        assert!(category_name("a\\b").is_err());
        assert!(category_name(&"x".repeat(101)).is_err());
        assert_eq!(tag_name("hd").unwrap(), "hd");
        assert!(tag_name("a,b").is_err());
        assert!(tag_name("a\nb").is_err());
    }

    #[test]
    fn ids_are_stable_and_not_reused_while_running() {
        let l = Labels::default();
        let a = InfoHash([1; 20]);
        let b = InfoHash([2; 20]);
        let (la, new) = l.get_or_assign(&a);
        assert!(new);
        assert_eq!(l.get_or_assign(&a), (la.clone(), false));
        let lb = l.get_or_assign(&b).0;
        assert_ne!(la.id, lb.id);
        l.forget(&b);
        let c = InfoHash([3; 20]);
        assert!(l.get_or_assign(&c).0.id > lb.id);
        assert_eq!(l.hash_of(la.id), Some(a));
        assert_eq!(l.hash_of(lb.id), None);
    }

    #[test]
    fn per_user_limits() {
        let l = Labels::default();
        let many: BTreeSet<String> = (0..MAX_PER_USER).map(|i| i.to_string()).collect();
        assert_eq!(l.add_tags(1, &many).map(|v| v.len()), Some(MAX_PER_USER));
        assert!(l.add_tags(1, &["x".to_owned()].into()).is_none());
        assert_eq!(l.add_tags(1, &["5".to_owned()].into()), Some(vec![]));
        assert!(l.add_tags(2, &["x".to_owned()].into()).is_some());
    }
}
