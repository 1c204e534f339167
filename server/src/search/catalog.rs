//! This server's public catalog: its public torrents as catalog entries, filtered by a query
//! and cut into pages. Nothing but what the owner chose to publish is ever listed.

use engine::InfoHash;

use super::query::Query;
use super::wire::{CatalogFile, CatalogItem, CatalogPage, CatalogServer, MAX_FILES, MAX_ITEMS};
use crate::torrents::public::PublicTorrent;

/// Page numbers start at 1; `per_page` is clamped to `1..=MAX_ITEMS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub per_page: u32,
}

impl Paging {
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Paging {
        Paging {
            page: page.unwrap_or(1).max(1),
            per_page: per_page.unwrap_or(50).clamp(1, MAX_ITEMS as u32),
        }
    }
}

/// The entry of `t`; `web_seed` gives its web seed URL (asked only when it is complete).
pub fn item(t: &PublicTorrent, web_seed: impl Fn(&InfoHash) -> Option<String>) -> CatalogItem {
    let ws = if t.complete {
        web_seed(&t.info_hash)
    } else {
        None
    };
    CatalogItem {
        info_hash: t.info_hash.to_hex(),
        name: t.name.clone(),
        total_bytes: t.total_bytes,
        file_count: t.files.len() as u64,
        files: t
            .files
            .iter()
            .take(MAX_FILES)
            .map(|(path, length)| CatalogFile {
                path: path.clone(),
                length: *length,
            })
            .collect(),
        seeders: t.seeders,
        complete: t.complete,
        magnet: Some(super::magnet_uri(
            &t.info_hash,
            Some(&t.name),
            &[],
            ws.as_slice(),
            &[],
        )),
        web_seed: ws,
        trackers: Vec::new(),
    }
}

/// The torrents matching `query` (all without one), best match first (newest first without
/// a query).
pub fn matching(torrents: Vec<PublicTorrent>, query: Option<&Query>) -> Vec<PublicTorrent> {
    let Some(q) = query else {
        let mut all = torrents;
        all.sort_by_key(|t| std::cmp::Reverse(t.added_ms));
        return all;
    };
    let mut scored: Vec<(u32, PublicTorrent)> = torrents
        .into_iter()
        .filter_map(|t| {
            let paths = t.files.iter().map(|(p, _)| p.as_str());
            q.score_torrent(&t.name, paths).map(|s| (s, t))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.added_ms.cmp(&a.1.added_ms)));
    scored.into_iter().map(|(_, t)| t).collect()
}

/// One page of the matching torrents.
pub fn page(
    matching: &[PublicTorrent],
    paging: Paging,
    server: CatalogServer,
    web_seed: impl Fn(&InfoHash) -> Option<String>,
) -> CatalogPage {
    let skip = (paging.page as usize - 1).saturating_mul(paging.per_page as usize);
    CatalogPage {
        server,
        total: matching.len() as u64,
        page: paging.page,
        per_page: paging.per_page,
        items: matching
            .iter()
            .skip(skip)
            .take(paging.per_page as usize)
            .map(|t| item(t, &web_seed))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(i: u8, name: &str, complete: bool) -> PublicTorrent {
        PublicTorrent {
            info_hash: InfoHash([i; 20]),
            name: name.into(),
            total_bytes: 100,
            files: (0..MAX_FILES + 3)
                .map(|f| (format!("{name}/f{f}"), 1))
                .collect(),
            seeders: 1,
            complete,
            added_ms: i64::from(i),
            trackers: Vec::new(),
            comment: None,
        }
    }

    #[test]
    fn pages_and_filters() {
        let all = vec![
            t(1, "Alpha one", true),
            t(2, "beta", false),
            t(3, "alpha two", true),
        ];
        let q = Query::parse("ALPHA").unwrap();
        let m = matching(all.clone(), Some(&q));
        assert_eq!(m.len(), 2);
        let ws = |ih: &InfoHash| Some(format!("http://h/ws/{}/", ih.to_hex()));
        let p = page(
            &m,
            Paging::new(Some(2), Some(1)),
            CatalogServer::default(),
            ws,
        );
        assert_eq!((p.total, p.page, p.per_page, p.items.len()), (2, 2, 1, 1));
        assert_eq!(p.items[0].name, "Alpha one");
        assert_eq!(p.items[0].files.len(), MAX_FILES);
        assert_eq!(p.items[0].file_count, (MAX_FILES + 3) as u64);
        assert!(p.items[0].web_seed.is_some());
        let beyond = page(&m, Paging::new(Some(9), None), CatalogServer::default(), ws);
        assert!(beyond.items.is_empty());
        let none = matching(all.clone(), None);
        assert_eq!(none[0].name, "alpha two", "newest first");
        let incomplete = page(&none, Paging::new(None, None), CatalogServer::default(), ws);
        assert_eq!(
            incomplete.items[1].web_seed, None,
            "only complete ones seed over HTTP"
        );
    }

    #[test]
    fn paging_is_clamped() {
        assert_eq!(
            Paging::new(Some(0), Some(0)),
            Paging {
                page: 1,
                per_page: 1
            }
        );
        assert_eq!(Paging::new(None, Some(u32::MAX)).per_page, MAX_ITEMS as u32);
        let p = page(
            &[t(1, "a", true)],
            Paging::new(Some(u32::MAX), Some(200)),
            CatalogServer::default(),
            |_| None,
        );
        assert!(p.items.is_empty());
    }
}
