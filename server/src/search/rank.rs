//! Merging the sources' answers: one result per info-hash listing every server that holds
//! it, ranked by how well the name matches, then by how many servers hold it, then seeds.
//! Remote entries are scored again here: a server cannot push a result the query does not
//! match.

use std::collections::HashMap;

use app::types::{Holder, SearchFile, SearchResult};

use super::query::Query;
use super::wire::CatalogItem;

/// Results kept at most.
pub const MAX_RESULTS: usize = 500;

/// One source's entries and how to reach it.
#[derive(Clone)]
pub struct Answer {
    /// `this server` or the peer's base URL.
    pub server: String,
    pub local: bool,
    /// Its BitTorrent address, when known.
    pub peer: Option<std::net::SocketAddr>,
    pub items: Vec<CatalogItem>,
}

pub fn merge(query: &Query, answers: Vec<Answer>) -> Vec<SearchResult> {
    let mut by_hash: HashMap<String, SearchResult> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for a in answers {
        for item in a.items {
            let paths = item.files.iter().map(|f| f.path.as_str());
            let Some(score) = query.score_torrent(&item.name, paths) else {
                continue;
            };
            let holder = Holder {
                server: a.server.clone(),
                local: a.local,
                peer: a.peer.map(|p| p.to_string()),
                web_seed: item.web_seed.clone().filter(|_| item.complete),
                complete: item.complete,
                trackers: item.trackers.clone(),
            };
            match by_hash.get_mut(&item.info_hash) {
                Some(r) => {
                    if !r.holders.iter().any(|h| h.server == holder.server) {
                        r.holders.push(holder);
                    }
                    r.seeders = r.seeders.max(item.seeders);
                }
                None => {
                    if by_hash.len() >= MAX_RESULTS {
                        continue;
                    }
                    order.push(item.info_hash.clone());
                    by_hash.insert(
                        item.info_hash.clone(),
                        SearchResult {
                            info_hash: item.info_hash,
                            name: item.name,
                            total_bytes: item.total_bytes,
                            file_count: item.file_count,
                            files: item
                                .files
                                .into_iter()
                                .map(|f| SearchFile {
                                    path: f.path,
                                    length: f.length,
                                })
                                .collect(),
                            seeders: item.seeders,
                            score,
                            holders: vec![holder],
                        },
                    );
                }
            }
        }
    }
    let mut out: Vec<SearchResult> = order
        .into_iter()
        .filter_map(|h| by_hash.remove(&h))
        .collect();
    // Stable: equal results keep the order of the sources (this server first).
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(b.holders.len().cmp(&a.holders.len()))
            .then(b.seeders.cmp(&a.seeders))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::wire::CatalogFile;

    fn item(hash: u8, name: &str, seeders: u32) -> CatalogItem {
        CatalogItem {
            info_hash: format!("{hash:02x}").repeat(20),
            name: name.into(),
            total_bytes: 10,
            file_count: 1,
            files: vec![CatalogFile {
                path: name.into(),
                length: 10,
            }],
            seeders,
            complete: true,
            web_seed: Some(format!("http://s/{hash}/")),
            magnet: None,
            trackers: Vec::new(),
        }
    }

    fn answer(server: &str, items: Vec<CatalogItem>) -> Answer {
        Answer {
            server: server.into(),
            local: server == "this server",
            peer: Some("127.0.0.1:6881".parse().unwrap()),
            items,
        }
    }

    #[test]
    fn duplicates_merge_with_every_holder() {
        let q = Query::parse("linux").unwrap();
        let out = merge(
            &q,
            vec![
                answer("this server", vec![item(1, "Linux ISO", 1)]),
                answer(
                    "http://a",
                    vec![item(1, "Linux ISO", 4), item(2, "linux notes", 0)],
                ),
                answer("http://b", vec![item(1, "Linux ISO", 2)]),
            ],
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].info_hash, "01".repeat(20));
        let servers: Vec<&str> = out[0].holders.iter().map(|h| h.server.as_str()).collect();
        assert_eq!(servers, ["this server", "http://a", "http://b"]);
        assert_eq!(out[0].seeders, 4);
        assert!(out[0].holders[0].local && !out[0].holders[1].local);
    }

    #[test]
    fn ranks_by_match_then_holders_then_seeds() {
        let q = Query::parse("port").unwrap();
        let out = merge(
            &q,
            vec![
                answer(
                    "http://a",
                    vec![item(1, "report", 9), item(2, "portable", 0)],
                ),
                answer(
                    "http://b",
                    vec![
                        item(3, "port", 0),
                        item(4, "ports", 1),
                        item(5, "ports b", 0),
                    ],
                ),
                answer("http://c", vec![item(5, "ports b", 0)]),
            ],
        );
        let names: Vec<&str> = out.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["port", "ports b", "ports", "portable", "report"]);
    }

    #[test]
    fn remote_entries_that_do_not_match_are_dropped() {
        let q = Query::parse("wanted").unwrap();
        let out = merge(&q, vec![answer("http://evil", vec![item(1, "spam", 100)])]);
        assert!(out.is_empty());
    }

    #[test]
    fn an_incomplete_holder_offers_no_web_seed() {
        let q = Query::parse("x").unwrap();
        let mut it = item(1, "x", 0);
        it.complete = false;
        let out = merge(&q, vec![answer("http://a", vec![it])]);
        assert_eq!(out[0].holders[0].web_seed, None);
    }
}
