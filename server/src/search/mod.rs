//! Search across TorrentEdge servers: this server's public catalog (`catalog`), the
//! federated servers' catalogs (`federation`, read through `wire`) and Nostr relays' torrent
//! events (`crate::nostr::search`), matched by `query` and merged by `rank`. The HTTP surfaces are `api::search` (`/api/search`, `/federation/catalog`)
//! and `torrentedge search`.

pub mod catalog;
pub mod federation;
pub mod query;
pub mod rank;
pub mod wire;

use std::net::SocketAddr;
use std::time::Instant;

use futures_util::future::BoxFuture;
use futures_util::stream::{FuturesUnordered, StreamExt};

use app::types::{SearchResponse, SourceState, SourceStatus};
use engine::InfoHash;

use crate::auth::ratelimit::LoginLimiter;
use crate::torrents::Library;
use federation::Settings;
use query::Query;

/// The name this server goes by among a search's sources.
pub const LOCAL: &str = "this server";

/// The name a Nostr relay goes by among a search's sources and holders.
pub fn nostr_source(relay: &str) -> String {
    format!("nostr {relay}")
}

/// A magnet link for `ih` with these peers (`x.pe`), web seeds (`ws`) and trackers (`tr`).
pub fn magnet_uri(
    ih: &InfoHash,
    name: Option<&str>,
    peers: &[SocketAddr],
    web_seeds: &[String],
    trackers: &[String],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = name {
        q.append_pair("dn", n);
    }
    for t in trackers {
        q.append_pair("tr", t);
    }
    for w in web_seeds {
        q.append_pair("ws", w);
    }
    for p in peers {
        q.append_pair("x.pe", &p.to_string());
    }
    let rest = q.finish();
    let sep = if rest.is_empty() { "" } else { "&" };
    format!("magnet:?xt=urn:btih:{}{sep}{rest}", ih.to_hex())
}

/// What the search surfaces share: settings, the outgoing client, the catalog's limiter.
pub struct Search {
    pub settings: Settings,
    client: reqwest::Client,
    /// `/federation/catalog` requests per client address.
    pub limiter: LoginLimiter,
    /// The Nostr relays, when `NOSTR_RELAYS` is set.
    pub nostr: Option<std::sync::Arc<crate::nostr::Nostr>>,
}

impl Search {
    pub fn new(
        settings: Settings,
        nostr: Option<std::sync::Arc<crate::nostr::Nostr>>,
    ) -> Result<Search, reqwest::Error> {
        Ok(Search {
            client: federation::client(settings.timeout)?,
            limiter: LoginLimiter::new(settings.rate_limit),
            settings,
            nostr,
        })
    }

    /// Starts a search of this server's catalog (answered at once), every federated
    /// server's and every relay's (asked in parallel, each under the federation timeout).
    pub fn start(&self, lib: &Library, q: Query, raw: &str) -> Progress {
        let started = Instant::now();
        let local_items: Vec<_> = catalog::matching(lib.public_torrents(), Some(&q))
            .iter()
            .take(wire::MAX_ITEMS)
            .map(|t| catalog::item(t, |_| None))
            .collect();
        let mut servers = vec![SourceStatus {
            server: LOCAL.into(),
            local: true,
            status: SourceState::Ok,
            message: None,
            results: local_items.len() as u32,
            elapsed_ms: started.elapsed().as_millis() as u64,
        }];
        let answers = vec![Some(rank::Answer {
            server: LOCAL.into(),
            local: true,
            peer: None,
            items: local_items,
        })];
        let asked = FuturesUnordered::new();
        let timeout = self.settings.timeout;
        for peer in &self.settings.peers {
            servers.push(pending(&peer.url));
            let (index, client, peer, raw) = (
                servers.len() - 1,
                self.client.clone(),
                peer.clone(),
                raw.to_owned(),
            );
            asked.push(Box::pin(async move {
                let o = federation::ask(&client, &peer, &raw, timeout).await;
                let items = o.page.map(|p| p.items).unwrap_or_default();
                Answered {
                    index,
                    status: answered(o.peer.url.clone(), o.state, o.message, &items, o.elapsed),
                    answer: rank::Answer {
                        server: o.peer.url,
                        local: false,
                        peer: o.peer_addr,
                        items,
                    },
                }
            }) as BoxFuture<'static, Answered>);
        }
        for (nostr, relay) in self
            .nostr
            .iter()
            .flat_map(|n| n.relays.iter().map(move |r| (n.clone(), r.clone())))
        {
            let name = nostr_source(relay.as_str());
            servers.push(pending(&name));
            let (index, client, raw) = (servers.len() - 1, self.client.clone(), raw.to_owned());
            asked.push(Box::pin(async move {
                let o =
                    crate::nostr::search::ask(&client, &nostr.info, &relay, &raw, timeout).await;
                Answered {
                    index,
                    status: answered(name.clone(), o.state, o.message, &o.items, o.elapsed),
                    answer: rank::Answer {
                        server: name,
                        local: false,
                        peer: None,
                        items: o.items,
                    },
                }
            }) as BoxFuture<'static, Answered>);
        }
        let mut answers = answers;
        answers.resize(servers.len(), None);
        Progress {
            query: q,
            raw: raw.to_owned(),
            servers,
            answers,
            asked,
        }
    }

    /// Searches every source and answers once all have answered or timed out.
    pub async fn run(&self, lib: &Library, q: Query, raw: &str) -> SearchResponse {
        let mut p = self.start(lib, q, raw);
        while p.next().await {}
        p.snapshot()
    }
}

fn pending(server: &str) -> SourceStatus {
    SourceStatus {
        server: server.to_owned(),
        status: SourceState::Pending,
        ..Default::default()
    }
}

fn answered(
    server: String,
    status: SourceState,
    message: Option<String>,
    items: &[wire::CatalogItem],
    elapsed: std::time::Duration,
) -> SourceStatus {
    SourceStatus {
        server,
        local: false,
        status,
        message,
        results: items.len() as u32,
        elapsed_ms: elapsed.as_millis() as u64,
    }
}

/// One source's answer, for its place among the sources.
struct Answered {
    index: usize,
    status: SourceStatus,
    answer: rank::Answer,
}

/// A search under way: what has answered so far and the sources still asked. Sources keep
/// their configured order (this server first) whatever order they answer in.
pub struct Progress {
    query: Query,
    raw: String,
    servers: Vec<SourceStatus>,
    /// Each source's answer in its place (holders are listed in source order, whatever
    /// order the answers came in).
    answers: Vec<Option<rank::Answer>>,
    asked: FuturesUnordered<BoxFuture<'static, Answered>>,
}

impl Progress {
    /// Waits for the next source to answer (or time out); false once none is left.
    pub async fn next(&mut self) -> bool {
        let Some(a) = self.asked.next().await else {
            return false;
        };
        if let Some(slot) = self.servers.get_mut(a.index) {
            *slot = a.status;
        }
        if let Some(slot) = self.answers.get_mut(a.index) {
            *slot = Some(a.answer);
        }
        true
    }

    /// The results merged and ranked so far, with every source's state.
    pub fn snapshot(&self) -> SearchResponse {
        SearchResponse {
            query: self.raw.clone(),
            results: rank::merge(
                &self.query,
                self.answers.iter().flatten().cloned().collect(),
            ),
            servers: self.servers.clone(),
            pending: self.asked.len() as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magnets_carry_every_holder() {
        let ih = InfoHash([0xab; 20]);
        let m = magnet_uri(
            &ih,
            Some("Café & co"),
            &["127.0.0.1:1".parse().unwrap(), "[::1]:2".parse().unwrap()],
            &["http://a/ws/x/".into()],
            &["udp://t.example:1/announce".into()],
        );
        let parsed = engine::magnet::Magnet::parse(&m).unwrap();
        assert_eq!(parsed.info_hash, ih);
        assert_eq!(parsed.name.as_deref(), Some("Café & co"));
        assert_eq!(parsed.peers.len(), 2);
        assert_eq!(parsed.web_seeds, ["http://a/ws/x/"]);
        assert_eq!(parsed.trackers, ["udp://t.example:1/announce"]);
        assert_eq!(
            magnet_uri(&ih, None, &[], &[], &[]),
            format!("magnet:?xt=urn:btih:{}", "ab".repeat(20))
        );
    }
}
