//! The torrent's side of BEP 10 extensions (`ut_metadata` serving, `ut_pex`) and of the BEP 6
//! fast extension's opening messages. Codecs live in `wire::extended`; this is what the
//! messages mean for a torrent that has its metadata.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::dialer::PeerBook;
use super::shared::{PeerEntry, Shared};
use super::Torrent;
use crate::peer::{DisconnectReason, Out, WriterCmd};
use crate::status::PeerSource;
use crate::wire::extended::ut_metadata::{self, MetadataMsg};
use crate::wire::extended::ut_pex::{self, PexMsg};
use crate::wire::extended::{ExtHandshake, HANDSHAKE_ID, UT_METADATA_ID, UT_PEX_ID};
use crate::wire::Message;
use crate::Bitfield;

/// Requests we accept from one peer; libtorrent's default `reqq` is 500.
pub(crate) const OUR_REQQ: u32 = 2000;
/// BEP 11: at most one PEX message a minute per peer.
const PEX_INTERVAL: Duration = Duration::from_secs(60);
/// A peer sending PEX faster than this is ignored until the interval passes.
const PEX_MIN_RECV_INTERVAL: Duration = Duration::from_secs(20);
/// `ut_metadata` requests answered per connection (a few full copies).
const MAX_METADATA_SERVED: u32 = 4 * 1024;

impl Torrent {
    /// What a new connection hears first: our extension handshake, then what we have (a
    /// bitfield, or BEP 6 `have_all`/`have_none`); with `hide` (super-seeding) nothing.
    pub(crate) fn first_messages(
        &self,
        p: &PeerEntry,
        extensions: bool,
        have: &Bitfield,
        hide: bool,
    ) -> Vec<Out> {
        let mut out = Vec::with_capacity(2);
        if extensions {
            let hs = ExtHandshake::ours(
                self.env.listen_addr.port(),
                p.addr.ip(),
                Some(self.meta.info_bytes.len() as u64),
                OUR_REQQ,
                self.pex_allowed(),
            );
            out.push(extended(HANDSHAKE_ID, hs.encode()));
        }
        let m = match (p.fast, if hide { 0 } else { have.count_ones() }) {
            (true, 0) => Some(Message::HaveNone),
            (true, n) if n == have.len() => Some(Message::HaveAll),
            (_, 0) => None,
            _ => Some(Message::Bitfield(Bytes::copy_from_slice(have.as_bytes()))),
        };
        out.extend(m.map(Out::Msg));
        out
    }

    /// One extended message from `p`.
    pub(crate) fn on_extended(
        &self,
        p: &mut PeerEntry,
        id: u8,
        payload: &Bytes,
        now: Instant,
        out: &mut Vec<Out>,
    ) -> Result<Vec<SocketAddr>, DisconnectReason> {
        let bad =
            |e: crate::wire::extended::ExtError| DisconnectReason::BadExtension(e.to_string());
        match id {
            HANDSHAKE_ID => {
                let hs = ExtHandshake::decode(payload).map_err(bad)?;
                p.ext = hs.extensions;
                p.listen_port = hs.listen_port.or(p.listen_port);
                if hs.client.is_some() {
                    p.client = hs.client;
                }
            }
            UT_METADATA_ID => match MetadataMsg::decode(payload).map_err(bad)? {
                MetadataMsg::Request { piece } => self.serve_metadata(p, piece, out)?,
                // We have the metadata already; data and rejects are harmless leftovers.
                MetadataMsg::Data { .. } | MetadataMsg::Reject { .. } => {}
            },
            UT_PEX_ID if self.pex_allowed() => {
                let msg = PexMsg::decode(payload).map_err(bad)?;
                let last = p.ext_state.pex_last_recv.replace(now);
                if last.is_some_and(|t| now.saturating_duration_since(t) < PEX_MIN_RECV_INTERVAL) {
                    return Ok(Vec::new());
                }
                return Ok(msg.added.into_iter().map(|(a, _)| a).collect());
            }
            // Ids we never assigned (or PEX on a private torrent): ignored.
            _ => {}
        }
        Ok(Vec::new())
    }

    fn serve_metadata(
        &self,
        p: &mut PeerEntry,
        piece: u32,
        out: &mut Vec<Out>,
    ) -> Result<(), DisconnectReason> {
        let Some(their_id) = p.ext.ut_metadata else {
            return Ok(());
        };
        p.ext_state.metadata_served += 1;
        if p.ext_state.metadata_served > MAX_METADATA_SERVED {
            return Err(DisconnectReason::InvalidRequests);
        }
        let info = &self.meta.info_bytes;
        let msg = match ut_metadata::piece_of(info, piece) {
            Some(data) => MetadataMsg::Data {
                piece,
                total_size: info.len() as u64,
                data,
            },
            None => MetadataMsg::Reject { piece },
        };
        out.push(extended(their_id, msg.encode()));
        Ok(())
    }

    /// PEX is on in the session and the torrent is public (BEP 27).
    fn pex_allowed(&self) -> bool {
        self.env.config.pex && !self.meta.private
    }

    /// Sends each PEX-speaking peer the peers added and dropped since its last message, at
    /// most once a minute. Never for private torrents (BEP 27).
    pub(crate) fn pex_round(&self, sh: &mut Shared, now: Instant) {
        if !self.pex_allowed() {
            return;
        }
        let connected: Vec<SocketAddr> =
            sh.peers.values().filter_map(PeerEntry::dialable).collect();
        for p in sh.peers.values_mut() {
            let Some(id) = p.ext.ut_pex else { continue };
            if p.ext_state
                .pex_last_sent
                .is_some_and(|t| now.saturating_duration_since(t) < PEX_INTERVAL)
            {
                continue;
            }
            let me = p.dialable();
            let current: HashSet<SocketAddr> = connected
                .iter()
                .copied()
                .filter(|a| Some(*a) != me)
                .collect();
            let sent = &mut p.ext_state.pex_sent;
            let added: Vec<_> = current
                .difference(sent)
                .take(ut_pex::MAX_PEERS)
                .copied()
                .collect();
            let dropped: Vec<_> = sent
                .difference(&current)
                .take(ut_pex::MAX_PEERS)
                .copied()
                .collect();
            if added.is_empty() && dropped.is_empty() {
                continue;
            }
            for a in &added {
                sent.insert(*a);
            }
            for a in &dropped {
                sent.remove(a);
            }
            p.ext_state.pex_last_sent = Some(now);
            let msg = PexMsg {
                added: added
                    .into_iter()
                    .map(|a| (a, ut_pex::FLAG_REACHABLE))
                    .collect(),
                dropped,
            };
            p.send(WriterCmd::One(extended(id, msg.encode())));
        }
    }

    /// Addresses learned through PEX go to the peer book; true if there were any.
    pub(crate) fn learn_from_pex_into(
        book: &mut PeerBook,
        addrs: Vec<SocketAddr>,
        now: Instant,
    ) -> bool {
        let learned = !addrs.is_empty();
        for a in addrs {
            book.add(a, PeerSource::Pex, now);
        }
        learned
    }
}

fn extended(id: u8, payload: Vec<u8>) -> Out {
    Out::Msg(Message::Extended {
        id,
        payload: Bytes::from(payload),
    })
}
