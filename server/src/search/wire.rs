//! The federation catalog's JSON (`GET /federation/catalog`), written by this server and
//! read from others. What another server sends is untrusted: [`parse`] bounds the body, the
//! entries and every string, and drops entries that are not plausible rather than failing
//! the whole answer. Depends on serde only, so `fuzz/` compiles this file as it is.

use serde::{Deserialize, Serialize};

/// The largest catalog answer read from another server.
pub const MAX_BODY: usize = 4 << 20;
/// Entries per page at most (also the largest `per_page` this server serves).
pub const MAX_ITEMS: usize = 200;
/// Files listed per entry at most (an entry also gives its full `fileCount`).
pub const MAX_FILES: usize = 50;
const MAX_NAME: usize = 1024;
const MAX_PATH: usize = 4096;
const MAX_URL: usize = 2048;

/// One page of a server's public catalog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPage {
    pub server: CatalogServer,
    /// Matching entries on every page.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub items: Vec<CatalogItem>,
}

/// How to reach the answering server's peers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogServer {
    /// Its BitTorrent listen port (on the host the catalog was fetched from).
    pub peer_port: u16,
    #[serde(default)]
    pub version: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogItem {
    /// 40 lower-case hex digits.
    pub info_hash: String,
    pub name: String,
    #[serde(default)]
    pub total_bytes: u64,
    #[serde(default)]
    pub file_count: u64,
    #[serde(default)]
    pub files: Vec<CatalogFile>,
    #[serde(default)]
    pub seeders: u32,
    /// The server has every piece.
    #[serde(default)]
    pub complete: bool,
    /// BEP 19 web seed URL (only when complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_seed: Option<String>,
    /// A magnet link to it on this server (informative; readers build their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub magnet: Option<String>,
    /// Tracker URLs to find its peers by (Nostr entries carry them; servers send none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trackers: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogFile {
    pub path: String,
    pub length: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    TooLarge(usize),
    TooManyItems(usize),
    Json(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::TooLarge(n) => write!(f, "answer of {n} bytes is over {MAX_BODY}"),
            WireError::TooManyItems(n) => {
                write!(f, "{n} entries on one page (at most {MAX_ITEMS})")
            }
            WireError::Json(e) => write!(f, "not a catalog: {e}"),
        }
    }
}

impl std::error::Error for WireError {}

/// Reads another server's answer: bounded, and every kept entry plausible (a 40-hex
/// info-hash, a non-empty name without control characters, bounded paths, an http(s) web
/// seed). Implausible entries are dropped; files beyond [`MAX_FILES`] are cut.
pub fn parse(body: &[u8]) -> Result<CatalogPage, WireError> {
    if body.len() > MAX_BODY {
        return Err(WireError::TooLarge(body.len()));
    }
    let mut page: CatalogPage =
        serde_json::from_slice(body).map_err(|e| WireError::Json(short(&e.to_string())))?;
    if page.items.len() > MAX_ITEMS {
        return Err(WireError::TooManyItems(page.items.len()));
    }
    page.items.retain_mut(plausible);
    Ok(page)
}

fn short(s: &str) -> String {
    s.chars().take(200).collect()
}

fn plausible(item: &mut CatalogItem) -> bool {
    let hex = item.info_hash.len() == 40
        && item
            .info_hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b.to_ascii_lowercase()));
    if !hex || !clean(&item.name, MAX_NAME) {
        return false;
    }
    item.info_hash.make_ascii_lowercase();
    item.files.truncate(MAX_FILES);
    item.files
        .retain(|f| clean(&f.path, MAX_PATH) && f.length <= item.total_bytes);
    item.file_count = item.file_count.max(item.files.len() as u64);
    if item.web_seed.as_deref().is_some_and(|u| !web_url(u)) {
        item.web_seed = None;
    }
    item.trackers.truncate(MAX_TRACKERS);
    item.trackers.retain(|u| tracker_url(u));
    if item
        .magnet
        .as_deref()
        .is_some_and(|m| m.len() > MAX_URL * 4)
    {
        item.magnet = None;
    }
    true
}

fn clean(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && !s.chars().any(char::is_control)
}

/// Trackers kept per entry at most.
pub const MAX_TRACKERS: usize = 16;

fn tracker_url(u: &str) -> bool {
    u.len() <= MAX_URL
        && ["http://", "https://", "udp://"]
            .iter()
            .any(|p| u.starts_with(p))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn web_url(u: &str) -> bool {
    u.len() <= MAX_URL
        && (u.starts_with("http://") || u.starts_with("https://"))
        && !u.chars().any(|c| c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(ih: &str, name: &str) -> serde_json::Value {
        serde_json::json!({
            "infoHash": ih, "name": name, "totalBytes": 10, "fileCount": 1,
            "files": [{"path": name, "length": 10}], "seeders": 1, "complete": true,
            "webSeed": "http://a:1/ws/x/y/"
        })
    }

    fn page(items: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "server": {"peerPort": 6881}, "total": items.len(), "page": 1, "perPage": 50,
            "items": items
        }))
        .unwrap()
    }

    #[test]
    fn keeps_plausible_entries_and_drops_the_rest() {
        let body = page(vec![
            item(&"AB".repeat(20), "Good"),
            item("abc", "short hash"),
            item(&"cd".repeat(20), ""),
            item(&"ef".repeat(20), "bell\u{7}"),
            item(&"zz".repeat(20), "not hex"),
        ]);
        let p = parse(&body).unwrap();
        assert_eq!(p.server.peer_port, 6881);
        assert_eq!(p.items.len(), 1);
        assert_eq!(p.items[0].info_hash, "ab".repeat(20));
        assert_eq!(p.items[0].web_seed.as_deref(), Some("http://a:1/ws/x/y/"));
    }

    #[test]
    fn refuses_huge_malformed_and_crowded_answers() {
        assert!(matches!(
            parse(&vec![b' '; MAX_BODY + 1]),
            Err(WireError::TooLarge(_))
        ));
        assert!(matches!(parse(b"{\"server\":"), Err(WireError::Json(_))));
        assert!(matches!(parse(b"[]"), Err(WireError::Json(_))));
        let many = page(
            (0..=MAX_ITEMS)
                .map(|_| item(&"ab".repeat(20), "x"))
                .collect(),
        );
        assert!(matches!(parse(&many), Err(WireError::TooManyItems(_))));
    }

    #[test]
    fn bad_web_seeds_and_too_many_files_are_cut() {
        let mut it = item(&"ab".repeat(20), "x");
        it["webSeed"] = "file:///etc/passwd".into();
        it["files"] = (0..MAX_FILES + 10)
            .map(|i| serde_json::json!({"path": format!("f{i}"), "length": 1}))
            .collect();
        it["fileCount"] = 3.into();
        let p = parse(&page(vec![it])).unwrap();
        assert_eq!(p.items[0].web_seed, None);
        assert_eq!(p.items[0].files.len(), MAX_FILES);
        assert_eq!(p.items[0].file_count, MAX_FILES as u64);
    }
}
