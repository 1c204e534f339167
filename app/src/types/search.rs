//! Search across TorrentEdge servers: `GET /api/search`, `POST /api/search/add`.

use serde::{Deserialize, Serialize};

use super::AddOptions;

/// `GET /api/search?q=&servers=`: this server's public catalog and its federated servers',
/// merged and ranked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResponse {
    pub query: String,
    pub results: Vec<SearchResult>,
    /// Every source asked, in configuration order (this server first), with how it answered.
    pub servers: Vec<SourceStatus>,
    /// Sources not answered yet (the live stream's snapshots; 0 in a whole answer).
    #[serde(default)]
    pub pending: u32,
}

/// One torrent, however many servers hold it (merged by info-hash).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub info_hash: String,
    pub name: String,
    pub total_bytes: u64,
    pub file_count: u64,
    /// The first files (a catalog lists at most a bounded number per torrent).
    pub files: Vec<SearchFile>,
    /// The highest seed count any holder reports.
    pub seeders: u32,
    /// How well the name matches; higher first.
    pub score: u32,
    pub holders: Vec<Holder>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchFile {
    pub path: String,
    pub length: u64,
}

/// A server holding a result, and how to download from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
    /// `this server`, or the federated server's base URL.
    pub server: String,
    /// This server itself (the torrent is already here).
    pub local: bool,
    /// Its BitTorrent peer address (`IP:PORT`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Its BEP 19 web seed URL, when it has every file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_seed: Option<String>,
    pub complete: bool,
    /// Trackers that know its peers (a Nostr relay's entry names them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trackers: Vec<String>,
}

/// How a source answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    #[default]
    Ok,
    /// Asked, not answered yet (only in the live stream's snapshots).
    Pending,
    /// No whole answer within `FEDERATION_TIMEOUT_MS`.
    Timeout,
    /// Refused, unreachable, or an answer that is not a catalog.
    Error,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    pub server: String,
    pub local: bool,
    pub status: SourceState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Matching torrents it listed.
    pub results: u32,
    pub elapsed_ms: u64,
}

/// `POST /api/search/add`: a search result to download from every holder at once (a magnet
/// with each holder's peer as `x.pe` and web seed as `ws`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAdd {
    pub info_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `IP:PORT` of holders.
    #[serde(default)]
    pub peers: Vec<String>,
    /// Web seed URLs of holders.
    #[serde(default)]
    pub web_seeds: Vec<String>,
    /// Tracker URLs (`tr`) of holders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trackers: Vec<String>,
    #[serde(flatten)]
    pub options: AddOptions,
}

impl SearchAdd {
    /// The body that adds `r` from all its holders but this server.
    pub fn from_result(r: &SearchResult) -> SearchAdd {
        let remote = r.holders.iter().filter(|h| !h.local);
        SearchAdd {
            info_hash: r.info_hash.clone(),
            name: Some(r.name.clone()),
            peers: remote.clone().filter_map(|h| h.peer.clone()).collect(),
            web_seeds: remote.clone().filter_map(|h| h.web_seed.clone()).collect(),
            trackers: remote.fold(Vec::new(), |mut all, h| {
                for t in &h.trackers {
                    if !all.contains(t) {
                        all.push(t.clone());
                    }
                }
                all
            }),
            options: AddOptions::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_result_takes_every_remote_holders_sources() {
        let holder = |server: &str, local: bool, peer: Option<&str>, trackers: &[&str]| Holder {
            server: server.into(),
            local,
            peer: peer.map(str::to_owned),
            trackers: trackers.iter().map(|t| (*t).to_owned()).collect(),
            ..Default::default()
        };
        let r = SearchResult {
            info_hash: "ab".repeat(20),
            name: "x".into(),
            holders: vec![
                holder("this server", true, Some("127.0.0.1:1"), &["udp://local:1"]),
                holder("http://a", false, Some("127.0.0.1:2"), &[]),
                holder(
                    "nostr ws://r1/",
                    false,
                    None,
                    &["udp://t:1", "http://t:2/a"],
                ),
                holder("nostr ws://r2/", false, None, &["udp://t:1"]),
            ],
            ..Default::default()
        };
        let add = SearchAdd::from_result(&r);
        assert_eq!(add.peers, ["127.0.0.1:2"]);
        assert_eq!(add.trackers, ["udp://t:1", "http://t:2/a"]);
        let json = serde_json::to_value(&add).unwrap();
        assert_eq!(json["trackers"][1], "http://t:2/a");
    }
}
