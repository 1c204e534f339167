//! Resume records on disk: `<dir>/<info-hash>.resume`, plus the previous generations
//! `.resume.1` and `.resume.2`. A write goes to a temporary file that is `fsync`ed and renamed
//! over the newest, and the folder is `fsync`ed, so a crash leaves either the old or the new
//! record whole; a newest record that still fails its checksum falls back to the one before.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::ResumeState;
use crate::InfoHash;

/// Generations kept besides the newest.
const OLDER: usize = 2;

#[derive(Clone, Debug)]
pub struct ResumeStore {
    dir: PathBuf,
}

impl ResumeStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ResumeStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, ih: &InfoHash, generation: usize) -> PathBuf {
        let name = match generation {
            0 => format!("{}.resume", ih.to_hex()),
            g => format!("{}.resume.{g}", ih.to_hex()),
        };
        self.dir.join(name)
    }

    /// The newest usable record for `ih`, if any.
    pub fn load(&self, ih: &InfoHash) -> Option<ResumeState> {
        for generation in 0..=OLDER {
            let path = self.path(ih, generation);
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    tracing::warn!(path = %path.display(), "resume record unreadable: {e}");
                    continue;
                }
            };
            match ResumeState::decode(&bytes) {
                Ok(s) if s.info_hash == *ih => return Some(s),
                Ok(_) => tracing::warn!(path = %path.display(), "resume record of another torrent"),
                Err(e) => tracing::warn!(path = %path.display(), "resume record unusable: {e}"),
            }
        }
        None
    }

    /// Writes `state` as the newest record, keeping the previous ones.
    pub fn save(&self, state: &ResumeState) -> io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let ih = &state.info_hash;
        let tmp = self.dir.join(format!("{}.resume.tmp", ih.to_hex()));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&state.encode())?;
            f.sync_all()?;
        }
        for generation in (0..OLDER).rev() {
            match fs::rename(self.path(ih, generation), self.path(ih, generation + 1)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        fs::rename(&tmp, self.path(ih, 0))?;
        File::open(&self.dir)?.sync_all()
    }

    /// Forgets `ih` (the torrent was removed).
    pub fn remove(&self, ih: &InfoHash) {
        for generation in 0..=OLDER {
            let _ = fs::remove_file(self.path(ih, generation));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(up: u64) -> ResumeState {
        let mut s = super::super::tests::sample();
        s.uploaded = up;
        s
    }

    #[test]
    fn newest_wins_and_a_torn_newest_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResumeStore::new(dir.path().join("r"));
        let ih = state(0).info_hash;
        assert_eq!(store.load(&ih), None);
        for up in 1..=5 {
            store.save(&state(up)).unwrap();
        }
        assert_eq!(store.load(&ih).unwrap().uploaded, 5);
        assert_eq!(
            fs::read_dir(store.dir()).unwrap().count(),
            3,
            "newest and two older generations, no temporary file"
        );

        // A torn newest record: the previous generation is used.
        let newest = store.path(&ih, 0);
        let bytes = fs::read(&newest).unwrap();
        fs::write(&newest, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(store.load(&ih).unwrap().uploaded, 4);
        // Garbage in both newer ones: the oldest.
        fs::write(store.path(&ih, 1), b"junk").unwrap();
        assert_eq!(store.load(&ih).unwrap().uploaded, 3);

        store.remove(&ih);
        assert_eq!(store.load(&ih), None);
        assert_eq!(fs::read_dir(store.dir()).unwrap().count(), 0);
    }

    #[test]
    fn a_record_under_another_name_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let store = ResumeStore::new(dir.path());
        let s = state(1);
        store.save(&s).unwrap();
        let other = InfoHash([9; 20]);
        fs::copy(store.path(&s.info_hash, 0), store.path(&other, 0)).unwrap();
        assert_eq!(store.load(&other), None);
    }
}
