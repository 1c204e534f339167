//! KRPC messages (BEP 5, with BEP 32's `nodes6`/`want`): a bounded parser over the
//! engine's bencode decoder and a canonical encoder.
//!
//! Every datagram comes from an untrusted address, so [`parse`] checks the packet size
//! before decoding, requires exact lengths for ids and hashes, caps transaction ids,
//! tokens and versions, and keeps at most [`MAX_NODES`] nodes and [`MAX_VALUES`] peers of
//! a response. It never panics and allocates at most a small multiple of the packet.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::bencode::{self, BencodeError, Value};

use super::node_id::NodeId;

/// Largest datagram accepted; anything bigger is dropped unparsed.
pub const MAX_PACKET: usize = 4096;
/// Longest transaction id accepted (libtorrent uses 2 bytes, others 4 to 8).
pub const MAX_TID: usize = 16;
/// Longest token accepted from a remote (ours are 8 bytes; libtorrent's 4).
pub const MAX_TOKEN: usize = 64;
/// Nodes kept per family from one response (BEP 5 sends 8).
pub const MAX_NODES: usize = 16;
/// Peers kept from one `values` list.
pub const MAX_VALUES: usize = 256;

/// KRPC error codes (BEP 5).
pub mod codes {
    pub const GENERIC: i64 = 201;
    pub const SERVER: i64 = 202;
    pub const PROTOCOL: i64 = 203;
    pub const METHOD_UNKNOWN: i64 = 204;
}

/// One KRPC message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Transaction id (at most [`MAX_TID`] bytes), echoed in the reply.
    pub tid: Vec<u8>,
    pub body: Body,
    /// The sender's client version (`v`), if short enough to be one.
    pub version: Option<Vec<u8>>,
    /// BEP 43 read-only node: it does not answer queries, so it never enters a table.
    pub read_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    Query(Query),
    Response(Response),
    Error { code: i64, message: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The querying node's id.
    pub id: NodeId,
    pub method: Method,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Method {
    Ping,
    FindNode {
        target: NodeId,
        want: Want,
    },
    GetPeers {
        info_hash: NodeId,
        want: Want,
    },
    AnnouncePeer {
        info_hash: NodeId,
        port: u16,
        implied_port: bool,
        token: Vec<u8>,
    },
    /// A method we do not know (answered with error 204).
    Unknown(String),
}

/// BEP 32 `want`: which node families the querier asks for. `None` = its own family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Want {
    pub explicit: bool,
    pub v4: bool,
    pub v6: bool,
}

/// A response's arguments; which of them are present depends on the query answered.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Response {
    pub id: NodeId,
    pub nodes: Option<Vec<CompactNode>>,
    pub nodes6: Option<Vec<CompactNode>>,
    pub values: Option<Vec<SocketAddr>>,
    pub token: Option<Vec<u8>>,
}

/// A node as carried in `nodes` (26 bytes) or `nodes6` (38 bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CompactNode {
    pub id: NodeId,
    pub addr: SocketAddr,
}

/// Why a datagram is not an acceptable KRPC message.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone)]
pub enum KrpcError {
    #[error("packet of {0} bytes is larger than {MAX_PACKET}")]
    TooLarge(usize),
    #[error("not bencode: {0}")]
    Bencode(#[from] BencodeError),
    #[error("not a dictionary")]
    NotADict,
    #[error("field `{0}` is missing")]
    Missing(&'static str),
    #[error("field `{0}` has the wrong type or length")]
    Invalid(&'static str),
    #[error("unknown message type")]
    UnknownType,
    /// A query we can still answer with error 203, since its transaction id is known.
    #[error("bad query argument `{field}`")]
    BadQuery { tid: Vec<u8>, field: &'static str },
}

/// Parses one datagram. Fuzz entry point: must never panic on any input.
pub fn parse(packet: &[u8]) -> Result<Message, KrpcError> {
    if packet.len() > MAX_PACKET {
        return Err(KrpcError::TooLarge(packet.len()));
    }
    let value = bencode::decode(packet)?;
    let dict = value.as_dict().ok_or(KrpcError::NotADict)?;
    let tid = bytes_field(dict, b"t", "t")?;
    if tid.len() > MAX_TID {
        return Err(KrpcError::Invalid("t"));
    }
    let tid = tid.to_vec();
    let version = dict
        .get(&b"v"[..])
        .and_then(Value::as_bytes)
        .filter(|v| v.len() <= 16)
        .map(<[u8]>::to_vec);
    let read_only = dict.get(&b"ro"[..]).and_then(Value::as_int) == Some(1);
    let body = match bytes_field(dict, b"y", "y")? {
        b"q" => Body::Query(parse_query(dict).map_err(|field| KrpcError::BadQuery {
            tid: tid.clone(),
            field,
        })?),
        b"r" => Body::Response(parse_response(dict)?),
        b"e" => parse_error(dict)?,
        _ => return Err(KrpcError::UnknownType),
    };
    Ok(Message {
        tid,
        body,
        version,
        read_only,
    })
}

type Dict = BTreeMap<Vec<u8>, Value>;

fn bytes_field<'a>(d: &'a Dict, key: &[u8], name: &'static str) -> Result<&'a [u8], KrpcError> {
    d.get(key)
        .ok_or(KrpcError::Missing(name))?
        .as_bytes()
        .ok_or(KrpcError::Invalid(name))
}

fn id_field(d: &Dict, key: &'static str) -> Result<NodeId, &'static str> {
    let b = d.get(key.as_bytes()).and_then(Value::as_bytes).ok_or(key)?;
    <[u8; 20]>::try_from(b).map(NodeId).map_err(|_| key)
}

fn parse_query(d: &Dict) -> Result<Query, &'static str> {
    let method = d.get(&b"q"[..]).and_then(Value::as_bytes).ok_or("q")?;
    let args = d.get(&b"a"[..]).and_then(Value::as_dict).ok_or("a")?;
    let id = id_field(args, "id")?;
    let want = || parse_want(args);
    let method = match method {
        b"ping" => Method::Ping,
        b"find_node" => Method::FindNode {
            target: id_field(args, "target")?,
            want: want(),
        },
        b"get_peers" => Method::GetPeers {
            info_hash: id_field(args, "info_hash")?,
            want: want(),
        },
        b"announce_peer" => {
            let implied_port = args
                .get(&b"implied_port"[..])
                .and_then(Value::as_int)
                .is_some_and(|i| i != 0);
            let port = args.get(&b"port"[..]).and_then(Value::as_int);
            let port = match (port, implied_port) {
                (Some(p), _) if (1..=65535).contains(&p) => p as u16,
                (_, true) => 0,
                _ => return Err("port"),
            };
            let token = args
                .get(&b"token"[..])
                .and_then(Value::as_bytes)
                .filter(|t| t.len() <= MAX_TOKEN)
                .ok_or("token")?;
            Method::AnnouncePeer {
                info_hash: id_field(args, "info_hash")?,
                port,
                implied_port,
                token: token.to_vec(),
            }
        }
        other => Method::Unknown(bounded_text(other, 32)),
    };
    Ok(Query { id, method })
}

fn parse_want(args: &Dict) -> Want {
    let Some(list) = args.get(&b"want"[..]).and_then(Value::as_list) else {
        return Want::default();
    };
    let mut w = Want {
        explicit: true,
        ..Want::default()
    };
    for item in list.iter().take(4) {
        match item.as_bytes() {
            Some(b"n4") => w.v4 = true,
            Some(b"n6") => w.v6 = true,
            _ => {}
        }
    }
    w
}

fn parse_response(d: &Dict) -> Result<Response, KrpcError> {
    let r = d
        .get(&b"r"[..])
        .ok_or(KrpcError::Missing("r"))?
        .as_dict()
        .ok_or(KrpcError::Invalid("r"))?;
    let id = id_field(r, "id").map_err(KrpcError::Invalid)?;
    let nodes = match r.get(&b"nodes"[..]) {
        None => None,
        Some(v) => Some(compact_nodes(
            v.as_bytes().ok_or(KrpcError::Invalid("nodes"))?,
            4,
        )),
    };
    let nodes6 = match r.get(&b"nodes6"[..]) {
        None => None,
        Some(v) => Some(compact_nodes(
            v.as_bytes().ok_or(KrpcError::Invalid("nodes6"))?,
            6,
        )),
    };
    let values = match r.get(&b"values"[..]) {
        None => None,
        Some(v) => {
            let list = v.as_list().ok_or(KrpcError::Invalid("values"))?;
            Some(
                list.iter()
                    .filter_map(Value::as_bytes)
                    .filter_map(compact_peer)
                    .take(MAX_VALUES)
                    .collect(),
            )
        }
    };
    let token = match r.get(&b"token"[..]) {
        None => None,
        Some(v) => {
            let t = v.as_bytes().ok_or(KrpcError::Invalid("token"))?;
            if t.len() > MAX_TOKEN {
                return Err(KrpcError::Invalid("token"));
            }
            Some(t.to_vec())
        }
    };
    Ok(Response {
        id,
        nodes,
        nodes6,
        values,
        token,
    })
}

fn parse_error(d: &Dict) -> Result<Body, KrpcError> {
    let e = d
        .get(&b"e"[..])
        .ok_or(KrpcError::Missing("e"))?
        .as_list()
        .ok_or(KrpcError::Invalid("e"))?;
    let code = e
        .first()
        .and_then(Value::as_int)
        .ok_or(KrpcError::Invalid("e"))?;
    let message = e
        .get(1)
        .and_then(Value::as_bytes)
        .map(|m| bounded_text(m, 200))
        .unwrap_or_default();
    Ok(Body::Error { code, message })
}

/// At most `max` characters of `b` as text (invalid UTF-8 replaced).
fn bounded_text(b: &[u8], max: usize) -> String {
    String::from_utf8_lossy(&b[..b.len().min(max * 4)])
        .chars()
        .take(max)
        .collect()
}

/// Nodes from a compact string (`family` 4: 26-byte entries, 6: 38-byte entries). A
/// trailing partial entry is ignored; port 0 entries are skipped; at most [`MAX_NODES`].
fn compact_nodes(b: &[u8], family: u8) -> Vec<CompactNode> {
    let size = if family == 4 { 26 } else { 38 };
    b.chunks_exact(size)
        .filter_map(|c| {
            let (id, addr) = c.split_at(20);
            let id = NodeId(<[u8; 20]>::try_from(id).ok()?);
            Some(CompactNode {
                id,
                addr: compact_peer(addr)?,
            })
        })
        .take(MAX_NODES)
        .collect()
}

/// A 6-byte (IPv4) or 18-byte (IPv6) address and port; `None` for other lengths or port 0.
pub fn compact_peer(b: &[u8]) -> Option<SocketAddr> {
    let (ip, port): (IpAddr, _) = match b.len() {
        6 => (Ipv4Addr::new(b[0], b[1], b[2], b[3]).into(), &b[4..]),
        18 => (
            Ipv6Addr::from(<[u8; 16]>::try_from(&b[..16]).ok()?).into(),
            &b[16..],
        ),
        _ => return None,
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    (port != 0).then_some(SocketAddr::new(ip, port))
}

/// Appends the compact form of `addr` (6 or 18 bytes).
pub fn push_compact_addr(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Compact node strings of one family (`nodes` or `nodes6`).
pub fn encode_nodes(nodes: &[CompactNode]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nodes.len() * 38);
    for n in nodes {
        out.extend_from_slice(&n.id.0);
        push_compact_addr(&n.addr, &mut out);
    }
    out
}

impl Message {
    /// A query message.
    pub fn query(tid: Vec<u8>, id: NodeId, method: Method) -> Message {
        Message {
            tid,
            body: Body::Query(Query { id, method }),
            version: None,
            read_only: false,
        }
    }

    /// A response message.
    pub fn response(tid: Vec<u8>, r: Response) -> Message {
        Message {
            tid,
            body: Body::Response(r),
            version: None,
            read_only: false,
        }
    }

    /// An error message.
    pub fn error(tid: Vec<u8>, code: i64, message: &str) -> Message {
        Message {
            tid,
            body: Body::Error {
                code,
                message: message.into(),
            },
            version: None,
            read_only: false,
        }
    }

    /// Canonical bencoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut top: Vec<(&str, Value)> = vec![("t", Value::bytes(self.tid.clone()))];
        if let Some(v) = &self.version {
            top.push(("v", Value::bytes(v.clone())));
        }
        if self.read_only {
            top.push(("ro", Value::Int(1)));
        }
        match &self.body {
            Body::Query(q) => {
                top.push(("y", "q".into()));
                let (name, args) = encode_method(q);
                top.push(("q", name.into()));
                top.push(("a", args));
            }
            Body::Response(r) => {
                top.push(("y", "r".into()));
                top.push(("r", encode_response(r)));
            }
            Body::Error { code, message } => {
                top.push(("y", "e".into()));
                top.push((
                    "e",
                    Value::List(vec![Value::Int(*code), message.as_str().into()]),
                ));
            }
        }
        bencode::encode(&Value::dict(top))
    }
}

fn encode_method(q: &Query) -> (&str, Value) {
    let mut args: Vec<(&str, Value)> = vec![("id", Value::bytes(q.id.0))];
    let want = |w: &Want, args: &mut Vec<(&str, Value)>| {
        if w.explicit {
            let mut l = Vec::new();
            if w.v4 {
                l.push("n4".into());
            }
            if w.v6 {
                l.push("n6".into());
            }
            args.push(("want", Value::List(l)));
        }
    };
    let name = match &q.method {
        Method::Ping => "ping",
        Method::FindNode { target, want: w } => {
            args.push(("target", Value::bytes(target.0)));
            want(w, &mut args);
            "find_node"
        }
        Method::GetPeers { info_hash, want: w } => {
            args.push(("info_hash", Value::bytes(info_hash.0)));
            want(w, &mut args);
            "get_peers"
        }
        Method::AnnouncePeer {
            info_hash,
            port,
            implied_port,
            token,
        } => {
            args.push(("info_hash", Value::bytes(info_hash.0)));
            args.push(("port", Value::Int(i64::from(*port))));
            args.push(("implied_port", Value::Int(i64::from(*implied_port))));
            args.push(("token", Value::bytes(token.clone())));
            "announce_peer"
        }
        Method::Unknown(name) => name.as_str(),
    };
    (name, Value::dict(args))
}

fn encode_response(r: &Response) -> Value {
    let mut d: Vec<(&str, Value)> = vec![("id", Value::bytes(r.id.0))];
    if let Some(n) = &r.nodes {
        d.push(("nodes", Value::bytes(encode_nodes(n))));
    }
    if let Some(n) = &r.nodes6 {
        d.push(("nodes6", Value::bytes(encode_nodes(n))));
    }
    if let Some(vals) = &r.values {
        let list = vals
            .iter()
            .map(|a| {
                let mut b = Vec::with_capacity(18);
                push_compact_addr(a, &mut b);
                Value::Bytes(b)
            })
            .collect();
        d.push(("values", Value::List(list)));
    }
    if let Some(t) = &r.token {
        d.push(("token", Value::bytes(t.clone())));
    }
    Value::dict(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn id(b: u8) -> NodeId {
        NodeId([b; 20])
    }

    fn round_trip(m: &Message) {
        assert_eq!(parse(&m.encode()).as_ref(), Ok(m), "{m:?}");
    }

    #[test]
    fn queries_round_trip() {
        round_trip(&Message::query(b"aa".to_vec(), id(1), Method::Ping));
        round_trip(&Message::query(
            b"ab".to_vec(),
            id(2),
            Method::FindNode {
                target: id(3),
                want: Want {
                    explicit: true,
                    v4: true,
                    v6: true,
                },
            },
        ));
        round_trip(&Message::query(
            vec![0, 1, 2, 3],
            id(2),
            Method::GetPeers {
                info_hash: id(9),
                want: Want::default(),
            },
        ));
        round_trip(&Message::query(
            b"x".to_vec(),
            id(2),
            Method::AnnouncePeer {
                info_hash: id(9),
                port: 6881,
                implied_port: true,
                token: b"tok".to_vec(),
            },
        ));
    }

    #[test]
    fn responses_and_errors_round_trip() {
        let n4 = CompactNode {
            id: id(7),
            addr: "127.0.0.1:6881".parse().unwrap(),
        };
        let n6 = CompactNode {
            id: id(8),
            addr: "[::1]:6882".parse().unwrap(),
        };
        round_trip(&Message::response(
            b"tt".to_vec(),
            Response {
                id: id(5),
                nodes: Some(vec![n4]),
                nodes6: Some(vec![n6]),
                values: Some(vec![
                    "10.0.0.1:1".parse().unwrap(),
                    "[::2]:2".parse().unwrap(),
                ]),
                token: Some(b"abcd".to_vec()),
            },
        ));
        round_trip(&Message::error(b"tt".to_vec(), codes::PROTOCOL, "bad"));
    }

    /// The example messages of BEP 5, byte for byte.
    #[test]
    fn parses_bep5_examples() {
        let ping = parse(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe").unwrap();
        assert_eq!(ping.tid, b"aa");
        assert_eq!(
            ping.body,
            Body::Query(Query {
                id: NodeId(*b"abcdefghij0123456789"),
                method: Method::Ping
            })
        );
        let ann = parse(b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe").unwrap();
        assert!(matches!(
            ann.body,
            Body::Query(Query {
                method: Method::AnnouncePeer {
                    port: 6881,
                    implied_port: true,
                    ..
                },
                ..
            })
        ));
        let err = parse(b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee").unwrap();
        assert_eq!(
            err.body,
            Body::Error {
                code: 201,
                message: "A Generic Error Ocurred".into()
            }
        );
        let values = parse(b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re").unwrap();
        let Body::Response(r) = values.body else {
            panic!("not a response")
        };
        assert_eq!(r.values.map(|v| v.len()), Some(2));
        assert_eq!(r.token.as_deref(), Some(&b"aoeusnth"[..]));
    }

    #[test]
    fn bad_queries_keep_their_transaction_id() {
        let e = parse(b"d1:ad2:id3:abce1:q4:ping1:t2:zz1:y1:qe").unwrap_err();
        assert_eq!(
            e,
            KrpcError::BadQuery {
                tid: b"zz".to_vec(),
                field: "id"
            }
        );
        let e = parse(b"d1:ad2:id20:abcdefghij0123456789e1:q13:announce_peer1:t2:zz1:y1:qe")
            .unwrap_err();
        assert!(matches!(e, KrpcError::BadQuery { field: "port", .. }));
        let unknown = parse(b"d1:ad2:id20:abcdefghij0123456789e1:q6:vote!!1:t2:zz1:y1:qe").unwrap();
        assert!(matches!(
            unknown.body,
            Body::Query(Query {
                method: Method::Unknown(ref m),
                ..
            }) if m == "vote!!"
        ));
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(
            parse(&vec![b'x'; MAX_PACKET + 1]),
            Err(KrpcError::TooLarge(MAX_PACKET + 1))
        );
        assert!(matches!(parse(b"d1:t2:aa"), Err(KrpcError::Bencode(_))));
        assert_eq!(parse(b"li1ee"), Err(KrpcError::NotADict));
        assert_eq!(parse(b"d1:y1:qe"), Err(KrpcError::Missing("t")));
        assert_eq!(parse(b"d1:ti1e1:y1:qe"), Err(KrpcError::Invalid("t")));
        assert_eq!(parse(b"d1:t2:aa1:y1:ze"), Err(KrpcError::UnknownType));
        assert_eq!(
            parse(b"d1:t17:aaaaaaaaaaaaaaaaa1:y1:re"),
            Err(KrpcError::Invalid("t"))
        );
        assert_eq!(parse(b"d1:t2:aa1:y1:re"), Err(KrpcError::Missing("r")));
        assert_eq!(
            parse(b"d1:rd2:id20:abcdefghij01234567895:nodesi3ee1:t2:aa1:y1:re"),
            Err(KrpcError::Invalid("nodes"))
        );
        assert!(parse(b"d1:eli201ee1:t2:aa1:y1:ee").is_ok());
        assert_eq!(parse(b"d1:ele1:t2:aa1:y1:ee"), Err(KrpcError::Invalid("e")));
    }

    #[test]
    fn compact_lists_are_bounded() {
        // 40 nodes plus a partial one, one with port 0: at most MAX_NODES kept.
        let mut nodes = Vec::new();
        for i in 0..40u8 {
            nodes.extend_from_slice(&[i; 20]);
            nodes.extend_from_slice(&[127, 0, 0, 1, 0, if i == 0 { 0 } else { i }]);
        }
        nodes.extend_from_slice(&[1; 10]);
        let parsed = compact_nodes(&nodes, 4);
        assert_eq!(parsed.len(), MAX_NODES);
        assert_eq!(parsed[0].id, id(1), "the port-0 entry is skipped");
        assert_eq!(compact_peer(&[1, 2, 3]), None);
        assert_eq!(compact_peer(&[1, 2, 3, 4, 0, 0]), None);
    }

    /// Random bytes and mutations of valid messages: never a panic.
    #[test]
    fn random_inputs_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0xd47);
        let seeds: [&[u8]; 3] = [
            b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
            b"d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789\x7f\0\0\x01\x1a\xe15:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
            b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
        ];
        for _ in 0..20_000 {
            let mut v = seeds[rng.random_range(0..seeds.len())].to_vec();
            for _ in 0..rng.random_range(1..4) {
                let i = rng.random_range(0..v.len());
                match rng.random_range(0..3) {
                    0 => v[i] = rng.random(),
                    1 => {
                        v.remove(i);
                    }
                    _ => v.truncate(i.max(1)),
                }
                if v.is_empty() {
                    break;
                }
            }
            if let Ok(m) = parse(&v) {
                // Whatever parses re-encodes to something that parses the same.
                assert_eq!(parse(&m.encode()), Ok(m));
            }
        }
    }
}
