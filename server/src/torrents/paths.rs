//! Save folders: every path a user names must stay inside their download root (no `..`, no
//! absolute path elsewhere, no symlink that leads out).

use std::path::{Component, Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    #[error("save path must not contain '..'")]
    ParentDir,
    #[error("save path is outside your download folder")]
    Outside,
    #[error("save path leaves your download folder through a symbolic link")]
    SymlinkEscape,
    #[error("save path must not contain NUL or backslashes")]
    BadChars,
    #[error("{0} is not a folder")]
    NotADir(String),
    #[error("cannot prepare the save folder: {0}")]
    Io(String),
    #[error("'{USERS_DIR}' directly in the download folder is reserved for users' folders")]
    Reserved,
}

/// The folder below the download path that holds every non-admin user's folder, each named
/// by the user's id: a username cannot choose (or collide with) anyone else's folder.
pub const USERS_DIR: &str = "users";

/// The folder a user's save paths live in: the whole download path for an admin,
/// `users/<id>` below it for everyone else.
///
/// (Before, it was `<download path>/<username>`, so registering a name like one of the
/// admin's torrent folders gave access to it. Torrents added then keep their stored folders.)
pub fn user_root(download_path: &Path, user_id: i64, admin: bool) -> PathBuf {
    if admin {
        download_path.to_path_buf()
    } else {
        download_path.join(USERS_DIR).join(user_id.to_string())
    }
}

/// Refuses to put a torrent whose top-level name is [`USERS_DIR`] directly into the download
/// folder, where its files would land in users' folders.
pub fn check_not_reserved(
    download_path: &Path,
    save_dir: &Path,
    top_name: &Path,
) -> Result<(), PathError> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    let top = top_name.components().next();
    if top == Some(Component::Normal(USERS_DIR.as_ref())) && same(download_path, save_dir) {
        return Err(PathError::Reserved);
    }
    Ok(())
}

/// The relative part of `requested` below `root` (lexically): rejects `..` and absolute
/// paths that do not start with `root`.
pub fn relative_inside(root: &Path, requested: &str) -> Result<PathBuf, PathError> {
    if requested.contains('\0') || requested.contains('\\') {
        return Err(PathError::BadChars);
    }
    let requested = Path::new(requested);
    let rel = if requested.is_absolute() {
        requested
            .strip_prefix(root)
            .map_err(|_| PathError::Outside)?
    } else {
        requested
    };
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(PathError::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(PathError::Outside),
        }
    }
    Ok(out)
}

/// Creates `root` (if needed) and the folders of `rel` below it one by one, refusing to
/// follow a symlink out of `root`; returns the canonical folder.
pub fn ensure_dir_inside(root: &Path, rel: &Path) -> Result<PathBuf, PathError> {
    let io = |e: std::io::Error| PathError::Io(e.to_string());
    std::fs::create_dir_all(root).map_err(io)?;
    let root = root.canonicalize().map_err(io)?;
    let mut current = root.clone();
    for part in rel.components() {
        let next = current.join(part);
        match std::fs::symlink_metadata(&next) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match std::fs::create_dir(&next) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io(e)),
                }
            }
            Err(e) => return Err(io(e)),
        }
        let resolved = next.canonicalize().map_err(io)?;
        if !resolved.starts_with(&root) {
            return Err(PathError::SymlinkEscape);
        }
        if !resolved.is_dir() {
            return Err(PathError::NotADir(rel.display().to_string()));
        }
        current = resolved;
    }
    Ok(current)
}

/// An existing file or folder inside `root` (for `create`); canonical.
pub fn existing_inside(root: &Path, requested: &str) -> Result<PathBuf, PathError> {
    let rel = relative_inside(root, requested)?;
    let io = |e: std::io::Error| PathError::Io(e.to_string());
    std::fs::create_dir_all(root).map_err(io)?;
    let root = root.canonicalize().map_err(io)?;
    let path = root.join(&rel).canonicalize().map_err(io)?;
    if !path.starts_with(&root) {
        return Err(PathError::SymlinkEscape);
    }
    if path == root {
        return Err(PathError::Outside);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        let root = Path::new("/srv/dl/alice");
        assert_eq!(relative_inside(root, "a/b").unwrap(), PathBuf::from("a/b"));
        assert_eq!(relative_inside(root, "./a").unwrap(), PathBuf::from("a"));
        assert_eq!(relative_inside(root, "").unwrap(), PathBuf::new());
        assert_eq!(
            relative_inside(root, "/srv/dl/alice/x").unwrap(),
            PathBuf::from("x")
        );
        assert_eq!(relative_inside(root, "../bob"), Err(PathError::ParentDir));
        assert_eq!(
            relative_inside(root, "a/../../b"),
            Err(PathError::ParentDir)
        );
        assert_eq!(relative_inside(root, "/etc"), Err(PathError::Outside));
        assert_eq!(
            relative_inside(root, "/srv/dl/alice2"),
            Err(PathError::Outside)
        );
        assert_eq!(relative_inside(root, "a\\..\\b"), Err(PathError::BadChars));
        assert_eq!(
            user_root(Path::new("/d"), 7, false),
            PathBuf::from("/d/users/7")
        );
        assert_eq!(user_root(Path::new("/d"), 1, true), PathBuf::from("/d"));
        assert_eq!(
            check_not_reserved(Path::new("/d"), Path::new("/d"), Path::new("users/2/x")),
            Err(PathError::Reserved)
        );
        assert!(check_not_reserved(Path::new("/d"), Path::new("/d/a"), Path::new("users")).is_ok());
        assert!(check_not_reserved(Path::new("/d"), Path::new("/d"), Path::new("films")).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        assert_eq!(
            ensure_dir_inside(&root, Path::new("link/sub")),
            Err(PathError::SymlinkEscape)
        );
        assert!(!outside.join("sub").exists(), "nothing created outside");
        let made = ensure_dir_inside(&root, Path::new("a/b")).unwrap();
        assert!(made.ends_with("root/a/b") && made.is_dir());
        assert_eq!(
            existing_inside(&root, "link"),
            Err(PathError::SymlinkEscape)
        );
        assert_eq!(existing_inside(&root, ""), Err(PathError::Outside));
        assert!(existing_inside(&root, "a").is_ok());
    }
}
