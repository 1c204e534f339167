//! Answers other nodes' queries: `ping`, `find_node`, `get_peers` (with a token) and
//! `announce_peer` (only with a valid token), each within a per-IP rate limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::krpc::{codes, Message, Method, Query, Response, Want};
use super::node_id::NodeId;
use super::peers_store::PeerStore;
use super::routing::{RoutingTable, K};
use super::tokens::Tokens;

/// What the query handler needs from the node.
pub struct Context<'a> {
    pub table: &'a RoutingTable,
    pub tokens: &'a Tokens,
    pub store: &'a mut PeerStore,
    /// Most peers put in one `values` list.
    pub max_values: usize,
    pub now: Instant,
}

/// The reply to `query` (transaction `tid`) from `from`.
pub fn answer(ctx: &mut Context<'_>, from: SocketAddr, tid: Vec<u8>, query: &Query) -> Message {
    let own = ctx.table.own_id();
    let base = Response {
        id: own,
        ..Response::default()
    };
    let resp = match &query.method {
        Method::Ping => base,
        Method::FindNode { target, want } => with_nodes(base, ctx.table, target, *want, from),
        Method::GetPeers { info_hash, want } => {
            let mut r = with_nodes(base, ctx.table, info_hash, *want, from);
            r.token = Some(ctx.tokens.make(from.ip()).to_vec());
            let peers = ctx.store.get(info_hash, from.is_ipv6(), ctx.max_values);
            if !peers.is_empty() {
                r.values = Some(peers);
            }
            r
        }
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
        } => {
            if !ctx.tokens.check(from.ip(), token) {
                return Message::error(tid, codes::PROTOCOL, "bad token");
            }
            let port = if *implied_port { from.port() } else { *port };
            ctx.store
                .announce(*info_hash, SocketAddr::new(from.ip(), port), ctx.now);
            base
        }
        Method::Unknown(_) => return Message::error(tid, codes::METHOD_UNKNOWN, "Method Unknown"),
    };
    Message::response(tid, resp)
}

/// Adds the K closest nodes of the families asked for (BEP 32 `want`; by default the
/// querier's own family).
fn with_nodes(
    mut r: Response,
    table: &RoutingTable,
    target: &NodeId,
    want: Want,
    from: SocketAddr,
) -> Response {
    let (v4, v6) = if want.explicit {
        (want.v4, want.v6)
    } else {
        (from.is_ipv4(), from.is_ipv6())
    };
    if v4 {
        r.nodes = Some(table.closest(target, K, false));
    }
    if v6 {
        r.nodes6 = Some(table.closest(target, K, true));
    }
    r
}

/// A token bucket per IP address: `rate` queries a second with bursts of `burst`. At most
/// `max_ips` addresses are tracked; when that many are active, new ones are refused.
pub struct RateLimiter {
    buckets: HashMap<IpAddr, (f64, Instant)>,
    rate: f64,
    burst: f64,
    max_ips: usize,
}

impl RateLimiter {
    pub fn new(rate: u32, burst: u32, max_ips: usize) -> Self {
        RateLimiter {
            buckets: HashMap::new(),
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            max_ips: max_ips.max(1),
        }
    }

    /// Whether a query from `ip` may be answered now (and takes one token if so).
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if !self.buckets.contains_key(&ip) && self.buckets.len() >= self.max_ips {
            self.prune(now);
            if self.buckets.len() >= self.max_ips {
                return false;
            }
        }
        let (tokens, last) = self.buckets.entry(ip).or_insert((self.burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets addresses whose bucket has refilled (they are indistinguishable from new).
    pub fn prune(&mut self, now: Instant) {
        let full_after = Duration::from_secs_f64(self.burst / self.rate);
        self.buckets
            .retain(|_, (_, last)| now.duration_since(*last) < full_after);
    }

    /// Addresses tracked.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dht::krpc::Body;

    struct Fixture {
        table: RoutingTable,
        tokens: Tokens,
        store: PeerStore,
        now: Instant,
    }

    impl Fixture {
        fn new() -> Self {
            let now = Instant::now();
            let own = NodeId([0; 20]);
            let mut table = RoutingTable::new(own, now);
            for i in 0..20u16 {
                let addr = SocketAddr::from(([127, 0, 0, 1], 7000 + i));
                table.heard_from(own.random_in_bucket(i.into()), addr, true, now);
            }
            let v6 = "[::1]:7000".parse().unwrap();
            table.heard_from(own.random_in_bucket(30), v6, true, now);
            Fixture {
                table,
                tokens: Tokens::new(now, Duration::from_secs(300)),
                store: PeerStore::new(10, 10, Duration::from_secs(60)),
                now,
            }
        }

        fn ask(&mut self, from: SocketAddr, method: Method) -> Message {
            let mut ctx = Context {
                table: &self.table,
                tokens: &self.tokens,
                store: &mut self.store,
                max_values: 50,
                now: self.now,
            };
            let q = Query {
                id: NodeId([9; 20]),
                method,
            };
            answer(&mut ctx, from, b"tx".to_vec(), &q)
        }
    }

    fn response(m: Message) -> Response {
        assert_eq!(m.tid, b"tx");
        match m.body {
            Body::Response(r) => r,
            other => panic!("not a response: {other:?}"),
        }
    }

    #[test]
    fn find_node_returns_k_nodes_of_the_asked_family() {
        let mut f = Fixture::new();
        let from: SocketAddr = "10.1.1.1:5000".parse().unwrap();
        let target = NodeId::random();
        let r = response(f.ask(
            from,
            Method::FindNode {
                target,
                want: Want::default(),
            },
        ));
        assert_eq!(r.nodes.map(|n| n.len()), Some(K));
        assert_eq!(r.nodes6, None);
        let both = Want {
            explicit: true,
            v4: true,
            v6: true,
        };
        let r = response(f.ask(from, Method::FindNode { target, want: both }));
        assert_eq!(r.nodes6.map(|n| n.len()), Some(1));
        assert_eq!(response(f.ask(from, Method::Ping)).id, NodeId([0; 20]));
    }

    #[test]
    fn announce_needs_the_token_from_get_peers() {
        let mut f = Fixture::new();
        let from: SocketAddr = "10.1.1.1:5000".parse().unwrap();
        let ih = NodeId([7; 20]);
        let r = response(f.ask(
            from,
            Method::GetPeers {
                info_hash: ih,
                want: Want::default(),
            },
        ));
        assert!(r.values.is_none());
        assert_eq!(r.nodes.map(|n| n.len()), Some(K));
        let token = r.token.expect("a token");
        // Wrong token, or the right token from another IP: refused.
        let bad = f.ask(
            from,
            Method::AnnouncePeer {
                info_hash: ih,
                port: 6881,
                implied_port: false,
                token: b"nope".to_vec(),
            },
        );
        assert!(matches!(
            bad.body,
            Body::Error {
                code: codes::PROTOCOL,
                ..
            }
        ));
        let other: SocketAddr = "10.1.1.2:5000".parse().unwrap();
        let stolen = f.ask(
            other,
            Method::AnnouncePeer {
                info_hash: ih,
                port: 6881,
                implied_port: false,
                token: token.clone(),
            },
        );
        assert!(matches!(stolen.body, Body::Error { .. }));
        // Right token, implied port: the UDP source port is stored.
        response(f.ask(
            from,
            Method::AnnouncePeer {
                info_hash: ih,
                port: 0,
                implied_port: true,
                token: token.clone(),
            },
        ));
        response(f.ask(
            from,
            Method::AnnouncePeer {
                info_hash: ih,
                port: 6881,
                implied_port: false,
                token,
            },
        ));
        let r = response(f.ask(
            other,
            Method::GetPeers {
                info_hash: ih,
                want: Want::default(),
            },
        ));
        let mut values = r.values.expect("values");
        values.sort();
        assert_eq!(
            values,
            vec![
                "10.1.1.1:5000".parse().unwrap(),
                "10.1.1.1:6881".parse().unwrap()
            ]
        );
        let unknown = f.ask(from, Method::Unknown("vote".into()));
        assert!(matches!(
            unknown.body,
            Body::Error {
                code: codes::METHOD_UNKNOWN,
                ..
            }
        ));
    }

    #[test]
    fn rate_limit_per_ip() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(10, 5, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let c: IpAddr = "10.0.0.3".parse().unwrap();
        assert_eq!((0..20).filter(|_| l.allow(a, t0)).count(), 5, "the burst");
        assert!(l.allow(b, t0), "another IP has its own bucket");
        assert!(!l.allow(c, t0), "no room to track a third IP");
        assert!(
            l.allow(a, t0 + Duration::from_millis(100)),
            "refilled at 10/s"
        );
        assert!(!l.allow(a, t0 + Duration::from_millis(100)));
        l.prune(t0 + Duration::from_secs(10));
        assert_eq!(l.tracked(), 0);
        assert!(l.allow(c, t0 + Duration::from_secs(10)));
    }
}
