//! Applying one batch of a peer's messages under a single lock acquisition: state flags,
//! availability, block copies into assembly buffers, request validation, and topping up
//! the request pipeline in the same critical section.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::assembly::{Assembly, DonePiece};
use super::shared::{PeerEntry, Shared, Stats};
use super::Torrent;
use crate::peer::{DisconnectReason, Out, WriterCmd};
use crate::picker::{BlockOutcome, Picker};
use crate::session::budget::Budget;
use crate::status::TorrentState;
use crate::wire::{BlockRequest, Message, BLOCK_SIZE};
use crate::{Bitfield, PeerKey};

/// Invalid requests tolerated before we hang up on a peer.
const MAX_ABUSE: u32 = 50;
/// Blocks that arrive after we stopped waiting for them (cancel races, timeouts) are normal;
/// more than this many from one peer, making up most of what it sent, is a peer pushing
/// data nobody asked for.
const MAX_UNREQUESTED: u32 = 256;
/// Block requests we queue per peer; beyond that they are dropped.
pub(crate) const MAX_QUEUED_REQUESTS: usize = 2000;

/// What a batch produced for the caller to act on after the lock is released.
#[derive(Default)]
pub(crate) struct BatchOut {
    /// For this peer's writer.
    pub msgs: Vec<Out>,
    /// Whole pieces to hash and write.
    pub done: Vec<DonePiece>,
    /// Disconnect with this reason.
    pub close: Option<DisconnectReason>,
}

impl Torrent {
    /// Applies `msgs` (drained) from peer `key`.
    pub fn apply_batch(&self, key: PeerKey, msgs: &mut Vec<Message>, out: &mut BatchOut) {
        let now = Instant::now();
        let mut guard = self.lock();
        let sh = &mut *guard;
        let seeding = sh.state == TorrentState::Seeding;
        let super_seeding = self.super_seeding(sh.state);
        let Shared {
            peers,
            picker,
            assembly,
            stats,
            pick_scratch,
            book,
            reveals,
            ..
        } = &mut *sh;
        let mut learned_any = false;
        let Some(p) = peers.get_mut(&key) else {
            out.close = Some(DisconnectReason::Removed);
            msgs.clear();
            return;
        };
        p.last_recv = now;
        let mut cancels: Vec<(PeerKey, BlockRequest)> = Vec::new();
        let mut wants_unchoke = false;
        for m in msgs.drain(..) {
            if out.close.is_some() {
                continue;
            }
            match m {
                Message::Choke if !p.peer_choking => {
                    p.peer_choking = true;
                    for r in p.pipe.drain() {
                        picker.cancel_request(key, r);
                        assembly.unrequested(r.piece, &self.env.buffers);
                    }
                }
                Message::Choke => {}
                Message::Unchoke => p.peer_choking = false,
                Message::Interested => {
                    wants_unchoke = !p.peer_interested && p.am_choking;
                    p.peer_interested = true;
                }
                Message::NotInterested => p.peer_interested = false,
                Message::Have(i) => {
                    if i >= self.num_pieces() {
                        out.close = Some(DisconnectReason::HaveOutOfRange(i));
                    } else if p.bitfield.set(i as usize) {
                        p.announced = true;
                        picker.add_peer_have(i);
                        if super_seeding {
                            super::super_seed::on_have(picker, reveals, p, i, &mut out.msgs);
                        }
                        if !seeding && !p.am_interested && !picker.have().get(i as usize) {
                            set_interest(p, true, &mut out.msgs);
                        }
                    }
                }
                Message::Bitfield(bits) => {
                    if p.announced {
                        tracing::debug!(addr = %p.addr, "ignoring late bitfield");
                        continue;
                    }
                    match Bitfield::from_wire(&bits, self.num_pieces() as usize) {
                        Ok(bf) => {
                            picker.add_peer_bitfield(&bf);
                            p.bitfield = bf;
                            p.announced = true;
                            if !seeding && picker.is_interesting(&p.bitfield) {
                                set_interest(p, true, &mut out.msgs);
                            }
                        }
                        Err(e) => out.close = Some(DisconnectReason::BadBitfield(e.to_string())),
                    }
                }
                Message::Request(r) => self.on_request(p, r, picker.have(), out),
                Message::Cancel(r) => {
                    // Only while something is queued, and never more cancels in flight
                    // than queued requests: a flood of cancels must not grow the channel.
                    let queued = p.io.queued.load(Ordering::Relaxed);
                    if p.io.cancels.load(Ordering::Relaxed) < queued {
                        p.io.cancels.fetch_add(1, Ordering::Relaxed);
                        out.msgs.push(Out::Unserve(r));
                    }
                }
                Message::Piece {
                    piece,
                    offset,
                    data,
                } => {
                    let len = data.len() as u64;
                    stats.downloaded += len;
                    p.downloaded += len;
                    let req = BlockRequest {
                        piece,
                        offset,
                        len: data.len() as u32,
                    };
                    // Only blocks we asked this peer for (still waiting, or given up on
                    // lately) are taken: a block nobody asked it for must not displace the
                    // honest requester's.
                    let expected = p.pipe.on_block(&req, now);
                    if expected {
                        p.last_block = Some(now);
                    }
                    let outcome = if expected || p.pipe.take_late(&req) {
                        picker.on_block(key, req)
                    } else {
                        p.unrequested += 1;
                        // Late blocks are normal (cancel races, timeouts, end-game); a peer
                        // whose data is mostly unasked-for is pushing it.
                        let unasked = u64::from(p.unrequested) * u64::from(BLOCK_SIZE);
                        if p.unrequested > MAX_UNREQUESTED && unasked * 2 > p.downloaded {
                            out.close = Some(DisconnectReason::UnrequestedData);
                        }
                        BlockOutcome::Unrequested
                    };
                    self.keep_block(
                        picker,
                        assembly,
                        stats,
                        outcome,
                        req,
                        &data,
                        p.addr,
                        expected,
                        &mut cancels,
                        &mut out.done,
                    );
                }
                Message::HaveAll | Message::HaveNone if p.announced || !p.fast => {
                    out.close = Some(DisconnectReason::BadBitfield(
                        "unexpected have_all/have_none".into(),
                    ));
                }
                Message::HaveAll => {
                    let bf = Bitfield::full(self.num_pieces() as usize);
                    picker.add_peer_bitfield(&bf);
                    p.bitfield = bf;
                    p.announced = true;
                    if !seeding {
                        set_interest(p, true, &mut out.msgs);
                    }
                }
                Message::HaveNone => p.announced = true,
                Message::RejectRequest(r) => {
                    if p.pipe.reject(&r) {
                        picker.cancel_request(key, r);
                        assembly.unrequested(r.piece, &self.env.buffers);
                    }
                }
                Message::Extended { id, payload } => {
                    match self.on_extended(p, id, &payload, now, &mut out.msgs) {
                        Ok(learned) => {
                            learned_any |= Torrent::learn_from_pex_into(book, learned, now)
                        }
                        Err(reason) => out.close = Some(reason),
                    }
                }
                // Advisory (BEP 6): we pick by rarity and request only while unchoked.
                Message::SuggestPiece(_) | Message::AllowedFast(_) => {}
                Message::KeepAlive | Message::Port(_) | Message::Unknown { .. } => {}
            }
        }
        if seeding && p.is_seed() && out.close.is_none() {
            out.close = Some(DisconnectReason::BothSeeds);
        }
        if !seeding {
            self.top_up(key, p, picker, assembly, pick_scratch, &mut out.msgs, now);
        }
        if !out.msgs.is_empty() {
            p.take_haves(&mut out.msgs);
        }
        send_cancels(peers, assembly, &self.env.buffers, cancels);
        if wants_unchoke {
            self.admit(sh, key, out);
        }
        if learned_any {
            self.dial_wake.notify_one();
        }
    }

    /// Keeps a block the picker judged (`outcome`), from a peer or a web seed at `from`:
    /// copies it into its piece's buffer, notes the other requesters to cancel and the piece
    /// if it is now whole. `expected`: the sender had it requested (its request ends here).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn keep_block(
        &self,
        picker: &mut Picker,
        assembly: &mut Assembly,
        stats: &mut Stats,
        outcome: BlockOutcome,
        req: BlockRequest,
        data: &[u8],
        from: SocketAddr,
        expected: bool,
        cancels: &mut Vec<(PeerKey, BlockRequest)>,
        done: &mut Vec<DonePiece>,
    ) {
        let (piece, len) = (req.piece, data.len() as u64);
        match outcome {
            BlockOutcome::Accepted {
                piece_complete,
                cancel,
            } => {
                // A late block may find its idle buffer already freed.
                let room = assembly.has(piece)
                    || assembly.ensure(piece, self.piece_size(piece), &self.env.buffers);
                if !room || !assembly.write_block(piece, req.offset, data, from) {
                    // The picker took a block we have no room for: start the piece over.
                    tracing::warn!(
                        piece,
                        offset = req.offset,
                        "accepted block without a buffer"
                    );
                    stats.wasted += len;
                    picker.piece_failed(piece);
                    assembly.discard(piece, &self.env.buffers);
                    return;
                }
                if expected {
                    assembly.unrequested(piece, &self.env.buffers);
                }
                cancels.extend(cancel.into_iter().map(|k| (k, req)));
                if piece_complete {
                    done.extend(assembly.take(piece));
                }
            }
            BlockOutcome::Unrequested => {
                stats.wasted += len;
                if expected {
                    assembly.unrequested(piece, &self.env.buffers);
                }
            }
        }
    }

    /// Queues a valid request for serving; drops and counts invalid ones.
    fn on_request(&self, p: &mut PeerEntry, r: BlockRequest, have: &Bitfield, out: &mut BatchOut) {
        // Validity is checked even while we choke: out-of-range requests are abuse whether or
        // not they raced a choke, and a peer flooding them must be dropped.
        let in_range = r.piece < self.num_pieces()
            && r.len > 0
            && r.len <= BLOCK_SIZE
            && u64::from(r.offset) + u64::from(r.len) <= self.piece_size(r.piece) as u64;
        if in_range && p.am_choking {
            // Raced with our choke: harmless. Fast peers are told (BEP 6).
            if p.fast {
                out.msgs.push(Out::Msg(Message::RejectRequest(r)));
            }
            return;
        }
        if !in_range || !have.get(r.piece as usize) {
            if p.fast {
                out.msgs.push(Out::Msg(Message::RejectRequest(r)));
            }
            p.abuse += 1;
            if p.abuse > MAX_ABUSE {
                out.close = Some(DisconnectReason::InvalidRequests);
            }
            return;
        }
        if p.io.queued.load(Ordering::Relaxed) >= MAX_QUEUED_REQUESTS {
            return;
        }
        p.io.queued.fetch_add(1, Ordering::Relaxed);
        out.msgs.push(Out::Serve(r));
    }

    /// Fills the peer's pipeline from the picker, reserving assembly buffers for new pieces.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn top_up(
        &self,
        key: PeerKey,
        p: &mut PeerEntry,
        picker: &mut Picker,
        assembly: &mut Assembly,
        scratch: &mut Vec<BlockRequest>,
        out: &mut Vec<Out>,
        now: Instant,
    ) {
        if p.peer_choking || !p.am_interested {
            return;
        }
        let want = p.pipe.refill();
        if want == 0 {
            return;
        }
        scratch.clear();
        picker.pick(key, &p.bitfield, want, scratch);
        for r in scratch.drain(..) {
            if !assembly.ensure(r.piece, self.piece_size(r.piece), &self.env.buffers) {
                picker.cancel_request(key, r);
                continue;
            }
            assembly.requested(r.piece);
            p.pipe.push(r, now);
            out.push(Out::Msg(Message::Request(r)));
        }
    }

    /// Tops up every peer's pipeline: assembly memory was just freed, and peers whose
    /// picks were refused for lack of it would otherwise idle until the next tick. Pending
    /// `have`s go along with any requests.
    pub(crate) fn top_up_all(&self, sh: &mut Shared) {
        if sh.state != TorrentState::Downloading {
            return;
        }
        let now = Instant::now();
        let Shared {
            peers,
            picker,
            assembly,
            pick_scratch,
            ..
        } = sh;
        for (key, p) in peers.iter_mut() {
            let mut out = Vec::new();
            self.top_up(*key, p, picker, assembly, pick_scratch, &mut out, now);
            if !out.is_empty() {
                p.take_haves(&mut out);
                p.send(WriterCmd::Batch(out));
            }
        }
    }

    /// Unchokes a newly interested peer right away if the choker and the session's slot
    /// pool have a free slot.
    fn admit(&self, sh: &mut Shared, key: PeerKey, out: &mut BatchOut) {
        let views = super::tick::choke_views(sh, Instant::now());
        let unchoked = views.iter().filter(|v| v.unchoked).count();
        if sh.choker.admit_now(&views)
            && self.env.upload_slots.grant(self.info_hash, unchoked + 1) > unchoked
        {
            if let Some(p) = sh.peers.get_mut(&key) {
                p.am_choking = false;
                out.msgs.push(Out::Msg(Message::Unchoke));
            }
        }
    }
}

/// Cancels the block at the other peers that still have it requested (end-game, or a late
/// answer after a timeout). Web seeds are not in `peers`: their answers are judged on arrival.
pub(crate) fn send_cancels(
    peers: &mut HashMap<PeerKey, PeerEntry>,
    assembly: &mut Assembly,
    budget: &Budget,
    cancels: Vec<(PeerKey, BlockRequest)>,
) {
    for (k, r) in cancels {
        if let Some(o) = peers.get_mut(&k) {
            if o.pipe.remove(&r) {
                assembly.unrequested(r.piece, budget);
                o.send(WriterCmd::One(Out::Msg(Message::Cancel(r))));
            }
        }
    }
}

/// Sends Interested/NotInterested when our interest changes.
pub(crate) fn set_interest(p: &mut PeerEntry, interested: bool, out: &mut Vec<Out>) {
    if p.am_interested != interested {
        p.am_interested = interested;
        let m = if interested {
            Message::Interested
        } else {
            Message::NotInterested
        };
        out.push(Out::Msg(m));
    }
}
