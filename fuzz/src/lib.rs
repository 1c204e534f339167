//! One function per fuzz target: each feeds arbitrary bytes to a parser of outside input and
//! checks what must hold for any input (no panic, bounded work, round-trips where they exist).
//!
//! `fuzz_targets/*.rs` hand these to libFuzzer (`make fuzz`); `tests/corpus.rs` runs every
//! seed and every saved crash input through them as a plain test, so CI needs no nightly.

use bytes::BytesMut;
use engine::bencode;
use engine::metainfo::Metainfo;
use engine::tracker;
use engine::wire::{Codec, Handshake, Message, HANDSHAKE_LEN};
use engine::Bitfield;

/// A fuzz target: takes any bytes, panics only on a bug.
pub type Target = fn(&[u8]);

/// Every target by name: the names of `fuzz_targets/` and of the `corpus/` folders.
pub const TARGETS: &[(&str, Target)] = &[
    ("bencode", bencode),
    ("metainfo", metainfo),
    ("wire_frames", wire_frames),
    ("handshake", handshake),
    ("tracker_http", tracker_http),
    ("tracker_udp", tracker_udp),
    ("extended", extended),
    ("krpc", krpc),
    ("magnet", magnet),
    ("http_range", http_range),
    ("tracker_announce_query", tracker_announce_query),
    ("tracker_udp_server", tracker_udp_server),
    ("mse_respond", mse_respond),
    ("web_seed_content_range", web_seed_content_range),
    ("watch_magnet_file", watch_magnet_file),
    ("federation_catalog", federation_catalog),
    ("lsd_message", lsd_message),
    ("natpmp_reply", natpmp_reply),
    ("ssdp_reply", ssdp_reply),
    ("igd_description", igd_description),
    ("nostr_relay_message", nostr_relay_message),
    ("utp_packet", utp_packet),
];

/// The server's `Range` parser, compiled in from its source file (the server is a binary
/// crate; the parser has no dependencies).
#[path = "../../server/src/api/range.rs"]
mod range;

/// `Range` headers from HTTP clients, on a resource whose length is the first 8 bytes: an
/// answer is always inside the resource.
pub fn http_range(data: &[u8]) {
    if data.len() < 8 {
        return;
    }
    let (len, header) = data.split_at(8);
    let len = u64::from_le_bytes(len.try_into().unwrap_or_default());
    if let range::RangeAnswer::Partial { start, end } = range::answer(Some(header), len) {
        assert!(start <= end && end < len, "{start}-{end} of {len}");
    }
}

// The built-in tracker's parsers (std only), compiled here from the server's sources.
#[allow(dead_code)]
#[path = "../../server/src/tracker/packet.rs"]
mod tracker_packet;
#[allow(dead_code)]
#[path = "../../server/src/tracker/query.rs"]
mod tracker_query;

/// Announce and scrape queries sent to the built-in tracker: a parsed announce has a port
/// and a bounded passkey; a scrape holds 1..=74 distinct hashes.
pub fn tracker_announce_query(data: &[u8]) {
    if let Ok(q) = tracker_query::parse_announce(data) {
        assert_ne!(q.port, 0);
        assert!(q
            .passkey
            .is_none_or(|k| (1..=64).contains(&k.as_str().len())));
    }
    if let Ok((hashes, _)) = tracker_query::parse_scrape(data) {
        assert!((1..=tracker_query::MAX_SCRAPE).contains(&hashes.len()));
    }
}

/// Datagrams sent to the built-in tracker's UDP port (BEP 15, BEP 41): a parsed request's
/// parts stay within their bounds, and an error names a transaction only when one was sent.
pub fn tracker_udp_server(data: &[u8]) {
    use tracker_packet::{parse, url_passkey, Request, MAX_SCRAPE, MAX_URL_DATA};
    match parse(data) {
        Ok(Request::Announce { announce, .. }) => {
            assert!(announce.url_data.len() <= MAX_URL_DATA);
            assert!(announce.event <= 3 && announce.port != 0);
            if let Some(k) = url_passkey(announce.url_data) {
                assert!(k.len() <= MAX_URL_DATA);
            }
        }
        Ok(Request::Scrape { hashes, .. }) => {
            assert!(
                hashes.len().is_multiple_of(20) && (1..=MAX_SCRAPE).contains(&(hashes.len() / 20))
            );
        }
        Ok(Request::Connect { .. }) => assert!(data.len() >= 16),
        Err(e) => assert_eq!(e.transaction.is_some(), data.len() >= 16),
    }
}

/// `Content-Range` headers from web seeds: a parsed range is ordered and inside its total.
pub fn web_seed_content_range(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((first, last, total)) = engine::webseed::parse_content_range(text) {
        assert!(first <= last && total.is_none_or(|t| last < t), "{text:?}");
    }
}

/// An MSE responder facing any initiator bytes (engine::peer::mse::fuzz_respond says how
/// the first byte splits raw streams from inputs placed past the key exchange).
pub fn mse_respond(data: &[u8]) {
    let _ = engine::peer::mse::fuzz_respond(data);
}

/// BEP 10 payloads from peers (the first byte picks the parser: extension handshake,
/// `ut_metadata`, `ut_pex`): whatever decodes re-encodes to something that decodes again.
pub fn extended(data: &[u8]) {
    use engine::wire::extended::{ut_metadata::MetadataMsg, ut_pex::PexMsg, ExtHandshake};
    let Some((&kind, payload)) = data.split_first() else {
        return;
    };
    match kind % 3 {
        0 => {
            if let Ok(h) = ExtHandshake::decode(payload) {
                assert!(ExtHandshake::decode(&h.encode()).is_ok());
            }
        }
        1 => {
            if let Ok(m) = MetadataMsg::decode(&bytes::Bytes::copy_from_slice(payload)) {
                let again = bytes::Bytes::from(m.encode());
                assert!(MetadataMsg::decode(&again).is_ok());
            }
        }
        _ => {
            if let Ok(m) = PexMsg::decode(payload) {
                assert!(PexMsg::decode(&m.encode()).is_ok());
            }
        }
    }
}

/// DHT datagrams (BEP 5 KRPC) from anyone: whatever parses re-encodes to a valid packet.
pub fn krpc(data: &[u8]) {
    if let Ok(m) = engine::dht::parse_krpc(data) {
        assert!(engine::dht::parse_krpc(&m.encode()).is_ok());
    }
}

/// BEP 14 datagrams from anyone on the LAN: a parsed announce encodes to one that parses
/// to the same announce.
pub fn lsd_message(data: &[u8]) {
    use engine::lsd::message::Announce;
    if let Ok(a) = Announce::parse(data) {
        let again = Announce::parse(&a.encode("239.192.152.143:6771")).expect("re-parse");
        assert_eq!(again.port, a.port);
        assert!(a.info_hashes.starts_with(&again.info_hashes));
    }
}

/// NAT-PMP answers from whatever claims to be the gateway: every opcode's reader.
pub fn natpmp_reply(data: &[u8]) {
    for op in 0..3 {
        let _ = engine::portmap::natpmp::parse_reply(data, op);
    }
}

/// SSDP answers from anyone on the LAN: an accepted LOCATION is the answering LAN host's.
pub fn ssdp_reply(data: &[u8]) {
    let from: std::net::IpAddr = [192, 168, 1, 1].into();
    if let Ok(url) = engine::portmap::ssdp::parse_reply(data, from) {
        assert_eq!(url.host_str(), Some("192.168.1.1"));
    }
}

/// A gateway's description: an accepted control URL stays on the gateway.
pub fn igd_description(data: &[u8]) {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let loc = url::Url::parse("http://192.168.1.1:5000/rootDesc.xml").expect("url");
    if let Ok(svc) = engine::portmap::igd::parse_description(xml, &loc) {
        assert_eq!(svc.control.host_str(), Some("192.168.1.1"));
        assert_eq!(svc.control.port(), Some(5000));
    }
}

/// Magnet links pasted by users or sent through the API: a parsed link prints to a URI
/// that parses to the same torrent.
pub fn magnet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = engine::magnet::Magnet::parse(&text) {
        let again = engine::magnet::Magnet::parse(&m.to_uri()).expect("our own URI parses");
        assert_eq!(again.info_hash, m.info_hash);
    }
}

/// Bencode from peers, trackers and `.torrent` files: whatever decodes re-encodes
/// canonically to something that decodes to the same value, and the prefix decoder agrees.
pub fn bencode(data: &[u8]) {
    if let Ok((v, used)) = bencode::decode_prefix(data) {
        assert!(used <= data.len());
        let again = bencode::encode(&v);
        assert_eq!(bencode::decode(&again).as_ref(), Ok(&v));
        assert_eq!(bencode::decode(&data[..used]).as_ref(), Ok(&v));
    }
    if let Ok(Some(span)) = bencode::dict_value_span(data, b"info") {
        assert!(bencode::decode(&data[span]).is_ok());
    }
}

/// `.torrent` files and BEP 9 metadata: a parsed torrent is internally consistent and
/// survives a round trip through its own encoding.
pub fn metainfo(data: &[u8]) {
    if let Ok(m) = Metainfo::from_bytes(data) {
        check_metainfo(&m);
        let again = Metainfo::from_bytes(&m.to_torrent_bytes()).expect("re-encoded torrent");
        assert_eq!(again.info_hash, m.info_hash);
        assert_eq!(again.files, m.files);
        let _ = m.magnet_link();
    }
    if let Ok(m) = Metainfo::from_info_bytes(data, Vec::new()) {
        check_metainfo(&m);
    }
}

fn check_metainfo(m: &Metainfo) {
    assert!(!m.piece_hashes.is_empty() || m.total_length == 0);
    assert_eq!(
        m.files.iter().map(|f| f.length).sum::<u64>(),
        m.total_length
    );
    for f in &m.files {
        assert!(f.path.is_relative(), "{:?}", f.path);
        assert!(f
            .path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))));
    }
    let n = m.num_pieces();
    if n > 0 {
        assert!(m.piece_len(n - 1) > 0);
        assert_eq!(m.piece_len(n), 0);
    }
}

/// A peer's byte stream after the handshake, fed in two uneven chunks: every decoded
/// message re-encodes to the bytes it came from, and a bitfield is checked like the peer
/// code does.
pub fn wire_frames(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let codec = Codec::new(1 << 16);
    let cut = usize::from(split).min(rest.len());
    let mut buf = BytesMut::new();
    let mut consumed = 0usize;
    for chunk in [&rest[..cut], &rest[cut..]] {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            match codec.decode(&mut buf) {
                Ok(Some(msg)) => {
                    let used = before - buf.len();
                    let original = &rest[consumed..consumed + used];
                    assert_eq!(&Codec::encode_to_bytes(&msg)[..], original);
                    consumed += used;
                    if let Message::Bitfield(b) = &msg {
                        let _ = Bitfield::from_wire(b, b.len() * 8);
                        let _ = Bitfield::from_wire(b, (b.len() * 8).saturating_sub(3));
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    assert_eq!(buf.len(), before, "a failed decode leaves the buffer");
                    return;
                }
            }
        }
    }
}

/// The 68-byte handshake: a decoded one encodes back to the same bytes.
pub fn handshake(data: &[u8]) {
    if let Ok(h) = Handshake::decode(data) {
        assert_eq!(data.len(), HANDSHAKE_LEN);
        assert_eq!(&h.encode()[..], data);
        let _ = h.supports_extensions();
    }
}

/// An HTTP tracker's announce body: peers and the interval stay within their bounds.
pub fn tracker_http(data: &[u8]) {
    if let Ok(r) = tracker::parse_announce_response(data) {
        assert!(r.peers.len() <= tracker::MAX_PEERS);
        assert!(r.peers.iter().all(|p| p.port() != 0));
        assert!(r.interval >= tracker::MIN_INTERVAL && r.interval <= tracker::MAX_INTERVAL);
    }
}

/// A UDP tracker's reply datagram (BEP 15), read as a connect reply and as an announce reply
/// over IPv4 and IPv6.
pub fn tracker_udp(data: &[u8]) {
    let _ = tracker::parse_udp_connect_reply(data);
    for ipv6 in [false, true] {
        if let Ok(r) = tracker::parse_udp_announce_reply(data, ipv6) {
            assert!(r.peers.len() <= tracker::MAX_PEERS);
            assert!(r.interval >= tracker::MIN_INTERVAL && r.interval <= tracker::MAX_INTERVAL);
        }
    }
}

/// The watch folders' `.magnet` file parser, compiled in from the server's source.
#[allow(dead_code)]
#[path = "../../server/src/folders/magnet_file.rs"]
mod magnet_file;

/// `.magnet` files dropped into a watch folder: an accepted file gives one line that the
/// engine's magnet parser accepts, no longer than the file.
pub fn watch_magnet_file(data: &[u8]) {
    if let Ok(uri) = magnet_file::parse(data) {
        assert!(uri.len() <= data.len());
        assert!(!uri.contains('\n') && !uri.contains('\r'));
        assert!(engine::magnet::Magnet::parse(&uri).is_ok());
    }
}

// The federation catalog reader (serde only), compiled here from the server's source.
#[allow(dead_code)]
#[path = "../../server/src/search/wire.rs"]
mod federation_wire;

/// Another TorrentEdge server's catalog answer: a parsed page is bounded and every entry kept
/// is plausible (40 lower-case hex digits, a name, bounded files, an http(s) web seed).
pub fn federation_catalog(data: &[u8]) {
    use federation_wire::{parse, MAX_FILES, MAX_ITEMS};
    if let Ok(page) = parse(data) {
        assert!(page.items.len() <= MAX_ITEMS);
        for item in &page.items {
            assert_eq!(item.info_hash.len(), 40);
            assert!(item
                .info_hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            assert!(!item.name.trim().is_empty());
            assert!(item.files.len() <= MAX_FILES);
            assert!(item.file_count >= item.files.len() as u64);
            assert!(item
                .web_seed
                .as_deref()
                .is_none_or(|u| u.starts_with("http://") || u.starts_with("https://")));
        }
    }
}

// The Nostr relay-message reader (serde only), compiled here from the server's source.
#[allow(dead_code)]
#[path = "../../server/src/nostr/message.rs"]
mod nostr_message;

/// A relay's WebSocket text message: a parsed event has hex fields of the right length and
/// bounded tags, and a torrent read from it is bounded and plausible.
pub fn nostr_relay_message(data: &[u8]) {
    use nostr_message::{is_hex, parse, torrent, RelayMessage, MAX_FILES, MAX_TAGS, MAX_TRACKERS};
    let text = String::from_utf8_lossy(data);
    if let Ok(RelayMessage::Event { event, .. }) = parse(&text) {
        assert!(is_hex(&event.id, 64) && is_hex(&event.pubkey, 64) && is_hex(&event.sig, 128));
        assert!(event.tags.len() <= MAX_TAGS);
        if let Some(t) = torrent(&event) {
            assert!(is_hex(&t.info_hash, 40));
            assert!(!t.title.trim().is_empty());
            assert!(t.files.len() <= MAX_FILES && t.file_count >= t.files.len() as u64);
            assert!(t.trackers.len() <= MAX_TRACKERS);
        }
    }
}

/// uTP datagrams from anyone on the UDP port: a parsed packet re-encodes to the same
/// header and payload; nothing panics.
pub fn utp_packet(data: &[u8]) {
    engine::utp::fuzz_packet(data);
}
