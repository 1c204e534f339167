//! `--only-files`, `--sequential`, `--first-last-piece` and `--ratio` of `download` and `seed`.
//!
//! File numbers are 1-based, as `torrentedge info` lists them (and as aria2's
//! `--select-file`): `--only-files 1,3-5` downloads those and skips every other file.

use anyhow::bail;
use engine::selection::{FilePriority, SelectionState};
use engine::status::TorrentStatus;

#[derive(clap::Args, Debug, Clone, Default)]
pub struct SelectArgs {
    /// Download only these files, numbered as `torrentedge info` lists them (from 1),
    /// e.g. 1,3-5. The others are skipped and not created.
    #[arg(long, value_name = "LIST")]
    pub only_files: Option<String>,
    /// Download pieces in order (to preview media while it downloads).
    #[arg(long)]
    pub sequential: bool,
    /// Fetch the first and last piece of every wanted file first (a player can read a media
    /// file's header and index early).
    #[arg(long)]
    pub first_last_piece: bool,
    /// Stop seeding once uploaded ÷ downloaded (or ÷ the wanted size, when nothing was
    /// downloaded) reaches R, and exit 0.
    #[arg(long, value_name = "R", value_parser = parse_ratio)]
    pub ratio: Option<f64>,
}

fn parse_ratio(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("{s:?} is not a positive ratio like 1.5")),
    }
}

impl SelectArgs {
    /// The engine selection; `num_files` (when known) bounds the file numbers.
    pub fn selection(&self, num_files: Option<usize>) -> anyhow::Result<SelectionState> {
        let mut priorities = Vec::new();
        if let Some(list) = &self.only_files {
            let Some(wanted) = app::types::parse_index_list(list) else {
                bail!("--only-files takes file numbers like 1,3-5 (see `torrentedge info`)");
            };
            if wanted.first() == Some(&0) {
                bail!("--only-files numbers files from 1, as `torrentedge info` lists them");
            }
            let last = *wanted.last().unwrap_or(&1);
            let n = match num_files {
                Some(n) if last > n => bail!("--only-files {last}: the torrent has {n} files"),
                Some(n) => n,
                // A magnet: the file count comes with the metadata; numbers past it do nothing.
                None => last,
            };
            priorities = (1..=n)
                .map(|i| {
                    if wanted.binary_search(&i).is_ok() {
                        FilePriority::Normal
                    } else {
                        FilePriority::Skip
                    }
                })
                .collect();
        }
        Ok(SelectionState {
            priorities,
            sequential: self.sequential,
            first_last: self.first_last_piece,
        })
    }

    /// Whether `--ratio` is given and `s` reached it.
    pub fn ratio_reached(&self, s: &TorrentStatus) -> bool {
        let Some(goal) = self.ratio else {
            return false;
        };
        let base = if s.downloaded > 0 {
            s.downloaded
        } else {
            s.wanted_bytes
        };
        base > 0 && s.uploaded as f64 / base as f64 >= goal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_is_one_based() {
        let a = SelectArgs {
            only_files: Some("1,3-4".into()),
            ..Default::default()
        };
        let sel = a.selection(Some(5)).unwrap();
        use FilePriority::*;
        assert_eq!(sel.priorities, vec![Normal, Skip, Normal, Normal, Skip]);
        assert!(a.selection(Some(3)).is_err(), "4 is past 3 files");
        let zero = SelectArgs {
            only_files: Some("0".into()),
            ..Default::default()
        };
        assert!(zero.selection(Some(3)).is_err());
        assert!(parse_ratio("0").is_err() && parse_ratio("1.5").is_ok());
    }
}
