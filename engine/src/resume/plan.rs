//! What a start must hash, given the last resume record and the files as they are now.
//!
//! A piece set in the record's `have` was fsynced before it was recorded and is never written
//! again, so it is trusted while its files are long enough, except in a file that was whole
//! at the save and has changed since (someone else wrote to it). A piece not in `have` is
//! hashed only if its file changed (we may have verified and written it after the save, then
//! crashed) and its range holds data. A piece the record never checked is hashed.

use super::ResumeState;
use crate::storage::{FileStat, Layout};
use crate::Bitfield;

/// The outcome: pieces known good, and pieces to hash (a piece in neither is missing).
#[derive(Debug, PartialEq, Eq)]
pub struct CheckPlan {
    pub have: Bitfield,
    pub hash: Bitfield,
}

impl CheckPlan {
    /// No usable record: hash everything.
    pub fn full(num_pieces: u32) -> Self {
        CheckPlan {
            have: Bitfield::new(num_pieces as usize),
            hash: Bitfield::full(num_pieces as usize),
        }
    }
}

/// `has_data(piece)` tells whether any byte of the piece is more than a hole.
pub fn plan(
    saved: Option<&ResumeState>,
    layout: &Layout,
    now: &[Option<FileStat>],
    has_data: &dyn Fn(u32) -> bool,
) -> CheckPlan {
    let n = layout.num_pieces();
    let Some(saved) = saved.filter(|s| {
        s.have.len() == n as usize
            && s.files.len() == layout.num_files()
            && now.len() == s.files.len()
    }) else {
        return CheckPlan::full(n);
    };
    let changed: Vec<bool> = (0..now.len()).map(|f| now[f] != saved.files[f]).collect();
    let whole_at_save: Vec<bool> = (0..now.len())
        .map(|f| {
            layout
                .file_piece_range(f)
                .all(|p| saved.have.get(p as usize))
        })
        .collect();
    let mut out = CheckPlan {
        have: Bitfield::new(n as usize),
        hash: Bitfield::new(n as usize),
    };
    for p in 0..n {
        let i = p as usize;
        if !saved.checked.get(i) {
            out.hash.set(i);
            continue;
        }
        let mut segs = layout.segments(p, 0, layout.piece_len(p));
        if saved.have.get(i) {
            let intact = segs.all(|s| {
                let long_enough =
                    now[s.file_index].is_some_and(|st| st.size >= s.file_offset + u64::from(s.len));
                long_enough && !(changed[s.file_index] && whole_at_save[s.file_index])
            });
            if intact {
                out.have.set(i);
            } else {
                out.hash.set(i);
            }
        } else if segs.any(|s| changed[s.file_index]) && has_data(p) {
            out.hash.set(i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InfoHash;

    const PL: u32 = 16;

    fn stat(size: u64, mtime_ns: i64) -> Option<FileStat> {
        Some(FileStat { size, mtime_ns })
    }

    /// Files a (40 bytes: pieces 0..=2) and b (24 bytes: pieces 2..=3); piece 2 spans both.
    fn setup(have: &[usize]) -> (Layout, ResumeState) {
        let layout = Layout::new(PL, &[40, 24]).unwrap();
        let mut bits = Bitfield::new(4);
        for &p in have {
            bits.set(p);
        }
        let saved = ResumeState {
            info_hash: InfoHash([1; 20]),
            have: bits,
            checked: Bitfield::full(4),
            files: vec![stat(40, 100), stat(24, 200)],
            uploaded: 0,
            downloaded: 0,
        };
        (layout, saved)
    }

    fn ones(b: &Bitfield) -> Vec<usize> {
        b.iter_ones().collect()
    }

    #[test]
    fn unchanged_files_hash_nothing() {
        let (layout, saved) = setup(&[0, 3]);
        let now = saved.files.clone();
        let p = plan(Some(&saved), &layout, &now, &|_| {
            panic!("no data probe needed")
        });
        assert_eq!(ones(&p.have), vec![0, 3]);
        assert!(ones(&p.hash).is_empty());
    }

    #[test]
    fn after_a_crash_only_written_ranges_of_changed_files_are_hashed() {
        // Saved with piece 0; then piece 1 was verified and written (a's mtime moved), crash.
        let (layout, saved) = setup(&[0]);
        let now = vec![stat(40, 150), stat(24, 200)];
        let p = plan(Some(&saved), &layout, &now, &|piece| piece == 1);
        assert_eq!(ones(&p.have), vec![0], "recorded pieces are trusted");
        assert_eq!(
            ones(&p.hash),
            vec![1],
            "piece 2 is a hole, piece 3's file is unchanged"
        );
    }

    #[test]
    fn a_whole_file_changed_by_someone_else_is_rechecked() {
        let (layout, saved) = setup(&[0, 1, 2]);
        let now = vec![stat(40, 999), stat(24, 200)];
        let p = plan(Some(&saved), &layout, &now, &|_| true);
        assert!(ones(&p.have).is_empty());
        assert_eq!(ones(&p.hash), vec![0, 1, 2]);
    }

    #[test]
    fn truncated_or_missing_files_lose_their_pieces() {
        let (layout, saved) = setup(&[0, 1, 3]);
        let now = vec![stat(20, 100), None];
        let p = plan(Some(&saved), &layout, &now, &|_| false);
        assert_eq!(ones(&p.have), vec![0]);
        assert_eq!(ones(&p.hash), vec![1, 3], "hashing finds them missing");
    }

    #[test]
    fn an_interrupted_check_continues_where_it_stopped() {
        let (layout, mut saved) = setup(&[0]);
        saved.checked = Bitfield::new(4);
        saved.checked.set(0);
        saved.checked.set(1);
        let now = saved.files.clone();
        let p = plan(Some(&saved), &layout, &now, &|_| true);
        assert_eq!(ones(&p.have), vec![0]);
        assert_eq!(ones(&p.hash), vec![2, 3]);
    }

    #[test]
    fn no_or_foreign_shaped_record_means_a_full_check() {
        let (layout, mut saved) = setup(&[0]);
        let now = saved.files.clone();
        assert_eq!(plan(None, &layout, &now, &|_| true), CheckPlan::full(4));
        saved.files.pop();
        assert_eq!(
            plan(Some(&saved), &layout, &now, &|_| true),
            CheckPlan::full(4)
        );
    }
}
