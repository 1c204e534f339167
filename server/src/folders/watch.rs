//! A watch folder: every `.torrent` or `.magnet` file that lands directly in it (and stops
//! changing) is added for the folder's owner with the folder's options, then moved to
//! `added/`, or to `failed/` beside a `<name>.reason.txt` saying why.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use app::types::AddOptions;
use tokio::io::AsyncReadExt;

use super::scan::{self, Seen, Stability, ADDED, FAILED};
use super::{magnet_file, set_error, Ctx};
use crate::db::folders::FolderRow;
use crate::torrents::categories::AddSource;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Torrent,
    Magnet,
}

fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".torrent") {
        Some(Kind::Torrent)
    } else if lower.ends_with(".magnet") {
        Some(Kind::Magnet)
    } else {
        None
    }
}

/// The folder's task: look, add what is ready, wait (inotify, or the rescan period; a
/// second look soon while a file may still be growing).
pub(crate) async fn run(ctx: Ctx, row: FolderRow, error: Arc<Mutex<Option<String>>>) {
    let dir = PathBuf::from(&row.path);
    let mut shutdown = ctx.shutdown.clone();
    let (mut watcher, mut poke) = super::wake::inotify(&dir, false);
    let mut stability = Stability::default();
    loop {
        if watcher.is_none() && dir.is_dir() {
            (watcher, poke) = super::wake::inotify(&dir, false);
        }
        let d = dir.clone();
        let seen = tokio::task::spawn_blocking(move || scan::list(&d, false)).await;
        match seen {
            Ok(Ok(seen)) => {
                set_error(&error, None);
                let files: Vec<Seen> = seen
                    .into_iter()
                    .filter(|s| !s.is_dir && kind_of(&s.name).is_some())
                    .collect();
                for name in stability.ready(&files) {
                    handle(&ctx, &row, &dir, &name).await;
                }
            }
            Ok(Err(e)) => set_error(&error, Some(format!("cannot read the folder: {e}"))),
            Err(_) => {}
        }
        let every = if stability.pending() {
            super::wake::SETTLE
        } else {
            ctx.settings.rescan
        };
        if !super::wake::wait(&mut poke, every, &mut shutdown).await {
            return;
        }
    }
}

/// Adds one ready file and moves it out of the way.
async fn handle(ctx: &Ctx, row: &FolderRow, dir: &Path, name: &str) {
    let path = dir.join(name);
    match add(ctx, row, &path, name).await {
        Ok(()) => {
            tracing::info!("watch folder {}: added {name}", row.path);
            if let Err(e) = move_to(dir, ADDED, name, None).await {
                tracing::warn!("watch folder {}: cannot move {name}: {e}", row.path);
            }
        }
        Err(reason) => {
            tracing::info!("watch folder {}: {name} failed: {reason}", row.path);
            if let Err(e) = move_to(dir, FAILED, name, Some(&reason)).await {
                tracing::warn!("watch folder {}: cannot move {name}: {e}", row.path);
            }
        }
    }
}

async fn add(ctx: &Ctx, row: &FolderRow, path: &Path, name: &str) -> Result<(), String> {
    let kind = kind_of(name).ok_or("not a .torrent or .magnet file")?;
    let limit = match kind {
        Kind::Torrent => ctx.settings.max_torrent_size,
        Kind::Magnet => magnet_file::MAX_MAGNET_FILE,
    };
    let bytes = read_bounded(path, limit)
        .await
        .map_err(|e| format!("cannot read the file: {e}"))?
        .ok_or_else(|| format!("the file is larger than {limit} bytes"))?;
    let user = super::owner(&ctx.db, row.user_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the folder's owner no longer exists")?;
    let opts = AddOptions {
        save_path: row.save_path.clone(),
        paused: row.paused,
        category: row.category.clone(),
        ..Default::default()
    };
    let added = match kind {
        Kind::Torrent => {
            ctx.library
                .add_labelled(&user, AddSource::File(&bytes), &opts)
                .await
        }
        Kind::Magnet => {
            let uri = magnet_file::parse(&bytes).map_err(|e| e.to_string())?;
            ctx.library
                .add_labelled(&user, AddSource::Magnet(&uri), &opts)
                .await
        }
    };
    added.map(|_| ()).map_err(|e| e.to_string())
}

/// The file's bytes, or `None` when it holds more than `limit`.
async fn read_bounded(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = tokio::fs::File::open(path).await?;
    let mut buf = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut buf)
        .await?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

/// Moves `dir/name` into `dir/sub/` under a name not taken there yet, with the reason beside
/// it when there is one.
async fn move_to(dir: &Path, sub: &str, name: &str, reason: Option<&str>) -> std::io::Result<()> {
    let target_dir = dir.join(sub);
    tokio::fs::create_dir_all(&target_dir).await?;
    let mut target = target_dir.join(name);
    let mut n = 1;
    while tokio::fs::symlink_metadata(&target).await.is_ok() {
        target = target_dir.join(format!("{n}.{name}"));
        n += 1;
        if n > 10_000 {
            return Err(std::io::Error::other("too many files of that name"));
        }
    }
    tokio::fs::rename(dir.join(name), &target).await?;
    if let Some(reason) = reason {
        let file_name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let note = target_dir.join(format!("{file_name}.reason.txt"));
        tokio::fs::write(note, format!("{reason}\n")).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_torrent_and_magnet_files_count() {
        assert_eq!(kind_of("a.torrent"), Some(Kind::Torrent));
        assert_eq!(kind_of("A.TORRENT"), Some(Kind::Torrent));
        assert_eq!(kind_of("x.magnet"), Some(Kind::Magnet));
        assert_eq!(kind_of("x.torrent.part"), None);
        assert_eq!(kind_of("notes.txt"), None);
    }

    #[tokio::test]
    async fn moves_never_overwrite_and_leave_a_reason() {
        let tmp = tempfile::tempdir().unwrap();
        for round in 0..2 {
            std::fs::write(tmp.path().join("x.torrent"), format!("{round}")).unwrap();
            move_to(tmp.path(), FAILED, "x.torrent", Some("bad"))
                .await
                .unwrap();
        }
        let failed = tmp.path().join(FAILED);
        assert_eq!(
            std::fs::read_to_string(failed.join("x.torrent")).unwrap(),
            "0"
        );
        assert_eq!(
            std::fs::read_to_string(failed.join("1.x.torrent")).unwrap(),
            "1"
        );
        assert_eq!(
            std::fs::read_to_string(failed.join("1.x.torrent.reason.txt")).unwrap(),
            "bad\n"
        );
        assert!(!tmp.path().join("x.torrent").exists());
    }

    #[tokio::test]
    async fn reads_are_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("big.magnet");
        std::fs::write(&p, vec![b'a'; 100]).unwrap();
        assert_eq!(
            read_bounded(&p, 100).await.unwrap().map(|b| b.len()),
            Some(100)
        );
        assert_eq!(read_bounded(&p, 99).await.unwrap(), None);
    }
}
