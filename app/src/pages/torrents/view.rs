//! Which torrents the list shows and in what order: filters and sort keys, from the query
//! string so a filtered list has a URL (and works without JavaScript).

use std::cmp::Ordering;

use crate::types::{TorrentState, TorrentSummary};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Size,
    Progress,
    State,
    Down,
    Up,
    Peers,
    Ratio,
    Eta,
    Priority,
    Added,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str, &'static str); 11] = [
        (SortKey::Name, "name", "Name"),
        (SortKey::Size, "size", "Size"),
        (SortKey::Progress, "progress", "Progress"),
        (SortKey::State, "state", "State"),
        (SortKey::Down, "down", "Down"),
        (SortKey::Up, "up", "Up"),
        (SortKey::Peers, "peers", "Peers"),
        (SortKey::Ratio, "ratio", "Ratio"),
        (SortKey::Eta, "eta", "ETA"),
        (SortKey::Priority, "priority", "Priority"),
        (SortKey::Added, "added", "Added"),
    ];

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL
            .iter()
            .find(|(_, k, _)| *k == s)
            .map(|(v, _, _)| *v)
    }

    pub fn as_str(self) -> &'static str {
        SortKey::ALL
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("added", |(_, k, _)| k)
    }

    /// Keys whose values change while torrents run: the list re-sorts on a timer for these.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            SortKey::Progress
                | SortKey::Down
                | SortKey::Up
                | SortKey::Peers
                | SortKey::Eta
                | SortKey::Ratio
                | SortKey::State
        )
    }

    fn compare(self, a: &TorrentSummary, b: &TorrentSummary) -> Ordering {
        let f = |x: f64, y: f64| x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        match self {
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Size => a.total_bytes.cmp(&b.total_bytes),
            SortKey::Progress => f(a.progress, b.progress),
            SortKey::State => a.state.cmp(&b.state),
            SortKey::Down => a.download_rate.cmp(&b.download_rate),
            SortKey::Up => a.upload_rate.cmp(&b.upload_rate),
            SortKey::Peers => a.peers.cmp(&b.peers),
            SortKey::Ratio => f(a.ratio, b.ratio),
            // Unknown ETAs last.
            SortKey::Eta => a
                .eta_secs
                .unwrap_or(u64::MAX)
                .cmp(&b.eta_secs.unwrap_or(u64::MAX)),
            // High first when ascending.
            SortKey::Priority => priority_rank(a).cmp(&priority_rank(b)),
            SortKey::Added => a.added_at.cmp(&b.added_at),
        }
    }
}

fn priority_rank(t: &TorrentSummary) -> u8 {
    match t.priority {
        crate::types::Priority::High => 0,
        crate::types::Priority::Normal => 1,
        crate::types::Priority::Low => 2,
    }
}

/// The state filter: a torrent state, or "completed"/"active".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateFilter {
    All,
    State(TorrentState),
    Completed,
    /// Moving data right now.
    Active,
}

impl StateFilter {
    pub fn parse(s: &str) -> StateFilter {
        match s {
            "completed" => StateFilter::Completed,
            "active" => StateFilter::Active,
            _ => TorrentState::parse(s).map_or(StateFilter::All, StateFilter::State),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::All => "",
            StateFilter::State(s) => s.as_str(),
            StateFilter::Completed => "completed",
            StateFilter::Active => "active",
        }
    }

    pub fn matches(self, t: &TorrentSummary) -> bool {
        match self {
            StateFilter::All => true,
            StateFilter::State(TorrentState::Queued) => matches!(
                t.state,
                TorrentState::Queued | TorrentState::Checking | TorrentState::FetchingMetadata
            ),
            StateFilter::State(s) => t.state == s,
            StateFilter::Completed => t.total_bytes > 0 && t.bytes_done == t.total_bytes,
            StateFilter::Active => t.download_rate > 0 || t.upload_rate > 0,
        }
    }
}

/// What the list shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ListView {
    pub text: String,
    pub state: StateFilter,
    pub sort: SortKey,
    pub desc: bool,
    /// Only this category (`Some("")`: torrents without one).
    pub category: Option<String>,
    /// Only torrents with this tag (`Some("")`: untagged ones).
    pub tag: Option<String>,
}

impl ListView {
    pub fn from_query(
        q: Option<String>,
        state: Option<String>,
        sort: Option<String>,
        dir: Option<String>,
    ) -> ListView {
        ListView {
            text: q.unwrap_or_default(),
            state: StateFilter::parse(state.as_deref().unwrap_or("")),
            sort: sort
                .as_deref()
                .and_then(SortKey::parse)
                .unwrap_or(SortKey::Added),
            desc: dir.as_deref() == Some("desc"),
            category: None,
            tag: None,
        }
    }

    /// The same view limited to a category and a tag (from `?category=&tag=`).
    /// `*` (the "all" choice of the list's filter form) is no filter.
    pub fn with_labels(self, category: Option<String>, tag: Option<String>) -> ListView {
        ListView {
            category: category.filter(|c| c != "*"),
            tag: tag.filter(|t| t != "*"),
            ..self
        }
    }

    /// The query string for this view (defaults left out).
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if !self.text.is_empty() {
            parts.push(format!("q={}", crate::format::url_encode(&self.text)));
        }
        if self.state != StateFilter::All {
            parts.push(format!("state={}", self.state.as_str()));
        }
        if self.sort != SortKey::Added {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.desc {
            parts.push("dir=desc".into());
        }
        if let Some(c) = &self.category {
            parts.push(format!("category={}", crate::format::url_encode(c)));
        }
        if let Some(t) = &self.tag {
            parts.push(format!("tag={}", crate::format::url_encode(t)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    pub fn matches(&self, t: &TorrentSummary) -> bool {
        let category_ok = match self.category.as_deref() {
            None => true,
            Some("") => t.category.is_none(),
            Some(c) => t.category.as_deref() == Some(c),
        };
        let tag_ok = match self.tag.as_deref() {
            None => true,
            Some("") => t.tags.is_empty(),
            Some(x) => t.tags.iter().any(|y| y == x),
        };
        category_ok
            && tag_ok
            && self.state.matches(t)
            && (self.text.is_empty() || {
                let needle = self.text.to_lowercase();
                t.name.to_lowercase().contains(&needle) || t.info_hash.starts_with(&needle)
            })
    }

    /// Sorts in place; ties keep the order they came in (the order torrents were added).
    pub fn sort(&self, rows: &mut [&TorrentSummary]) {
        rows.sort_by(|a, b| {
            let o = self.sort.compare(a, b);
            if self.desc {
                o.reverse()
            } else {
                o
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Priority;

    fn t(name: &str, state: TorrentState, rate: u64, done: u64) -> TorrentSummary {
        TorrentSummary {
            info_hash: format!("{:040x}", name.len()),
            name: name.into(),
            state,
            error: None,
            progress: done as f64 / 100.0,
            total_bytes: 100,
            bytes_done: done,
            download_rate: rate,
            upload_rate: 0,
            downloaded: 0,
            uploaded: 0,
            ratio: 0.0,
            peers: 0,
            seeds: 0,
            eta_secs: None,
            priority: Priority::Normal,
            save_path: String::new(),
            owner_id: 1,
            added_at: 0,
            completed_at: None,
            magnet_uri: None,
            id: 0,
            category: None,
            tags: Vec::new(),
            download_limit: 0,
            upload_limit: 0,
            sequential: false,
            first_last_piece: false,
            super_seeding: false,
            seconds_seeding: 0,
            goals: Default::default(),
            public: false,
        }
    }

    #[test]
    fn query_round_trips() {
        let v = ListView::from_query(
            Some("a b&c".into()),
            Some("seeding".into()),
            Some("down".into()),
            Some("desc".into()),
        );
        assert_eq!(
            v.to_query(),
            "?q=a%20b%26c&state=seeding&sort=down&dir=desc"
        );
        assert_eq!(v.state, StateFilter::State(TorrentState::Seeding));
        let d = ListView::from_query(None, Some("nonsense".into()), Some("bogus".into()), None);
        assert_eq!(d.to_query(), "");
    }

    #[test]
    fn filters_and_sorts() {
        let a = t("Alpha", TorrentState::Downloading, 5, 10);
        let b = t("beta", TorrentState::Seeding, 9, 100);
        let c = t("Gamma", TorrentState::Paused, 0, 50);
        let mut v = ListView::from_query(None, None, Some("down".into()), Some("desc".into()));
        let mut rows = vec![&a, &b, &c];
        v.sort(&mut rows);
        assert_eq!(
            rows.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["beta", "Alpha", "Gamma"]
        );
        v.sort = SortKey::Name;
        v.desc = false;
        v.sort(&mut rows);
        assert_eq!(
            rows.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["Alpha", "beta", "Gamma"]
        );
        v.text = "AMM".into();
        assert!(v.matches(&c) && !v.matches(&a));
        let done = ListView::from_query(None, Some("completed".into()), None, None);
        assert!(done.matches(&b) && !done.matches(&a));
        let active = ListView::from_query(None, Some("active".into()), None, None);
        assert!(active.matches(&a) && !active.matches(&c));
    }

    #[test]
    fn category_and_tag_filters() {
        let mut a = t("Alpha", TorrentState::Downloading, 5, 10);
        a.category = Some("tv shows".into());
        a.tags = vec!["hd".into()];
        let b = t("beta", TorrentState::Seeding, 9, 100);
        let v = ListView::from_query(None, None, None, None)
            .with_labels(Some("tv shows".into()), Some("hd".into()));
        assert_eq!(v.to_query(), "?category=tv%20shows&tag=hd");
        assert!(v.matches(&a) && !v.matches(&b));
        let none = ListView::from_query(None, None, None, None)
            .with_labels(Some(String::new()), Some(String::new()));
        assert!(none.matches(&b) && !none.matches(&a));
    }
}
