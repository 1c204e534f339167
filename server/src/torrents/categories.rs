//! Categories: each user's named save folders. Adding a torrent to a category saves it in
//! the category's folder (unless the add names another); changing a torrent's category
//! later does not move its data.

use std::collections::BTreeSet;

use app::types::{AddOptions, Category, TorrentSummary};
use engine::magnet::Magnet;
use engine::metainfo::Metainfo;
use engine::InfoHash;

use super::labels::{category_name, tag_name, LabelError, MAX_TAGS_PER_TORRENT};
use super::{paths, Library, LibraryError};
use crate::auth::AuthUser;
use crate::db::categories as store;

/// What is being added.
#[derive(Clone, Copy)]
pub enum AddSource<'a> {
    File(&'a [u8]),
    Magnet(&'a str),
}

impl Library {
    pub fn categories(&self, user: &AuthUser) -> Vec<Category> {
        self.labels
            .categories(user.id)
            .into_iter()
            .map(|(name, save_path)| Category { name, save_path })
            .collect()
    }

    /// Creates a category (`Exists` when it does); its folder must lie inside the user's.
    pub async fn create_category(
        &self,
        user: &AuthUser,
        name: &str,
        save_path: &str,
    ) -> Result<Category, LibraryError> {
        let name = category_name(name)?;
        if self.labels.category_path(user.id, &name).is_some() {
            return Err(LibraryError::Exists(format!("category {name:?}")));
        }
        self.put_category(user, name, save_path).await
    }

    /// Changes an existing category's save path (torrents already in it stay where they are).
    pub async fn edit_category(
        &self,
        user: &AuthUser,
        name: &str,
        save_path: &str,
    ) -> Result<Category, LibraryError> {
        let name = category_name(name)?;
        if self.labels.category_path(user.id, &name).is_none() {
            return Err(LabelError::UnknownCategory(name).into());
        }
        self.put_category(user, name, save_path).await
    }

    async fn put_category(
        &self,
        user: &AuthUser,
        name: String,
        save_path: &str,
    ) -> Result<Category, LibraryError> {
        let root = self.user_root(user);
        let rel = paths::relative_inside(&root, save_path.trim())?;
        let save_path = rel.display().to_string();
        if !self.labels.put_category(user.id, &name, &save_path) {
            return Err(LabelError::TooMany.into());
        }
        store::put_category(&self.db, user.id, &name, &save_path).await?;
        Ok(Category { name, save_path })
    }

    /// Whether the torrent `ih` is saved in the folder `requested` names (inside the user's;
    /// nothing is created to find out).
    pub fn is_saved_in(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        requested: &str,
    ) -> Result<bool, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let root = self.user_root(user);
        let rel = paths::relative_inside(&root, requested.trim())?;
        Ok(root.join(rel).canonicalize().ok().as_ref() == Some(&e.save_path))
    }

    /// Removes categories; the user's torrents in them become uncategorized. Unknown names
    /// are ignored.
    pub async fn remove_categories(
        &self,
        user: &AuthUser,
        names: &[String],
    ) -> Result<(), LibraryError> {
        for name in names {
            let name = name.trim();
            if !self.labels.remove_category(user.id, name) {
                continue;
            }
            store::delete_category(&self.db, user.id, name).await?;
            let owned = self
                .labels
                .matching(|l| l.category.as_deref() == Some(name));
            for ih in owned {
                if self.registry.owner(&ih) == Some(user.id) {
                    self.change_labels(&ih, |l| l.category = None).await?;
                }
            }
        }
        Ok(())
    }

    /// Puts a torrent in one of its owner's categories, or in none.
    pub async fn set_category(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        category: Option<&str>,
    ) -> Result<TorrentSummary, LibraryError> {
        let e = self.entry_for(user, ih)?;
        let category = match category.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let c = category_name(c)?;
                if self.labels.category_path(e.owner_id, &c).is_none() {
                    return Err(LabelError::UnknownCategory(c).into());
                }
                Some(c)
            }
        };
        self.change_labels(ih, |l| l.category = category).await?;
        self.summary_of(user, ih)
    }

    /// Adds a `.torrent` or a magnet with the category and tags of `opts`: the category's
    /// folder is the save path unless `opts` names one; new tags join the user's list.
    pub async fn add_labelled(
        &self,
        user: &AuthUser,
        source: AddSource<'_>,
        opts: &AddOptions,
    ) -> Result<TorrentSummary, LibraryError> {
        let category = opts
            .category
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let category = category.map(category_name).transpose()?;
        let tags = parse_tags(&opts.tags)?;
        let mut opts = opts.clone();
        if let Some(c) = &category {
            let path = self
                .labels
                .category_path(user.id, c)
                .ok_or_else(|| LabelError::UnknownCategory(c.clone()))?;
            if opts
                .save_path
                .as_deref()
                .is_none_or(|p| p.trim().is_empty())
            {
                opts.save_path = Some(path);
            }
        }
        let ih = match source {
            AddSource::File(bytes) => {
                Metainfo::from_bytes(bytes)
                    .map_err(|e| LibraryError::InvalidTorrent(e.to_string()))?
                    .info_hash
            }
            AddSource::Magnet(uri) => Magnet::parse(uri)?.info_hash,
        };
        if self.registry.get(&ih).is_some() {
            return Err(LibraryError::Duplicate);
        }
        self.remember_tags(user.id, &tags).await?;
        let prepared = self.labels.set(&ih, category, tags);
        let added = match source {
            AddSource::File(bytes) => self.add_torrent_file(user, bytes, &opts).await,
            AddSource::Magnet(uri) => self.add_magnet(user, uri, &opts).await,
        };
        match added {
            Ok(summary) => {
                // The torrent is added either way; its labels stay in memory and are saved
                // with the next change.
                if let Err(e) = self.save_label(&ih).await {
                    tracing::warn!("cannot save the labels of {}: {e}", ih.to_hex());
                }
                Ok(self.labelled(summary))
            }
            Err(e) => {
                if self.registry.get(&ih).is_none()
                    && self.labels.get(&ih).is_some_and(|l| l.id == prepared.id)
                {
                    self.labels.forget(&ih);
                }
                Err(e)
            }
        }
    }
}

/// Tag names, checked and deduplicated.
pub fn parse_tags(raw: &[String]) -> Result<BTreeSet<String>, LibraryError> {
    let tags = raw
        .iter()
        .filter(|t| !t.trim().is_empty())
        .map(|t| tag_name(t))
        .collect::<Result<BTreeSet<_>, _>>()?;
    if tags.len() > MAX_TAGS_PER_TORRENT {
        return Err(LabelError::TooMany.into());
    }
    Ok(tags)
}
