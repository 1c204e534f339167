//! Search across TorrentEdge servers: this server's public catalog (`catalog`), the
//! federated servers' catalogs (`federation`, read through `wire`), matched by `query` and
//! merged by `rank`. The HTTP surfaces are `api::search` (`/api/search`, `/federation/catalog`)
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

/// A magnet link for `ih` with these peers (`x.pe`) and web seeds (`ws`).
pub fn magnet_uri(
    ih: &InfoHash,
    name: Option<&str>,
    peers: &[SocketAddr],
    web_seeds: &[String],
) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    if let Some(n) = name {
        q.append_pair("dn", n);
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
}

impl Search {
    pub fn new(settings: Settings) -> Result<Search, reqwest::Error> {
        Ok(Search {
            client: federation::client(settings.timeout)?,
            limiter: LoginLimiter::new(settings.rate_limit),
            settings,
        })
    }

    /// Searches this server's catalog and every federated server's at once.
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
        let outcomes = federation::ask_all(
            &self.client,
            &self.settings.peers,
            raw,
            self.settings.timeout,
        )
        .await;
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
        );
        let parsed = engine::magnet::Magnet::parse(&m).unwrap();
        assert_eq!(parsed.info_hash, ih);
        assert_eq!(parsed.name.as_deref(), Some("Café & co"));
        assert_eq!(parsed.peers.len(), 2);
        assert_eq!(parsed.web_seeds, ["http://a/ws/x/"]);
        assert_eq!(
            magnet_uri(&ih, None, &[], &[]),
            format!("magnet:?xt=urn:btih:{}", "ab".repeat(20))
        );
    }
}
