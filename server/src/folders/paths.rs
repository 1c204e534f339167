//! Which folders a user may watch or share: shares only below the roots an admin allows
//! (`SHARE_ROOTS`), judged on the canonical path so no symlink or `..` leads out.

use std::path::{Path, PathBuf};

use super::FolderError;

/// The canonical folder `requested` names, if it lies inside one of `roots`.
pub fn share_path(roots: &[PathBuf], requested: &str) -> Result<PathBuf, FolderError> {
    let path = absolute(requested)?;
    if roots.is_empty() {
        return Err(FolderError::NotAllowed(
            "sharing folders is off on this server (no SHARE_ROOTS)".into(),
        ));
    }
    let real = path
        .canonicalize()
        .map_err(|e| FolderError::Path(format!("{}: {e}", path.display())))?;
    if !real.is_dir() {
        return Err(FolderError::Path(format!(
            "{} is not a folder",
            path.display()
        )));
    }
    if !inside_any(roots, &real) {
        return Err(FolderError::NotAllowed(format!(
            "{} is outside the folders this server allows to share ({})",
            path.display(),
            join(roots)
        )));
    }
    Ok(real)
}

/// A folder to watch: an admin may name any absolute path; anyone else a folder inside
/// their download folder or a share root. Made when missing.
pub fn watch_path(
    allowed: &[PathBuf],
    admin: bool,
    requested: &str,
) -> Result<PathBuf, FolderError> {
    let path = absolute(requested)?;
    std::fs::create_dir_all(&path)
        .map_err(|e| FolderError::Path(format!("{}: {e}", path.display())))?;
    let real = path
        .canonicalize()
        .map_err(|e| FolderError::Path(format!("{}: {e}", path.display())))?;
    if !real.is_dir() {
        return Err(FolderError::Path(format!(
            "{} is not a folder",
            path.display()
        )));
    }
    if !admin && !inside_any(allowed, &real) {
        return Err(FolderError::NotAllowed(format!(
            "{} is outside your download folder and the share roots",
            path.display()
        )));
    }
    Ok(real)
}

fn absolute(requested: &str) -> Result<PathBuf, FolderError> {
    let requested = requested.trim();
    if requested.is_empty() || requested.contains('\0') {
        return Err(FolderError::Path("a folder path is required".into()));
    }
    let path = Path::new(requested);
    if !path.is_absolute() {
        return Err(FolderError::Path(format!(
            "{requested:?} must be an absolute path"
        )));
    }
    Ok(path.to_path_buf())
}

/// Whether canonical `real` is one of `roots` or below one (each root canonicalized now, so
/// a root that is itself a link counts as where it leads).
fn inside_any(roots: &[PathBuf], real: &Path) -> bool {
    roots.iter().any(|r| {
        r.canonicalize()
            .map(|r| real.starts_with(&r))
            .unwrap_or(false)
    })
}

fn join(roots: &[PathBuf]) -> String {
    roots
        .iter()
        .map(|r| r.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SHARE_ROOTS`: colon-separated absolute folders.
pub fn parse_roots(s: &str) -> Vec<PathBuf> {
    s.split(':')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_stay_inside_the_roots() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("share");
        let other = tmp.path().join("other");
        std::fs::create_dir_all(root.join("music")).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        std::os::unix::fs::symlink(&other, root.join("escape")).unwrap();
        let roots = vec![root.clone()];
        let ok = share_path(&roots, root.join("music").to_str().unwrap()).unwrap();
        assert!(ok.ends_with("music"));
        for bad in [
            other.clone(),
            root.join("escape"),
            root.join("music/../../other"),
        ] {
            assert!(
                matches!(
                    share_path(&roots, bad.to_str().unwrap()),
                    Err(FolderError::NotAllowed(_))
                ),
                "{}",
                bad.display()
            );
        }
        assert!(matches!(
            share_path(&roots, "relative/path"),
            Err(FolderError::Path(_))
        ));
        assert!(matches!(
            share_path(&[], root.to_str().unwrap()),
            Err(FolderError::NotAllowed(_))
        ));
    }

    #[test]
    fn roots_are_colon_separated_absolute_paths() {
        assert_eq!(
            parse_roots("/a: /b/c ::relative"),
            vec![PathBuf::from("/a"), PathBuf::from("/b/c")]
        );
    }
}
