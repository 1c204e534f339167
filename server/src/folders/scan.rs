//! Looking at a folder: its direct entries with size and mtime (blocking; run on a blocking
//! worker), whether a dropped file has stopped growing, and what changed since last time.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::time::UNIX_EPOCH;

/// Subfolders of a watch folder where handled files go.
pub const ADDED: &str = "added";
pub const FAILED: &str = "failed";

/// Most entries one folder scan looks at (a share of 10,000 files fits).
pub const MAX_ENTRIES: usize = 100_000;

/// A direct entry of a folder as one scan saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    /// A folder's: the sum of its files.
    pub size: u64,
    /// A folder's: the newest of its files' and folders'.
    pub mtime_ms: i64,
    pub is_dir: bool,
}

fn mtime_ms(m: &std::fs::Metadata) -> i64 {
    m.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The visible direct entries of `dir`: no hidden (`.`) names, no symlinks, no names that are
/// not UTF-8; folders with their totals when `dir_totals`.
pub fn list(dir: &Path, dir_totals: bool) -> io::Result<Vec<Seen>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)?.take(MAX_ENTRIES) {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        // Not followed: a link must not lead a share outside its folder.
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if meta.is_file() {
            out.push(Seen {
                name,
                size: meta.len(),
                mtime_ms: mtime_ms(&meta),
                is_dir: false,
            });
        } else if meta.is_dir() {
            let (size, mtime) = if dir_totals {
                tree_totals(&entry.path(), mtime_ms(&meta))?
            } else {
                (0, mtime_ms(&meta))
            };
            out.push(Seen {
                name,
                size,
                mtime_ms: mtime,
                is_dir: true,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Total size and newest mtime below `dir` (symlinks not followed, at most `MAX_ENTRIES`).
fn tree_totals(dir: &Path, own_mtime: i64) -> io::Result<(u64, i64)> {
    let (mut size, mut newest, mut seen) = (0u64, own_mtime, 0usize);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            seen += 1;
            if seen > MAX_ENTRIES {
                return Ok((size, newest));
            }
            let entry = entry?;
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            newest = newest.max(mtime_ms(&meta));
            if meta.is_file() {
                size = size.saturating_add(meta.len());
            } else if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    Ok((size, newest))
}

/// Dropped files that stopped changing: a file is ready once two looks in a row saw the
/// same size and mtime (a browser or `cp` still writing it changes one of them).
#[derive(Debug, Default)]
pub struct Stability {
    last: HashMap<String, (u64, i64)>,
}

impl Stability {
    /// Takes this look's files; returns the names that are ready. Names no longer there are
    /// forgotten, and a ready file is forgotten too (it is handled now).
    pub fn ready(&mut self, now: &[Seen]) -> Vec<String> {
        let mut next = HashMap::with_capacity(now.len());
        let mut ready = Vec::new();
        for s in now {
            let key = (s.size, s.mtime_ms);
            if self.last.get(&s.name) == Some(&key) {
                ready.push(s.name.clone());
            } else {
                next.insert(s.name.clone(), key);
            }
        }
        self.last = next;
        ready
    }

    /// Whether some file waits for another look.
    pub fn pending(&self) -> bool {
        !self.last.is_empty()
    }
}

/// What changed in a shared folder since the items we know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    New(Seen),
    /// Another size or mtime: its torrent is made again.
    Changed(Seen),
    Gone(String),
}

/// `known`: name → (size, mtime) of the items we have torrents (or errors) for.
pub fn diff(known: &BTreeMap<String, (u64, i64)>, now: &[Seen]) -> Vec<Change> {
    let mut out = Vec::new();
    let names: std::collections::HashSet<&str> = now.iter().map(|s| s.name.as_str()).collect();
    for name in known.keys() {
        if !names.contains(name.as_str()) {
            out.push(Change::Gone(name.clone()));
        }
    }
    for s in now {
        match known.get(&s.name) {
            None => out.push(Change::New(s.clone())),
            Some(&(size, mtime)) if (size, mtime) != (s.size, s.mtime_ms) => {
                out.push(Change::Changed(s.clone()))
            }
            Some(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(name: &str, size: u64, mtime_ms: i64) -> Seen {
        Seen {
            name: name.into(),
            size,
            mtime_ms,
            is_dir: false,
        }
    }

    #[test]
    fn a_file_is_ready_after_two_equal_looks() {
        let mut s = Stability::default();
        assert!(s.ready(&[seen("a.torrent", 10, 1)]).is_empty());
        assert!(s.pending());
        // Still growing.
        assert!(s.ready(&[seen("a.torrent", 20, 2)]).is_empty());
        assert_eq!(s.ready(&[seen("a.torrent", 20, 2)]), vec!["a.torrent"]);
        assert!(!s.pending(), "a ready file is forgotten");
        // Gone before it settled: forgotten.
        s.ready(&[seen("b.magnet", 1, 1)]);
        s.ready(&[]);
        assert!(!s.pending());
    }

    #[test]
    fn diff_finds_new_changed_and_gone() {
        let known: BTreeMap<String, (u64, i64)> = [
            ("same".to_string(), (1, 1)),
            ("grown".to_string(), (1, 1)),
            ("deleted".to_string(), (1, 1)),
        ]
        .into();
        let now = [seen("same", 1, 1), seen("grown", 2, 3), seen("fresh", 5, 5)];
        let d = diff(&known, &now);
        assert!(d.contains(&Change::Gone("deleted".into())));
        assert!(d.contains(&Change::Changed(seen("grown", 2, 3))));
        assert!(d.contains(&Change::New(seen("fresh", 5, 5))));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn list_skips_hidden_entries_and_symlinks_and_sums_folders() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("a.bin"), b"12345").unwrap();
        std::fs::write(tmp.path().join(".hidden"), b"x").unwrap();
        std::fs::create_dir_all(tmp.path().join("sub/deeper")).unwrap();
        std::fs::write(tmp.path().join("sub/one"), b"123").unwrap();
        std::fs::write(tmp.path().join("sub/deeper/two"), b"1234").unwrap();
        std::os::unix::fs::symlink("/etc", tmp.path().join("link")).unwrap();
        let l = list(tmp.path(), true).unwrap();
        let names: Vec<_> = l.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a.bin", "sub"]);
        assert_eq!(l[0].size, 5);
        assert!(l[1].is_dir);
        assert_eq!(l[1].size, 7);
    }
}
