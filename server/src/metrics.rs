//! `/metrics` in the Prometheus text format: HTTP request counts (counted by a middleware),
//! event counters, and engine figures computed at scrape time.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use app::types::TorrentState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → count.
    http: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    fn count_request(&self, method: &str, route: &str, status: u16) {
        let mut map = self.http.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((method.to_owned(), route.to_owned(), status))
            .or_insert(0) += 1;
    }
}

/// The method as a label: the standard ones by name, anything else as `other`, so a client
/// sending random method names cannot grow the counter map (and memory) without end.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    let known: [(Method, &'static str); 9] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::HEAD, "HEAD"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PATCH, "PATCH"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    known
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, name)| name)
}

/// Middleware: counts every request by method, matched route and status.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let res = next.run(req).await;
    state
        .metrics
        .count_request(method, &route, res.status().as_u16());
    res
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text; `dht` is the DHT node's counters (no DHT lines without a node).
pub fn render(state: &AppState, dht: Option<&engine::dht::DhtStats>) -> String {
    let mut out = String::with_capacity(4096);
    let snapshot = state.library.snapshot();
    let (mut down, mut up, mut downloaded, mut uploaded, mut peers) =
        (0u64, 0u64, 0u64, 0u64, 0usize);
    let mut by_state: BTreeMap<&'static str, usize> =
        TorrentState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    for (_, s) in &snapshot {
        down += s.download_rate;
        up += s.upload_rate;
        downloaded += s.downloaded;
        uploaded += s.uploaded;
        peers += s.peers;
        *by_state.entry(s.state.as_str()).or_insert(0) += 1;
    }
    let mut gauge = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    };
    gauge(
        "torrentedge_download_rate_bytes",
        "Current download rate, all torrents (bytes/s).",
        "gauge",
        down.to_string(),
    );
    gauge(
        "torrentedge_upload_rate_bytes",
        "Current upload rate, all torrents (bytes/s).",
        "gauge",
        up.to_string(),
    );
    gauge(
        "torrentedge_downloaded_bytes_total",
        "Payload bytes downloaded by current torrents over their lifetime.",
        "counter",
        downloaded.to_string(),
    );
    gauge(
        "torrentedge_uploaded_bytes_total",
        "Payload bytes uploaded by current torrents over their lifetime.",
        "counter",
        uploaded.to_string(),
    );
    gauge(
        "torrentedge_peers",
        "Connected peers.",
        "gauge",
        peers.to_string(),
    );
    let (down_limit, up_limit) = state.library.session().rate_limits();
    gauge(
        "torrentedge_download_limit_bytes",
        "Server-wide download limit in force (bytes/s, 0 = none).",
        "gauge",
        down_limit.to_string(),
    );
    gauge(
        "torrentedge_upload_limit_bytes",
        "Server-wide upload limit in force (bytes/s, 0 = none).",
        "gauge",
        up_limit.to_string(),
    );
    gauge(
        "torrentedge_alt_speed_enabled",
        "1 while the alternative speed limits are in force.",
        "gauge",
        u8::from(state.speed.settings().alt_enabled).to_string(),
    );
    if let Some(d) = dht {
        gauge(
            "torrentedge_dht_nodes",
            "Nodes in the DHT routing table.",
            "gauge",
            d.nodes.to_string(),
        );
        gauge(
            "torrentedge_dht_good_nodes",
            "DHT routing-table nodes known to be alive.",
            "gauge",
            d.good_nodes.to_string(),
        );
    }
    gauge(
        "torrentedge_events_published_total",
        "Events published to /api/events.",
        "counter",
        state.hub.published().to_string(),
    );
    gauge(
        "torrentedge_events_dropped_total",
        "Events lost by a lagging consumer (engine bus or a slow stream).",
        "counter",
        state.hub.dropped().to_string(),
    );
    gauge(
        "torrentedge_event_streams",
        "Connected /api/events streams.",
        "gauge",
        state.streams.total().to_string(),
    );
    gauge(
        "torrentedge_uptime_seconds",
        "Seconds since the server started.",
        "gauge",
        state.started.elapsed().as_secs().to_string(),
    );
    if let Some(kafka) = &state.kafka {
        kafka.status.render_metrics(&mut out);
    }
    let _ = writeln!(
        out,
        "# HELP torrentedge_torrents Torrents by state.\n# TYPE torrentedge_torrents gauge"
    );
    for (s, n) in by_state {
        let _ = writeln!(out, "torrentedge_torrents{{state=\"{s}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP torrentedge_http_requests_total HTTP requests by method, route and status.\n# TYPE torrentedge_http_requests_total counter");
    let http = state
        .metrics
        .http
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for ((method, route, status), n) in http {
        let _ = writeln!(
            out,
            "torrentedge_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
            escape(&method),
            escape(&route)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let metrics = Metrics::default();
        for i in 0..1000 {
            let m = Method::from_bytes(format!("RANDOM{i}").as_bytes()).unwrap();
            metrics.count_request(method_label(&m), "unmatched", 404);
        }
        let map = metrics.http.lock().unwrap();
        assert_eq!(map.len(), 1, "one series for every unknown method");
        assert_eq!(
            map[&("other".to_owned(), "unmatched".to_owned(), 404)],
            1000
        );
    }
}
