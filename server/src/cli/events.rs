//! `torrentedge events`: prints the live event stream as one JSON line per event, for
//! scripts. From the API's `/api/events` with a login token (`{"id","event","data"}`), or,
//! with `--kafka` in a build with the `kafka` feature, every server's events from Kafka (the
//! message envelopes of docs/kafka.md).

use std::io::Write;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::StreamExt;
use serde_json::Value;

/// The longest event the reader accepts before giving up on the stream.
const MAX_EVENT: usize = 16 << 20;

#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Keep going: reconnect (resuming after the last event) when the stream ends.
    #[arg(long, short)]
    pub follow: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// The server (plain HTTP; run it on the server's host or behind your own TLS tunnel).
    #[arg(long, env = "TORRENTEDGE_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// A login token (`POST /api/auth/login`).
    #[arg(long, env = "TORRENTEDGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Read every server's events from Kafka (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, KAFKA_OPTION_*)
    /// instead of one server's API.
    #[arg(long)]
    pub kafka: bool,
    /// With --kafka: start from the oldest message the topics keep, not the newest.
    #[arg(long, requires = "kafka")]
    pub from_beginning: bool,
}

pub async fn events(args: EventsArgs) -> anyhow::Result<()> {
    if args.kafka {
        #[cfg(feature = "kafka")]
        return crate::kafka::follow::follow(args.count, args.from_beginning).await;
        #[cfg(not(feature = "kafka"))]
        bail!("--kafka needs a torrentedge built with `--features kafka`");
    }
    let token = args
        .token
        .clone()
        .context("a login token is needed: --token or TORRENTEDGE_TOKEN")?;
    let url = format!("{}/api/events", args.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let mut printer = Printer {
        left: args.count,
        last_id: None,
    };
    loop {
        let ended = printer.connection(&client, &url, &token).await?;
        if !args.follow || ended == Ended::Done {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[derive(PartialEq, Eq)]
enum Ended {
    /// `--count` events printed.
    Done,
    /// The server closed the stream (or it broke).
    Closed,
}

struct Printer {
    left: Option<u64>,
    last_id: Option<String>,
}

impl Printer {
    async fn connection(
        &mut self,
        client: &reqwest::Client,
        url: &str,
        token: &str,
    ) -> anyhow::Result<Ended> {
        let mut req = client.get(url).bearer_auth(token);
        if let Some(id) = &self.last_id {
            req = req.header("Last-Event-ID", id);
        }
        let res = match req.send().await {
            Ok(r) => r,
            Err(e) if self.last_id.is_some() => {
                tracing::warn!("reconnecting: {e}");
                return Ok(Ended::Closed);
            }
            Err(e) => return Err(e).with_context(|| format!("cannot reach {url}")),
        };
        let status = res.status();
        if !status.is_success() {
            let body = res.text().await.unwrap_or_default();
            bail!("{url}: {status}: {}", body.trim());
        }
        let mut body = res.bytes_stream();
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else {
                return Ok(Ended::Closed);
            };
            buf.extend_from_slice(&chunk);
            while let Some(end) = block_end(&buf) {
                let block: Vec<u8> = buf.drain(..end).collect();
                if self.print(&String::from_utf8_lossy(&block))? {
                    return Ok(Ended::Done);
                }
            }
            if buf.len() > MAX_EVENT {
                bail!("an event of more than {MAX_EVENT} bytes: not an event stream?");
            }
        }
        Ok(Ended::Closed)
    }

    /// Prints one event block; true once `--count` is reached.
    fn print(&mut self, block: &str) -> anyhow::Result<bool> {
        let Some(ev) = parse_block(block) else {
            return Ok(false);
        };
        if let Some(id) = &ev.id {
            self.last_id = Some(id.clone());
        }
        let line = serde_json::json!({
            "id": ev.id.as_deref().and_then(|i| i.parse::<u64>().ok()),
            "event": ev.event,
            "data": serde_json::from_str::<Value>(&ev.data).unwrap_or(Value::String(ev.data)),
        });
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        if let Some(left) = &mut self.left {
            *left = left.saturating_sub(1);
            return Ok(*left == 0);
        }
        Ok(false)
    }
}

/// End (exclusive) of the first complete event block, blank line included.
fn block_end(buf: &[u8]) -> Option<usize> {
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct SseEvent {
    id: Option<String>,
    event: String,
    data: String,
}

/// One block of the text/event-stream format; None for comments and keep-alives.
fn parse_block(block: &str) -> Option<SseEvent> {
    let (mut id, mut event, mut data) = (None, String::from("message"), None::<String>);
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (k, v) = line.split_once(':').unwrap_or((line, ""));
        let v = v.strip_prefix(' ').unwrap_or(v);
        match k {
            "id" => id = Some(v.to_owned()),
            "event" => event = v.to_owned(),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(v)
                }
                None => data = Some(v.to_owned()),
            },
            _ => {}
        }
    }
    data.map(|data| SseEvent { id, event, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_fields() {
        let buf = b": keep-alive\n\nid: 7\nevent: torrent:added\ndata: {\"a\":1}\n\nid: 8";
        let end = block_end(buf).unwrap();
        assert_eq!(parse_block(std::str::from_utf8(&buf[..end]).unwrap()), None);
        let rest = &buf[end..];
        let end2 = block_end(rest).unwrap();
        assert_eq!(
            parse_block(std::str::from_utf8(&rest[..end2]).unwrap()),
            Some(SseEvent {
                id: Some("7".into()),
                event: "torrent:added".into(),
                data: "{\"a\":1}".into()
            })
        );
        assert_eq!(block_end(&rest[end2..]), None, "an unfinished block waits");
        let multi = parse_block("data: a\ndata: b\r\n").unwrap();
        assert_eq!(
            (multi.event.as_str(), multi.data.as_str()),
            ("message", "a\nb")
        );
    }
}
