//! Tags: free labels per user; a torrent carries any number of its owner's tags.

use std::collections::BTreeSet;

use app::types::{LabelsUpdate, TorrentSummary};
use engine::InfoHash;

use super::categories::parse_tags;
use super::labels::{Label, LabelError, MAX_TAGS_PER_TORRENT};
use super::{view, Library, LibraryError};
use crate::auth::AuthUser;
use crate::db::{categories as store, labels as label_store};
use crate::events::names;

/// How `edit_tags` changes a torrent's tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagEdit {
    Replace,
    Add,
    Remove,
}

impl Library {
    pub fn tags(&self, user: &AuthUser) -> Vec<String> {
        self.labels.tags(user.id).into_iter().collect()
    }

    /// Adds tags to the user's list (existing ones are kept).
    pub async fn create_tags(&self, user: &AuthUser, names: &[String]) -> Result<(), LibraryError> {
        let tags = parse_tags(names)?;
        self.remember_tags(user.id, &tags).await
    }

    pub(super) async fn remember_tags(
        &self,
        user: i64,
        tags: &BTreeSet<String>,
    ) -> Result<(), LibraryError> {
        let new = self
            .labels
            .add_tags(user, tags)
            .ok_or(LabelError::TooMany)?;
        for t in new {
            store::insert_tag(&self.db, user, &t).await?;
        }
        Ok(())
    }

    /// Deletes tags from the user's list and from the user's torrents.
    pub async fn delete_tags(&self, user: &AuthUser, names: &[String]) -> Result<(), LibraryError> {
        for name in names {
            let name = name.trim();
            if !self.labels.remove_tag(user.id, name) {
                continue;
            }
            store::delete_tag(&self.db, user.id, name).await?;
            for ih in self.labels.matching(|l| l.tags.contains(name)) {
                if self.registry.owner(&ih) == Some(user.id) {
                    self.change_labels(&ih, |l| {
                        l.tags.remove(name);
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Replaces, adds or removes a torrent's tags; added tags join the owner's list.
    pub async fn edit_tags(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        edit: TagEdit,
        names: &[String],
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let tags = parse_tags(names)?;
        if edit != TagEdit::Remove {
            self.remember_tags(e.owner_id, &tags).await?;
        }
        let mut too_many = false;
        self.change_labels(ih, |l| {
            let next: BTreeSet<String> = match edit {
                TagEdit::Replace => tags.clone(),
                TagEdit::Add => l.tags.union(&tags).cloned().collect(),
                TagEdit::Remove => l.tags.difference(&tags).cloned().collect(),
            };
            if next.len() > MAX_TAGS_PER_TORRENT {
                too_many = true;
            } else {
                l.tags = next;
            }
        })
        .await?;
        if too_many {
            return Err(LabelError::TooMany.into());
        }
        self.summary_of(user, ih)
    }

    /// Changes a torrent's labels, saves them and tells its owner (`torrent:labels`) when
    /// they changed.
    pub(super) async fn change_labels(
        &self,
        ih: &InfoHash,
        f: impl FnOnce(&mut Label),
    ) -> Result<(), LibraryError> {
        let before = self.labels.get_or_assign(ih).0;
        let mut after = before.clone();
        f(&mut after);
        if after == before {
            return Ok(());
        }
        self.labels
            .set(ih, after.category.clone(), after.tags.clone());
        self.save_label(ih).await?;
        if let Some(owner) = self.registry.owner(ih) {
            self.hub.publish(
                Some(owner),
                names::TORRENT_LABELS,
                &LabelsUpdate {
                    info_hash: ih.to_hex(),
                    category: after.category,
                    tags: after.tags.into_iter().collect(),
                },
            );
        }
        Ok(())
    }

    pub(super) async fn save_label(&self, ih: &InfoHash) -> Result<(), LibraryError> {
        if let Some(l) = self.labels.get(ih) {
            label_store::save(&self.db, &row(ih, &l)).await?;
        }
        Ok(())
    }

    /// `summary` with the torrent's id, category and tags. A torrent that has no id yet
    /// (added by a path that does not label, like `create`) gets one, saved in the
    /// background.
    pub fn labelled(&self, mut summary: TorrentSummary) -> TorrentSummary {
        let Ok(ih) = InfoHash::from_hex(&summary.info_hash) else {
            return summary;
        };
        let (l, new) = self.labels.get_or_assign(&ih);
        if new {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let db = self.db.clone();
                let r = row(&ih, &l);
                rt.spawn(async move {
                    if let Err(e) = label_store::save(&db, &r).await {
                        tracing::warn!("cannot save the labels of {}: {e}", r.info_hash);
                    }
                });
            }
        }
        summary.id = l.id;
        summary.goals = self.torrent_goals(&ih);
        summary.seconds_seeding = self.goals.seeded(&ih).as_secs();
        summary.public = self.is_public(&ih);
        summary.category = l.category;
        summary.tags = l.tags.into_iter().collect();
        summary
    }

    /// The user's torrents in `category` (Some("") = in none) carrying `tag`
    /// (Some("") = no tags).
    pub fn list_labelled(
        &self,
        user: &AuthUser,
        category: Option<&str>,
        tag: Option<&str>,
    ) -> Vec<TorrentSummary> {
        self.list(user)
            .into_iter()
            .filter(|s| match category {
                None => true,
                Some("") => s.category.is_none(),
                Some(c) => s.category.as_deref() == Some(c),
            })
            .filter(|s| match tag {
                None => true,
                Some("") => s.tags.is_empty(),
                Some(t) => s.tags.iter().any(|x| x == t),
            })
            .collect()
    }

    /// One torrent's summary, labelled.
    pub fn summary_of(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        Ok(self.labelled(view::summary(&e, e.handle().map(|h| h.status()).as_ref())))
    }

    /// The info-hash of the torrent with numeric `id`, if `user` may see it.
    pub fn hash_by_id(&self, user: &AuthUser, id: u32) -> Option<InfoHash> {
        let ih = self.labels.hash_of(id)?;
        self.entry_for(user, &ih).ok().map(|e| e.info_hash)
    }

    /// Loads categories, tags and ids from the database (before `restore`).
    pub(super) async fn load_labels(&self) -> Result<(), LibraryError> {
        let torrents = label_store::all(&self.db).await?;
        let cats = store::all_categories(&self.db).await?;
        let tags = store::all_tags(&self.db).await?;
        let torrents = torrents.into_iter().filter_map(|r| {
            let ih = InfoHash::from_hex(&r.info_hash).ok()?;
            let id = u32::try_from(r.id).ok()?;
            Some((
                ih,
                Label {
                    id,
                    category: r.category,
                    tags: r.tags.into_iter().collect(),
                },
            ))
        });
        self.labels.load(torrents, cats, tags);
        Ok(())
    }

    /// Drops a removed torrent's labels.
    pub(super) async fn forget_labels(&self, ih: &InfoHash) -> Result<(), LibraryError> {
        self.labels.forget(ih);
        label_store::delete(&self.db, &ih.to_hex()).await?;
        Ok(())
    }
}

fn row(ih: &InfoHash, l: &Label) -> label_store::LabelRow {
    label_store::LabelRow {
        id: i64::from(l.id),
        info_hash: ih.to_hex(),
        category: l.category.clone(),
        tags: l.tags.iter().cloned().collect(),
    }
}
