//! Opening, creating and deleting a torrent's files without leaving its save folder.
//!
//! File names come from the torrent, but the folder may hold symlinks a user (or another
//! torrent) put there: `name/` pointing at `/etc`, or at another user's downloads. Paths are
//! therefore resolved relative to the root's descriptor with `openat2(RESOLVE_BENEATH)` (Linux
//! 5.6+: any `..` or symlink that would leave the root fails with `EXDEV`) and, where the
//! kernel lacks it, one component at a time with `O_NOFOLLOW`, so no symlink is followed at
//! all. Deletion unlinks the last component inside its real parent, so a symlink is removed
//! rather than what it points to.

use std::fs::File;
use std::io;
use std::path::{Component, Path};

#[cfg(target_os = "linux")]
mod imp {
    use std::fs::File;
    use std::io;
    use std::os::fd::{AsFd, OwnedFd};
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};

    use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
    use rustix::io::Errno;

    /// Cleared the first time the kernel answers `ENOSYS` (older than 5.6, or a sandbox).
    static HAVE_OPENAT2: AtomicBool = AtomicBool::new(true);

    const MODE: Mode = Mode::from_raw_mode(0o666);
    const DIR_MODE: Mode = Mode::from_raw_mode(0o777);

    fn open_root(root: &Path) -> io::Result<OwnedFd> {
        // The root itself is the server's choice (and may be a symlink it configured).
        Ok(rustix::fs::open(
            root,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )?)
    }

    /// Opens `rel` below `dir` without leaving it.
    pub(super) fn openat_beneath(dir: &OwnedFd, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let flags = flags | OFlags::CLOEXEC;
        if HAVE_OPENAT2.load(Ordering::Relaxed) {
            let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
            // openat2 refuses a mode without O_CREAT (EINVAL).
            let mode = if flags.contains(OFlags::CREATE) {
                MODE
            } else {
                Mode::empty()
            };
            match rustix::fs::openat2(dir, rel, flags, mode, resolve) {
                Err(Errno::NOSYS) => HAVE_OPENAT2.store(false, Ordering::Relaxed),
                // Interrupted by a concurrent rename: the kernel asks us to retry.
                Err(Errno::AGAIN) => return openat_nofollow(dir, rel, flags),
                other => return Ok(other?),
            }
        }
        openat_nofollow(dir, rel, flags)
    }

    /// The fallback: every component opened with `O_NOFOLLOW`, so no symlink is followed.
    fn openat_nofollow(dir: &OwnedFd, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let parts: Vec<_> = rel.iter().collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Err(io::Error::from(io::ErrorKind::InvalidInput));
        };
        let mut cur: Option<OwnedFd> = None;
        for d in dirs {
            let base = cur.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
            let next = rustix::fs::openat(
                base,
                *d,
                OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            cur = Some(next);
        }
        let base = cur.as_ref().map_or(dir.as_fd(), |f| f.as_fd());
        Ok(rustix::fs::openat(
            base,
            *last,
            flags | OFlags::NOFOLLOW,
            MODE,
        )?)
    }

    pub fn open(root: &Path, rel: &Path, flags: OFlags) -> io::Result<File> {
        let root = open_root(root)?;
        Ok(File::from(openat_beneath(&root, rel, flags)?))
    }

    /// The directory `rel` below `root`, created (with its parents) if missing.
    pub fn create_dirs(root: &Path, rel: &Path) -> io::Result<OwnedFd> {
        let mut cur = open_root(root)?;
        for part in rel.iter() {
            let part = Path::new(part);
            let flags = OFlags::DIRECTORY | OFlags::RDONLY;
            cur = match openat_beneath(&cur, part, flags) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match rustix::fs::mkdirat(&cur, part, DIR_MODE) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(e.into()),
                    }
                    openat_beneath(&cur, part, flags)?
                }
                other => other?,
            };
        }
        Ok(cur)
    }

    /// The parent directory of `rel` (opened beneath `root`) and `rel`'s last component.
    fn parent<'a>(root: &Path, rel: &'a Path) -> io::Result<(OwnedFd, &'a std::ffi::OsStr)> {
        let name = rel
            .file_name()
            .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        let root = open_root(root)?;
        let dir = match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(p) => openat_beneath(&root, p, OFlags::DIRECTORY | OFlags::RDONLY)?,
            None => root,
        };
        Ok((dir, name))
    }

    pub fn unlink(root: &Path, rel: &Path, dir: bool) -> io::Result<()> {
        let (parent, name) = parent(root, rel)?;
        let flags = if dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        Ok(rustix::fs::unlinkat(&parent, name, flags)?)
    }

    /// The length of `rel` when it is a regular file (a symlink is not followed: `None`).
    pub fn file_len(root: &Path, rel: &Path) -> io::Result<Option<u64>> {
        let (parent, name) = parent(root, rel)?;
        let st = rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
        Ok(
            (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile)
                .then_some(st.st_size as u64),
        )
    }

    pub(super) fn flags(access: super::Access) -> OFlags {
        match access {
            super::Access::Read => OFlags::RDONLY,
            super::Access::Write => OFlags::RDWR | OFlags::CREATE,
            super::Access::Direct => OFlags::WRONLY | OFlags::DIRECT,
        }
    }

    /// For tests: pretend the kernel has no `openat2`.
    #[cfg(test)]
    pub(super) fn disable_openat2() {
        HAVE_OPENAT2.store(false, Ordering::Relaxed);
    }
}

/// How a file is opened.
#[derive(Clone, Copy, Debug)]
pub enum Access {
    Read,
    /// Read and write, created when missing (with the directories above it).
    Write,
    /// Write only, `O_DIRECT`; the file must exist.
    Direct,
}

/// Opens `rel` (plain relative components, as [`super::files`] checks) below `root`.
pub fn open(root: &Path, rel: &Path, access: Access) -> io::Result<File> {
    debug_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
    #[cfg(target_os = "linux")]
    {
        if let Access::Write = access {
            std::fs::create_dir_all(root)?;
            if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
                imp::create_dirs(root, parent)?;
            }
        }
        imp::open(root, rel, imp::flags(access))
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Elsewhere: plain opens (no symlink protection).
        let path = root.join(rel);
        match access {
            Access::Read => File::open(path),
            Access::Write => {
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p)?;
                }
                std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
            }
            Access::Direct => Err(io::Error::from(io::ErrorKind::Unsupported)),
        }
    }
}

/// Removes the file (or, with `dir`, the empty directory) `rel` below `root`; a symlink is
/// removed itself, never its target.
pub fn remove(root: &Path, rel: &Path, dir: bool) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        imp::unlink(root, rel, dir)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let path = root.join(rel);
        if dir {
            std::fs::remove_dir(path)
        } else {
            std::fs::remove_file(path)
        }
    }
}

/// The on-disk length of `rel` below `root` when it is a regular file, without following a
/// symlink; `None` for anything else.
pub fn file_len(root: &Path, rel: &Path) -> io::Result<Option<u64>> {
    #[cfg(target_os = "linux")]
    {
        imp::file_len(root, rel)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let m = std::fs::symlink_metadata(root.join(rel))?;
        Ok(m.is_file().then_some(m.len()))
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A save folder holding `outside/secret` next to it and symlinks to it inside.
    fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        std::fs::create_dir_all(root.join("t")).unwrap();
        std::fs::create_dir_all(top.path().join("outside")).unwrap();
        std::fs::write(top.path().join("outside/secret"), b"secret").unwrap();
        symlink(top.path().join("outside"), root.join("link-dir")).unwrap();
        symlink(top.path().join("outside/secret"), root.join("t/link-file")).unwrap();
        symlink("../../outside", root.join("t/rel-link")).unwrap();
        (top, root)
    }

    fn check_refusals(top: &Path, root: &Path) {
        for rel in ["link-dir/secret", "t/link-file", "t/rel-link/secret"] {
            for access in [Access::Read, Access::Write, Access::Direct] {
                assert!(
                    open(root, Path::new(rel), access).is_err(),
                    "{rel} {access:?} followed a link out"
                );
            }
        }
        assert!(open(root, Path::new("link-dir/new"), Access::Write).is_err());
        assert!(!top.join("outside/new").exists(), "nothing created outside");
        assert_eq!(file_len(root, Path::new("t/link-file")).unwrap(), None);
        assert!(file_len(root, Path::new("link-dir/secret")).is_err());
        // Deleting removes the link, never its target.
        remove(root, Path::new("t/link-file"), false).unwrap();
        assert!(remove(root, Path::new("link-dir/secret"), false).is_err());
        assert_eq!(
            std::fs::read(top.join("outside/secret")).unwrap(),
            b"secret"
        );
        assert!(!root.join("t/link-file").exists());
    }

    #[test]
    fn symlinks_out_of_the_root_are_not_followed() {
        let (top, root) = setup();
        // Ordinary files still work, directories are created.
        let f = open(&root, Path::new("t/sub/a"), Access::Write).unwrap();
        drop(f);
        assert_eq!(file_len(&root, Path::new("t/sub/a")).unwrap(), Some(0));
        open(&root, Path::new("t/sub/a"), Access::Read).unwrap();
        check_refusals(top.path(), &root);
    }

    #[test]
    fn without_openat2_no_component_is_followed() {
        let (top, root) = setup();
        imp::disable_openat2();
        open(&root, Path::new("t/x"), Access::Write).unwrap();
        check_refusals(top.path(), &root);
    }
}
