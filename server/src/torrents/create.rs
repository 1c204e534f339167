//! `POST /api/torrents/create`: a `.torrent` from a file or folder inside the user's download
//! root, or from uploaded files (staged in a hidden folder of the root, then moved into
//! place); the new torrent starts seeding at once.

use std::path::{Component, Path, PathBuf};

use app::types::{Priority, TorrentSummary};
use engine::create::{create_torrent, CreateOptions};
use engine::metainfo::Metainfo;
use engine::InfoHash;
use rand::RngCore;

use super::{Library, LibraryError};
use crate::auth::AuthUser;

/// What goes into the torrent besides the content.
#[derive(Clone, Debug, Default)]
pub struct CreateParams {
    pub trackers: Vec<Vec<String>>,
    pub private: bool,
    pub comment: Option<String>,
    pub piece_length: Option<u32>,
    pub paused: bool,
    pub priority: Priority,
    /// This server as a web seed: its URL for the new torrent's info-hash.
    pub web_seed: Option<WebSeedUrl>,
}

/// Makes a torrent's web seed URL from its info-hash (known only once the content is hashed).
#[derive(Clone)]
pub struct WebSeedUrl(pub std::sync::Arc<dyn Fn(&InfoHash) -> String + Send + Sync>);

impl std::fmt::Debug for WebSeedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSeedUrl")
    }
}

impl Library {
    /// Hashes `path` (canonical, inside the user's root), adds the torrent with the folder
    /// above `path` as its save folder, and returns it with the `.torrent` bytes.
    pub async fn create_from_path(
        &self,
        user: &AuthUser,
        path: PathBuf,
        params: CreateParams,
    ) -> Result<(TorrentSummary, Vec<u8>), LibraryError> {
        // The count before hashing; the size once known.
        self.check_quota(user, 0)?;
        let save_dir = path
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| LibraryError::Create("cannot share the root folder".into()))?;
        let opts = CreateOptions {
            trackers: params.trackers.clone(),
            piece_length: params.piece_length,
            private: params.private,
            comment: params.comment.clone(),
            created_by: None,
            name: None,
            web_seeds: Vec::new(),
        };
        let started = std::time::SystemTime::now();
        let bytes = tokio::task::spawn_blocking(move || create_torrent(&path, &opts, &|_| {}))
            .await
            .map_err(|e| LibraryError::Create(e.to_string()))?
            .map_err(|e| LibraryError::Create(e.to_string()))?;
        let mut meta =
            Metainfo::from_bytes(&bytes).map_err(|e| LibraryError::Create(e.to_string()))?;
        // The url-list is outside the info dictionary: adding it keeps the info-hash.
        let bytes = match &params.web_seed {
            Some(url) => {
                meta.web_seeds.push((url.0)(&meta.info_hash));
                meta.to_torrent_bytes()
            }
            None => bytes,
        };
        self.check_quota(user, meta.total_length)?;
        let summary = self
            .add_metainfo(
                user.id,
                meta,
                save_dir,
                params.paused,
                params.priority,
                Vec::new(),
                Default::default(),
                Some(started),
            )
            .await?;
        Ok((summary, bytes))
    }
}

/// Uploaded files on their way into a save folder. Removed when dropped unless moved.
pub struct Staging {
    dir: PathBuf,
    files: Vec<PathBuf>,
    total: u64,
    limit: u64,
}

impl Staging {
    /// A fresh hidden folder inside `root`.
    pub fn new(root: &Path, limit: u64) -> Result<Staging, LibraryError> {
        let mut raw = [0u8; 8];
        rand::rng().fill_bytes(&mut raw);
        let dir = root.join(format!(".te-upload-{}", engine::types::hex_encode(&raw)));
        std::fs::create_dir_all(&dir).map_err(|e| LibraryError::Storage(e.to_string()))?;
        Ok(Staging {
            dir,
            files: Vec::new(),
            total: 0,
            limit,
        })
    }

    /// Where to write the upload named `name` (`a.txt` or `dir/a.txt`); its folders are made.
    pub fn file_path(&mut self, name: &str) -> Result<PathBuf, LibraryError> {
        let rel = upload_name(name)?;
        if self.files.contains(&rel) {
            return Err(LibraryError::Create(format!("{name:?} is uploaded twice")));
        }
        let path = self.dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| LibraryError::Storage(e.to_string()))?;
        }
        self.files.push(rel);
        Ok(path)
    }

    /// Counts `n` more uploaded bytes; too many is an error.
    pub fn count(&mut self, n: u64) -> Result<(), LibraryError> {
        self.total += n;
        if self.total > self.limit {
            return Err(LibraryError::TooLarge(self.limit));
        }
        Ok(())
    }

    /// Moves the uploads to `save_dir/<file>` (one file, no name given) or
    /// `save_dir/<name>/...`; returns what to hash.
    pub fn finish(mut self, save_dir: &Path, name: Option<&str>) -> Result<PathBuf, LibraryError> {
        let (from, to) = match (self.files.as_slice(), name) {
            ([], _) => return Err(LibraryError::Create("no files uploaded".into())),
            ([one], None) if one.components().count() == 1 => {
                (self.dir.join(one), save_dir.join(one))
            }
            (_, Some(name)) => (self.dir.clone(), save_dir.join(upload_name(name)?)),
            (_, None) => {
                return Err(LibraryError::Create(
                    "a 'name' is needed for more than one file".into(),
                ))
            }
        };
        if std::fs::symlink_metadata(&to).is_ok() {
            return Err(LibraryError::Exists(to.display().to_string()));
        }
        std::fs::rename(&from, &to).map_err(|e| LibraryError::Storage(e.to_string()))?;
        self.files.clear();
        Ok(to)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A relative upload path whose every component is a plain name.
fn upload_name(name: &str) -> Result<PathBuf, LibraryError> {
    let bad = || LibraryError::Create(format!("unsafe file name {name:?}"));
    if name.is_empty() || name.contains('\0') || name.contains('\\') {
        return Err(bad());
    }
    let mut out = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(p) => out.push(p),
            _ => return Err(bad()),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_are_plain() {
        assert_eq!(upload_name("a/b.txt").unwrap(), PathBuf::from("a/b.txt"));
        for bad in ["", "../x", "/etc/passwd", "a/../../b", "a\\b", "."] {
            assert!(upload_name(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever name a multipart part carries, an accepted one is a plain relative path
        /// that stays inside the staging folder.
        #[test]
        fn any_accepted_upload_name_stays_inside(name in "[a-z./\\\\\\x00 ]{0,24}") {
            if let Ok(rel) = upload_name(&name) {
                proptest::prop_assert!(!rel.as_os_str().is_empty());
                proptest::prop_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
                proptest::prop_assert!(Path::new("/stage").join(&rel).starts_with("/stage"));
            }
        }
    }

    #[test]
    fn staging_moves_into_place_and_cleans_up() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Staging::new(tmp.path(), 10).unwrap();
        let p = s.file_path("one.txt").unwrap();
        std::fs::write(&p, b"hello").unwrap();
        s.count(5).unwrap();
        let staging = s.dir.clone();
        let to = s.finish(&tmp.path().join(""), None).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"hello");
        assert!(!staging.exists());

        let mut s = Staging::new(tmp.path(), 10).unwrap();
        assert!(matches!(s.count(11), Err(LibraryError::TooLarge(10))));
        let staging = s.dir.clone();
        drop(s);
        assert!(!staging.exists(), "dropped staging folder is removed");
    }
}
