//! The tracker's HTTP adapter (BEP 3, BEP 23 compact peers, BEP 7 `peers6`, BEP 48 scrape):
//! `GET /announce`, `GET /scrape`, and the same with a passkey as the last path segment
//! (`/announce/KEY`) or in the query (`?passkey=KEY`).
//!
//! Every refusal is a bencoded `failure reason` with status 200, which is what clients read.
//! The peer's address is the connection's, or, behind a `TRUSTED_PROXIES` proxy, the one
//! it wrote into `X-Forwarded-For` (the server's rule for every client address).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::bencode::Writer;
use super::query::{self, Passkey};
use super::store::{Announce, Reply};
use super::Tracker;
use crate::auth::client_ip::{self, IpNet};

#[derive(Clone)]
struct Http {
    tracker: Arc<Tracker>,
    trusted: Arc<[IpNet]>,
}

/// The four routes, with their own state (merged into the server's router).
pub fn router(tracker: Arc<Tracker>, trusted: &[IpNet]) -> Router {
    Router::new()
        .route("/announce", get(announce))
        .route("/announce/{passkey}", get(announce))
        .route("/scrape", get(scrape))
        .route("/scrape/{passkey}", get(scrape))
        .with_state(Http {
            tracker,
            trusted: trusted.into(),
        })
}

fn reply(body: Vec<u8>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}

fn failure(reason: impl std::fmt::Display) -> Response {
    reply(Writer::failure(&reason.to_string()))
}

/// The passkey of the path (`/announce/KEY`), which wins over the query's.
fn path_passkey(req: &Request) -> Result<Option<Passkey>, &'static str> {
    let path = req.uri().path();
    let rest = path
        .strip_prefix("/announce/")
        .or_else(|| path.strip_prefix("/scrape/"));
    match rest {
        None => Ok(None),
        Some(k) => Passkey::parse(k.as_bytes())
            .map(Some)
            .ok_or("invalid passkey"),
    }
}

fn peer_ip(req: &Request, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if trusted.is_empty() {
        return canonical(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    canonical(client_ip::client_ip(peer, forwarded, trusted))
}

/// IPv4-mapped IPv6 addresses count as IPv4 (a dual-stack listener reports them so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

async fn announce(State(s): State<Http>, req: Request) -> Response {
    let path_key = match path_passkey(&req) {
        Ok(k) => k,
        Err(e) => return failure(e),
    };
    let q = match query::parse_announce(req.uri().query().unwrap_or("").as_bytes()) {
        Ok(q) => q,
        Err(e) => return failure(e),
    };
    let passkey = path_key.or(q.passkey);
    let a = Announce {
        info_hash: q.info_hash,
        peer_id: q.peer_id,
        addr: SocketAddr::new(peer_ip(&req, &s.trusted), q.port),
        left: q.left,
        event: q.event,
        numwant: q.numwant,
    };
    match s
        .tracker
        .announce(&a, passkey.as_ref().map(|k| k.as_str().as_bytes()))
    {
        Ok(r) => reply(encode_announce(&s.tracker, &r, q.compact, q.no_peer_id)),
        Err(e) => failure(e),
    }
}

/// `complete`, `incomplete`, `interval`, `min interval` and the peers, keys in order.
fn encode_announce(t: &Tracker, r: &Reply, compact: bool, no_peer_id: bool) -> Vec<u8> {
    let interval = t.settings.interval.as_secs() as i64;
    let mut w = Writer::with_capacity(96 + 6 * r.peers4.len() + 18 * r.peers6.len());
    w.dict()
        .bytes(b"complete")
        .int(i64::from(r.counts.seeders))
        .bytes(b"downloaded")
        .int(i64::from(r.counts.completed))
        .bytes(b"incomplete")
        .int(i64::from(r.counts.leechers))
        .bytes(b"interval")
        .int(interval)
        .bytes(b"min interval")
        .int((interval / 2).max(1))
        .bytes(b"peers");
    if compact {
        w.bytes_header(6 * r.peers4.len());
        for (_, a) in &r.peers4 {
            push_compact(&mut w.0, a);
        }
        if !r.peers6.is_empty() {
            w.bytes(b"peers6").bytes_header(18 * r.peers6.len());
            for (_, a) in &r.peers6 {
                push_compact(&mut w.0, a);
            }
        }
    } else {
        w.list();
        for (id, a) in r.peers4.iter().chain(&r.peers6) {
            w.dict().bytes(b"ip").bytes(a.ip().to_string().as_bytes());
            if !no_peer_id {
                w.bytes(b"peer id").bytes(id);
            }
            w.bytes(b"port").int(i64::from(a.port())).end();
        }
        w.end();
    }
    w.end();
    w.0
}

fn push_compact(out: &mut Vec<u8>, a: &SocketAddr) {
    match a.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&a.port().to_be_bytes());
}

async fn scrape(State(s): State<Http>, req: Request) -> Response {
    let path_key = match path_passkey(&req) {
        Ok(k) => k,
        Err(e) => return failure(e),
    };
    let (hashes, query_key) = match query::parse_scrape(req.uri().query().unwrap_or("").as_bytes())
    {
        Ok(v) => v,
        Err(e) => return failure(e),
    };
    let passkey = path_key.or(query_key);
    let counts = match s
        .tracker
        .scrape(&hashes, passkey.as_ref().map(|k| k.as_str().as_bytes()))
    {
        Ok(c) => c,
        Err(e) => return failure(e),
    };
    // `files` keys are the raw hashes, which must be in byte order.
    let mut rows: Vec<_> = hashes.iter().zip(&counts).collect();
    rows.sort_by_key(|(h, _)| **h);
    let mut w = Writer::with_capacity(16 + 80 * rows.len());
    w.dict().bytes(b"files").dict();
    for (h, c) in rows {
        w.bytes(h)
            .dict()
            .bytes(b"complete")
            .int(i64::from(c.seeders))
            .bytes(b"downloaded")
            .int(i64::from(c.completed))
            .bytes(b"incomplete")
            .int(i64::from(c.leechers))
            .end();
    }
    w.end().end();
    reply(w.0)
}
