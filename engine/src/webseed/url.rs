//! BEP 19 URL rules: a single-file torrent's URL is the file itself unless it ends in `/`;
//! otherwise (a folder URL, or any multi-file torrent) the torrent's name and the file's path
//! are appended, each component percent-encoded.

use std::path::Path;

use super::WebSeedError;
use crate::metainfo::Metainfo;

/// The URL of file `file` of `meta` on the web seed at `base`.
pub fn file_url(base: &url::Url, meta: &Metainfo, file: usize) -> Result<url::Url, WebSeedError> {
    let info = meta
        .files
        .get(file)
        .ok_or_else(|| WebSeedError::Url(format!("no file {file}")))?;
    // A file's path starts with the torrent's name; more than one component: multi-file.
    let parts = components(&info.path)?;
    if parts.len() == 1 && !base.path().ends_with('/') {
        return Ok(base.clone());
    }
    let mut url = base.clone();
    {
        let mut segs = url
            .path_segments_mut()
            .map_err(|_| WebSeedError::Url(format!("{base} cannot take a path")))?;
        segs.pop_if_empty();
        for p in &parts {
            segs.push(p);
        }
    }
    Ok(url)
}

fn components(path: &Path) -> Result<Vec<&str>, WebSeedError> {
    path.iter()
        .map(|c| {
            c.to_str()
                .ok_or_else(|| WebSeedError::Url(format!("{path:?} is not UTF-8")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metainfo::FileInfo;
    use std::path::PathBuf;

    fn meta(paths: &[&str]) -> Metainfo {
        Metainfo {
            info_hash: crate::InfoHash([0; 20]),
            info_bytes: Default::default(),
            name: paths[0].into(),
            piece_length: 16384,
            piece_hashes: vec![[0; 20]],
            files: paths
                .iter()
                .map(|p| FileInfo {
                    path: PathBuf::from(p),
                    length: 1,
                    offset: 0,
                })
                .collect(),
            total_length: paths.len() as u64,
            trackers: Vec::new(),
            private: false,
            comment: None,
            created_by: None,
            creation_date: None,
            web_seeds: Vec::new(),
        }
    }

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn single_file_rules() {
        let m = meta(&["movie.mkv"]);
        assert_eq!(
            file_url(&u("http://h/files/movie.mkv"), &m, 0)
                .unwrap()
                .as_str(),
            "http://h/files/movie.mkv"
        );
        assert_eq!(
            file_url(&u("http://h/files/"), &m, 0).unwrap().as_str(),
            "http://h/files/movie.mkv"
        );
    }

    #[test]
    fn multi_file_rules_and_encoding() {
        let m = meta(&["Album é", "Album é/cd 1/01 #a?.flac"]);
        let want = "http://h/pub/Album%20%C3%A9/cd%201/01%20%23a%3F.flac";
        assert_eq!(file_url(&u("http://h/pub/"), &m, 1).unwrap().as_str(), want);
        assert_eq!(file_url(&u("http://h/pub"), &m, 1).unwrap().as_str(), want);
        assert_eq!(
            file_url(&u("http://h/ws/k/?t=1"), &m, 1).unwrap().as_str(),
            "http://h/ws/k/Album%20%C3%A9/cd%201/01%20%23a%3F.flac?t=1",
            "a query (an access token) stays"
        );
        assert!(file_url(&u("http://h/"), &m, 9).is_err());
    }
}
