//! The metadata fetcher: connections, requests, trackers, until the info dictionary is known.
//!
//! Lock order: only `Fetcher::state` (never held across `.await`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, watch, Notify};

use super::pieces::{DataOutcome, MetadataPieces};
use crate::peer::dial;
use crate::peer::handler::{PeerConn, PeerHandler};
use crate::peer::{self, DisconnectReason, Out, WriterCmd};
use crate::session::env::Env;
use crate::session::ratelimit::{PeerLimits, RateLimits};
use crate::status::{PeerSource, PeerStatus};
use crate::storage::Storage;
use crate::torrent::dialer::PeerBook;
use crate::torrent::Control;
use crate::tracker::{AnnounceEvent, AnnounceRequest, TrackerTiers};
use crate::wire::extended::ut_metadata::MetadataMsg;
use crate::wire::extended::ut_pex::PexMsg;
use crate::wire::extended::{
    ExtHandshake, PeerExtensions, HANDSHAKE_ID, UT_METADATA_ID, UT_PEX_ID,
};
use crate::wire::{Handshake, Message, DEFAULT_MAX_MESSAGE_LEN};
use crate::{InfoHash, PeerId, PeerKey};

/// Metadata requests in flight per peer.
const PER_PEER: usize = 4;
/// Rejects after which a peer is dropped as useless.
const MAX_REJECTS: u32 = 8;
/// Connections one fetcher holds.
const MAX_PEERS: usize = 30;
const TICK: Duration = Duration::from_secs(1);
/// Announce interval while fetching (trackers may ask for longer).
const ANNOUNCE_FLOOR: Duration = Duration::from_secs(30);
/// What we tell trackers is left: unknown until the metadata arrives.
const LEFT_UNKNOWN: u64 = 16 * 1024;

struct FetchPeer {
    addr: SocketAddr,
    peer_id: PeerId,
    incoming: bool,
    /// RC4 (MSE) on this connection.
    encrypted: bool,
    source: PeerSource,
    tx: mpsc::UnboundedSender<WriterCmd>,
    kill: Arc<watch::Sender<bool>>,
    ext: PeerExtensions,
    client: Option<String>,
    /// Its listening port (extension handshake `p`), for incoming peers.
    listen_port: Option<u16>,
    rejects: u32,
}

#[derive(Default)]
struct State {
    peers: HashMap<PeerKey, FetchPeer>,
    book: PeerBook,
    connecting: usize,
    pieces: Option<MetadataPieces>,
    /// The verified info dictionary.
    done: Option<Bytes>,
    /// Addresses that alone served metadata that failed verification (by address, not IP:
    /// a NAT or a seedbox host may hold honest peers beside a liar).
    banned: std::collections::HashSet<SocketAddr>,
    accepting: bool,
}

pub(crate) struct Fetcher {
    pub info_hash: InfoHash,
    pub env: Arc<Env>,
    pub trackers: Vec<Vec<String>>,
    state: Mutex<State>,
    dial_wake: Notify,
    finished: Notify,
    /// The torrent's rate limits (shared with its slot and, later, its torrent).
    limits: RateLimits,
}

impl Fetcher {
    pub fn new(
        info_hash: InfoHash,
        env: Arc<Env>,
        trackers: Vec<Vec<String>>,
        peers: &[(SocketAddr, PeerSource)],
        limits: RateLimits,
    ) -> Arc<Self> {
        let now = Instant::now();
        let mut state = State::default();
        for (a, s) in peers {
            state.book.add(*a, *s, now);
        }
        Arc::new(Fetcher {
            info_hash,
            env,
            trackers,
            state: Mutex::new(state),
            dial_wake: Notify::new(),
            finished: Notify::new(),
            limits,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        crate::torrent::lock(&self.state)
    }

    /// Runs until the metadata is verified (returning it) or the control says stop.
    /// Paused: connections are closed and nothing is fetched until resumed.
    pub async fn run(self: &Arc<Self>, mut ctl: watch::Receiver<Control>) -> Option<Bytes> {
        loop {
            let want = *ctl.borrow_and_update();
            match want {
                Control::Stop => break,
                Control::Pause => {
                    if ctl.changed().await.is_err() {
                        break;
                    }
                }
                Control::Run => {
                    if let Some(info) = self.run_live(&mut ctl).await {
                        self.close_all();
                        return Some(info);
                    }
                }
            }
        }
        self.close_all();
        None
    }

    async fn run_live(self: &Arc<Self>, ctl: &mut watch::Receiver<Control>) -> Option<Bytes> {
        self.lock().accepting = true;
        self.lock().book.reset_backoff(Instant::now());
        let announcer = tokio::spawn(self.clone().announce_loop());
        let dht = self
            .env
            .dht
            .as_ref()
            .map(|d| crate::torrent::dht_lookup::spawn(d, self.info_hash, self, ctl));
        let mut tick = tokio::time::interval(TICK);
        let result = loop {
            if let Some(info) = self.lock().done.clone() {
                break Some(info);
            }
            self.dial_due();
            tokio::select! {
                _ = tick.tick() => self.on_tick(),
                _ = self.dial_wake.notified() => {}
                _ = self.finished.notified() => {}
                r = ctl.changed() => if r.is_err() || *ctl.borrow() != Control::Run { break None },
            }
        };
        announcer.abort();
        drop(dht);
        self.close_all();
        result
    }

    /// Stops accepting and disconnects every peer.
    fn close_all(&self) {
        let mut st = self.lock();
        st.accepting = false;
        for p in st.peers.values() {
            p.kill.send_replace(true);
        }
    }

    /// Addresses known or connected, for the torrent that takes over.
    pub fn learned_peers(&self) -> Vec<(SocketAddr, PeerSource)> {
        let st = self.lock();
        let mut out: Vec<_> = st.book.addresses().collect();
        // An incoming peer's address has its outgoing port; its listening port is dialable.
        for p in st.peers.values().filter(|p| p.incoming) {
            if let Some(port) = p.listen_port {
                out.push((SocketAddr::new(p.addr.ip(), port), p.source));
            }
        }
        out
    }

    pub fn peers(&self) -> Vec<PeerStatus> {
        self.lock()
            .peers
            .values()
            .map(|p| PeerStatus {
                addr: p.addr,
                client: p.client.clone().unwrap_or_else(|| p.peer_id.client_name()),
                incoming: p.incoming,
                encrypted: p.encrypted,
                download_rate: 0,
                upload_rate: 0,
                downloaded: 0,
                uploaded: 0,
                am_choking: true,
                am_interested: false,
                peer_choking: true,
                peer_interested: false,
                pieces: 0,
                source: p.source,
                fast: false,
                extensions: true,
                strikes: 0,
            })
            .collect()
    }

    /// Connections open now.
    pub fn peer_count(&self) -> usize {
        self.lock().peers.len()
    }

    pub fn add_peers(&self, addrs: &[SocketAddr], source: PeerSource) {
        let now = Instant::now();
        let mut st = self.lock();
        for a in addrs {
            st.book.add(*a, source, now);
        }
        drop(st);
        self.dial_wake.notify_one();
    }

    fn dial_due(self: &Arc<Self>) {
        let now = Instant::now();
        let addrs = {
            let mut guard = self.lock();
            let st = &mut *guard;
            if !st.accepting {
                return;
            }
            let room = MAX_PEERS.saturating_sub(st.peers.len() + st.connecting);
            let peers = &st.peers;
            let banned = &st.banned;
            let addrs = st.book.take_due(now, room, |a, _| {
                self.env.is_self(a)
                    || banned.contains(a)
                    || self.env.bans.is_banned(a.ip())
                    || peers.values().any(|p| p.addr == *a)
            });
            st.connecting += addrs.len();
            addrs
        };
        for addr in addrs {
            let f = self.clone();
            tokio::spawn(async move {
                let slot = f.env.conns.try_acquire(addr.ip());
                let ours = f.handshake();
                let result = match slot {
                    Some(_) => dial::connect(&f.env, addr, &ours, |h| *h == f.info_hash)
                        .await
                        .map_err(|e| tracing::debug!(%addr, "metadata dial failed: {e}"))
                        .ok(),
                    None => None,
                };
                {
                    let mut st = f.lock();
                    st.connecting = st.connecting.saturating_sub(1);
                    if result.is_none() {
                        st.book.failed(&addr, Instant::now());
                    }
                }
                if let (Some(slot), Some((stream, remote))) = (slot, result) {
                    peer::run(f, stream, remote, addr, false, slot).await;
                }
            });
        }
    }

    /// Expires slow requests and asks again.
    fn on_tick(&self) {
        let now = Instant::now();
        let mut guard = self.lock();
        let st = &mut *guard;
        if let Some(pieces) = &mut st.pieces {
            pieces.expire(now);
        }
        let keys: Vec<PeerKey> = st.peers.keys().copied().collect();
        for k in keys {
            let mut out = Vec::new();
            request_more(st, k, now, &mut out);
            if let Some(p) = st.peers.get(&k) {
                if !out.is_empty() {
                    let _ = p.tx.send(WriterCmd::Batch(out));
                }
            }
        }
    }

    /// Announces `started` and then at the tracker's interval, learning peers, until aborted.
    async fn announce_loop(self: Arc<Self>) {
        if self.trackers.iter().all(|t| t.is_empty()) {
            return;
        }
        let mut tiers = TrackerTiers::new(self.trackers.clone());
        let key: u32 = rand::random();
        let mut event = AnnounceEvent::Started;
        loop {
            let (ipv4, ipv6) = self.env.advertised();
            let req = AnnounceRequest {
                info_hash: self.info_hash,
                peer_id: self.env.config.peer_id,
                port: self.env.listen_addr.port(),
                uploaded: 0,
                downloaded: 0,
                left: LEFT_UNKNOWN,
                event,
                num_want: Some(80),
                key,
                ipv4,
                ipv6,
            };
            let wait = match tiers.announce(&self.env.tracker, &req).await {
                Ok((_, resp)) => {
                    event = AnnounceEvent::None;
                    self.add_peers(&resp.peers, PeerSource::Tracker);
                    resp.interval.max(ANNOUNCE_FLOOR)
                }
                Err(e) => {
                    tracing::debug!(torrent = %self.info_hash, "metadata announce failed: {e}");
                    ANNOUNCE_FLOOR
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn on_extended(
        &self,
        st: &mut State,
        key: PeerKey,
        id: u8,
        payload: &Bytes,
        out: &mut Vec<Out>,
    ) -> Result<(), DisconnectReason> {
        let bad =
            |e: crate::wire::extended::ExtError| DisconnectReason::BadExtension(e.to_string());
        let now = Instant::now();
        match id {
            HANDSHAKE_ID => {
                let hs = ExtHandshake::decode(payload).map_err(bad)?;
                let Some(p) = st.peers.get_mut(&key) else {
                    return Ok(());
                };
                p.ext = hs.extensions;
                p.client = hs.client.or(p.client.take());
                p.listen_port = hs.listen_port;
                if p.ext.ut_metadata.is_none() {
                    return Err(DisconnectReason::Useless);
                }
                if let (None, Some(size)) = (&st.pieces, hs.metadata_size) {
                    st.pieces = MetadataPieces::new(size);
                }
            }
            UT_METADATA_ID => match MetadataMsg::decode(payload).map_err(bad)? {
                MetadataMsg::Data {
                    piece,
                    total_size,
                    data,
                } => {
                    if st.pieces.is_none() {
                        st.pieces = MetadataPieces::new(total_size);
                    }
                    let Some(pieces) = &mut st.pieces else {
                        return Ok(());
                    };
                    if pieces.size() != total_size {
                        return Err(DisconnectReason::BadExtension(
                            "metadata size changed".into(),
                        ));
                    }
                    match pieces.on_data(key, piece, &data, &self.info_hash) {
                        DataOutcome::Complete(info) => {
                            tracing::info!(torrent = %self.info_hash, bytes = info.len(), "metadata received");
                            st.done = Some(Bytes::from(info));
                            self.finished.notify_one();
                            return Ok(());
                        }
                        DataOutcome::Corrupt(from) => {
                            tracing::warn!(torrent = %self.info_hash, ?from, "metadata does not match the info-hash");
                            // With one contributor the liar is known: it is never dialed or
                            // admitted again. With several, the next round takes every piece
                            // from one peer (see `pieces`).
                            if let [liar] = from[..] {
                                if let Some(p) = st.peers.get(&liar) {
                                    st.banned.insert(p.addr);
                                }
                                if liar == key {
                                    return Err(DisconnectReason::BadData);
                                }
                                if let Some(p) = st.peers.get(&liar) {
                                    p.kill.send_replace(true);
                                }
                            }
                        }
                        DataOutcome::Stored | DataOutcome::Ignored => {}
                    }
                }
                MetadataMsg::Reject { piece } => {
                    if let Some(pieces) = &mut st.pieces {
                        pieces.on_reject(key, piece);
                    }
                    if let Some(p) = st.peers.get_mut(&key) {
                        p.rejects += 1;
                        if p.rejects > MAX_REJECTS {
                            return Err(DisconnectReason::Useless);
                        }
                    }
                }
                // We have nothing to serve yet.
                MetadataMsg::Request { piece } => {
                    if let Some(id) = st.peers.get(&key).and_then(|p| p.ext.ut_metadata) {
                        out.push(extended(id, MetadataMsg::Reject { piece }.encode()));
                    }
                }
            },
            UT_PEX_ID => {
                let msg = PexMsg::decode(payload).map_err(bad)?;
                for (a, _) in msg.added {
                    st.book.add(a, PeerSource::Pex, now);
                }
                self.dial_wake.notify_one();
            }
            _ => {}
        }
        request_more(st, key, now, out);
        Ok(())
    }
}

/// Tops up `key`'s metadata requests.
fn request_more(st: &mut State, key: PeerKey, now: Instant, out: &mut Vec<Out>) {
    let (Some(pieces), Some(p)) = (&mut st.pieces, st.peers.get(&key)) else {
        return;
    };
    let Some(id) = p.ext.ut_metadata else { return };
    while pieces.in_flight(key) < PER_PEER {
        let Some(piece) = pieces.next_request(key, now) else {
            break;
        };
        out.push(extended(id, MetadataMsg::Request { piece }.encode()));
    }
}

fn extended(id: u8, payload: Vec<u8>) -> Out {
    Out::Msg(Message::Extended {
        id,
        payload: Bytes::from(payload),
    })
}

impl PeerHandler for Fetcher {
    fn env(&self) -> &Arc<Env> {
        &self.env
    }

    fn limits(&self) -> PeerLimits {
        PeerLimits {
            torrent: self.limits.clone(),
            session: self.env.limits.clone(),
        }
    }

    fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    fn handshake(&self) -> Handshake {
        self.env.handshake(self.info_hash)
    }

    fn max_frame_len(&self) -> usize {
        // Bitfields of unknown length arrive before we know the piece count.
        DEFAULT_MAX_MESSAGE_LEN
    }

    fn register(&self, key: PeerKey, conn: PeerConn) -> Result<(), DisconnectReason> {
        if !conn.remote.supports_extensions() {
            return Err(DisconnectReason::Useless);
        }
        let mut st = self.lock();
        if !st.accepting {
            return Err(DisconnectReason::NotRunning);
        }
        if conn.remote.peer_id == self.env.config.peer_id {
            return Err(DisconnectReason::Ourselves);
        }
        if st.banned.contains(&conn.addr) {
            return Err(DisconnectReason::BadData);
        }
        if let Some(ban) = self.env.bans.reason(conn.addr.ip()) {
            return Err(DisconnectReason::Banned(ban));
        }
        if st.peers.len() >= MAX_PEERS {
            return Err(DisconnectReason::TorrentLimit);
        }
        if st
            .peers
            .values()
            .any(|p| p.addr == conn.addr || p.peer_id == conn.remote.peer_id)
        {
            return Err(DisconnectReason::Duplicate);
        }
        let hs = ExtHandshake::ours(
            self.env.listen_addr.port(),
            conn.addr.ip(),
            None,
            250,
            self.env.config.pex,
        );
        let mut first = vec![extended(HANDSHAKE_ID, hs.encode())];
        if conn.remote.supports_fast() {
            first.push(Out::Msg(Message::HaveNone));
        }
        let _ = conn.tx.send(WriterCmd::Batch(first));
        let source = if conn.incoming {
            PeerSource::Incoming
        } else {
            st.book.connected(&conn.addr);
            st.book.source(&conn.addr)
        };
        st.peers.insert(
            key,
            FetchPeer {
                addr: conn.addr,
                peer_id: conn.remote.peer_id,
                incoming: conn.incoming,
                encrypted: conn.encrypted,
                source,
                tx: conn.tx,
                kill: conn.kill,
                ext: PeerExtensions::default(),
                client: None,
                listen_port: None,
                rejects: 0,
            },
        );
        Ok(())
    }

    fn on_messages(
        self: &Arc<Self>,
        key: PeerKey,
        msgs: &mut Vec<Message>,
        out: &mut Vec<Out>,
    ) -> Option<DisconnectReason> {
        let mut guard = self.lock();
        let st = &mut *guard;
        let mut close = None;
        for m in msgs.drain(..) {
            if close.is_some() {
                continue;
            }
            if let Message::Extended { id, payload } = m {
                if let Err(reason) = self.on_extended(st, key, id, &payload, out) {
                    close = Some(reason);
                }
            }
            // Everything else (bitfields, haves, chokes) waits for the torrent.
        }
        close
    }

    fn unregister(&self, key: PeerKey, reason: &DisconnectReason) {
        let mut st = self.lock();
        if let Some(p) = st.peers.remove(&key) {
            if !p.incoming {
                let now = Instant::now();
                match reason {
                    DisconnectReason::ByUs | DisconnectReason::ClosedByPeer => {
                        st.book.disconnected(&p.addr, now)
                    }
                    _ => st.book.failed(&p.addr, now),
                }
            }
        }
        if let Some(pieces) = &mut st.pieces {
            pieces.peer_gone(key);
        }
        drop(st);
        self.dial_wake.notify_one();
    }

    fn blocks(&self) -> Option<Arc<Storage>> {
        None
    }

    fn on_read_error(&self, _error: String) {}
}
