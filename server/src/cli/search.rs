//! `torrentedge search WORDS...`: asks a server's `/api/search` (with a login token: its
//! catalog and every server it is federated with) or, with `--federation-token`, only its
//! `/federation/catalog`, and prints a table or `--json`.

use std::time::Duration;

use anyhow::{bail, Context};
use app::types::{SearchResponse, SearchResult, SourceState};

use crate::search::query::Query;
use crate::search::rank::{self, Answer};
use crate::search::wire;

#[derive(clap::Args, Debug)]
pub struct SearchArgs {
    /// Words of the name, in any order (case and accents do not matter).
    #[arg(required = true, value_name = "WORDS")]
    pub words: Vec<String>,
    /// The server (plain HTTP; run it on the server's host or behind your own TLS tunnel).
    #[arg(long, env = "TORRENTEDGE_URL", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// A login token (`POST /api/auth/login`): search through the server's `/api/search`.
    #[arg(long, env = "TORRENTEDGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The server's FEDERATION_TOKEN: read its public catalog only, without logging in
    /// (used when no login token is given).
    #[arg(long, env = "FEDERATION_TOKEN", hide_env_values = true)]
    pub federation_token: Option<String>,
    /// Print the answer as JSON (the API's `SearchResponse`).
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

pub async fn search(args: SearchArgs) -> anyhow::Result<()> {
    let raw = args.words.join(" ");
    let query = Query::parse(&raw).context("no word to search for")?;
    let base = args.server.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(args.timeout.max(1)))
        .build()?;
    let answer = match (&args.token, &args.federation_token) {
        (Some(token), _) => {
            let body = get(client.get(format!("{base}/api/search")).query(&[("q", &raw)]), token).await?;
            serde_json::from_slice::<SearchResponse>(&body)
                .context("the server's answer is not a search result")?
        }
        (None, Some(token)) => {
            let req = client
                .get(format!("{base}/federation/catalog"))
                .query(&[("q", raw.as_str()), ("per_page", "200")]);
            let page = wire::parse(&get(req, token).await?)?;
            let results = rank::merge(
                &query,
                vec![Answer {
                    server: base.to_owned(),
                    local: false,
                    peer: None,
                    items: page.items,
                }],
            );
            SearchResponse {
                query: raw.clone(),
                results,
                ..Default::default()
            }
        }
        (None, None) => bail!(
            "a token is needed: --token (a login token) or --federation-token (the server's FEDERATION_TOKEN)"
        ),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print!("{}", table(&answer));
    }
    Ok(())
}

async fn get(req: reqwest::RequestBuilder, token: &str) -> anyhow::Result<Vec<u8>> {
    let res = req
        .bearer_auth(token)
        .send()
        .await
        .context("cannot reach the server")?;
    let status = res.status();
    let body = res.bytes().await?;
    if body.len() > wire::MAX_BODY {
        bail!("the answer is over {} bytes", wire::MAX_BODY);
    }
    if !status.is_success() {
        bail!("{status}: {}", String::from_utf8_lossy(&body).trim());
    }
    Ok(body.to_vec())
}

/// The results as aligned columns, then how each server answered.
fn table(a: &SearchResponse) -> String {
    let mut out = String::new();
    if a.results.is_empty() {
        out.push_str("no results\n");
    } else {
        let width = a
            .results
            .iter()
            .map(|r| r.name.chars().count().min(60))
            .max()
            .unwrap_or(4)
            .max(4);
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>5}  {:<40}  SERVERS\n",
            "NAME", "SIZE", "SEEDS", "INFO-HASH"
        ));
        for r in &a.results {
            out.push_str(&row(r, width));
        }
    }
    for s in &a.servers {
        let state = match s.status {
            SourceState::Ok => format!("ok, {} results", s.results),
            SourceState::Pending => "no answer yet".into(),
            SourceState::Timeout => "timed out".into(),
            SourceState::Error => "error".into(),
        };
        let msg = s
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "# {}: {state} ({} ms){msg}\n",
            s.server, s.elapsed_ms
        ));
    }
    out
}

fn row(r: &SearchResult, width: usize) -> String {
    let name: String = r.name.chars().take(60).collect();
    let servers: Vec<&str> = r.holders.iter().map(|h| h.server.as_str()).collect();
    format!(
        "{name:<width$}  {:>10}  {:>5}  {:<40}  {}\n",
        app::format::bytes(r.total_bytes),
        r.seeders,
        r.info_hash,
        servers.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::types::{Holder, SourceStatus};

    #[test]
    fn table_lists_results_and_servers() {
        let a = SearchResponse {
            query: "x".into(),
            results: vec![SearchResult {
                info_hash: "ab".repeat(20),
                name: "Café".into(),
                total_bytes: 2048,
                seeders: 2,
                holders: vec![Holder {
                    server: "http://a:1".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            servers: vec![SourceStatus {
                server: "http://slow".into(),
                status: SourceState::Timeout,
                ..Default::default()
            }],
            pending: 0,
        };
        let t = table(&a);
        assert!(t.starts_with("NAME"), "{t}");
        assert!(t.contains("Café") && t.contains("http://a:1") && t.contains(&"ab".repeat(20)));
        assert!(t.contains("# http://slow: timed out"), "{t}");
    }
}
