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

    /// Searches this server's catalog, every federated server's and every relay at once.
    pub async fn run(&self, lib: &Library, q: &Query, raw: &str) -> SearchResponse {
        let started = Instant::now();
        let local_items: Vec<_> = catalog::matching(lib.public_torrents(), Some(q))
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
        let mut answers = vec![rank::Answer {
            server: LOCAL.into(),
            local: true,
            peer: None,
            items: local_items,
        }];
        let relays = self
            .nostr
            .as_ref()
            .map(|n| n.relays.as_slice())
            .unwrap_or(&[]);
        let (outcomes, relay_outcomes) = tokio::join!(
            federation::ask_all(
                &self.client,
                &self.settings.peers,
                raw,
                self.settings.timeout
            ),
            async {
                match &self.nostr {
                    Some(n) => {
                        crate::nostr::search::ask_all(
                            &self.client,
                            &n.info,
                            relays,
                            raw,
                            self.settings.timeout,
                        )
                        .await
                    }
                    None => Vec::new(),
                }
            }
        );
        for o in outcomes {
            let items = o.page.map(|p| p.items).unwrap_or_default();
            servers.push(SourceStatus {
                server: o.peer.url.clone(),
                local: false,
                status: o.state,
                message: o.message,
                results: items.len() as u32,
                elapsed_ms: o.elapsed.as_millis() as u64,
            });
            answers.push(rank::Answer {
                server: o.peer.url,
                local: false,
                peer: o.peer_addr,
                items,
            });
        }
        for o in relay_outcomes {
            let name = nostr_source(&o.relay);
            servers.push(SourceStatus {
                server: name.clone(),
                local: false,
                status: o.state,
                message: o.message,
                results: o.items.len() as u32,
                elapsed_ms: o.elapsed.as_millis() as u64,
            });
            answers.push(rank::Answer {
                server: name,
                local: false,
                peer: None,
                items: o.items,
            });
        }
        SearchResponse {
            query: raw.to_owned(),
            results: rank::merge(q, answers),
            servers,
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
