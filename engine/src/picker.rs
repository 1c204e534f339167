//! Block-level piece picker: which 16 KiB blocks to request from which peer.
//!
//! Policy: finish pieces already in progress (the asking peer's own first, so fewer pieces are
//! in flight and fewer piece buffers are held), then start a new piece: random until
//! [`RANDOM_FIRST_PIECES`] pieces are verified (get something to trade quickly), rarest-first
//! afterwards. Once every missing block that some connected peer has is requested, end-game
//! lets a peer duplicate blocks requested from others, at most [`MAX_DUPLICATES`] extra
//! requests per block.
//!
//! Cost: pieces that can be started live in per-availability buckets, so rarest-first usually
//! finds a piece after a few probes; a bitfield scan (64 pieces per step) is the fallback. The
//! in-progress list is scanned per call, so the caller keeps it small ([`Picker::pieces_in_progress`]).

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

pub use crate::wire::BlockRequest;
use crate::{Bitfield, PeerKey};

/// Request size used by every client in practice.
pub const BLOCK_SIZE: u32 = 16 * 1024;
/// Extra requests per block allowed in end-game, besides the first one.
pub const MAX_DUPLICATES: usize = 2;
/// Verified pieces after which the picker switches from random to rarest-first.
pub const RANDOM_FIRST_PIECES: usize = 4;

/// The priority of pieces a streaming reader waits for: above every file priority.
pub const DEADLINE: u8 = u8::MAX;

const MAX_REQUESTERS: usize = 1 + MAX_DUPLICATES;
const NONE: u32 = u32::MAX;
/// Bucket entries rarest-first looks at before falling back to a bitfield scan.
const BUCKET_PROBES: usize = 256;

/// What to do with a block that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockOutcome {
    /// Keep the data. `cancel` lists the other peers that still have this block requested
    /// (end-game or a late answer after a timeout): send them a cancel.
    Accepted {
        piece_complete: bool,
        cancel: Vec<PeerKey>,
    },
    /// Not something we need (unknown piece, bad geometry, already received): discard it.
    Unrequested,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Requested,
    Received,
}

/// One block of a piece in progress. `peers[..n]` are the requesters, or the sender once
/// received.
#[derive(Clone, Copy)]
struct Block {
    state: State,
    n: u8,
    peers: [PeerKey; MAX_REQUESTERS],
}

impl Block {
    const FREE: Block = Block {
        state: State::Free,
        n: 0,
        peers: [PeerKey(0); MAX_REQUESTERS],
    };

    fn requesters(&self) -> &[PeerKey] {
        &self.peers[..self.n as usize]
    }

    fn add(&mut self, peer: PeerKey) {
        self.peers[self.n as usize] = peer;
        self.n += 1;
        self.state = State::Requested;
    }

    /// Drops `peer`'s request; returns true when the block became free.
    fn remove(&mut self, peer: PeerKey) -> bool {
        if self.state != State::Requested {
            return false;
        }
        let n = self.n as usize;
        let Some(i) = self.peers[..n].iter().position(|&p| p == peer) else {
            return false;
        };
        self.peers.copy_within(i + 1..n, i);
        self.n -= 1;
        if self.n == 0 {
            self.state = State::Free;
            return true;
        }
        false
    }
}

struct Partial {
    piece: u32,
    started_by: PeerKey,
    blocks: Vec<Block>,
    free: u32,
    received: u32,
    /// No block before this index is free.
    first_free: u32,
}

impl Partial {
    fn free_block(&mut self, b: usize) {
        self.free += 1;
        self.first_free = self.first_free.min(b as u32);
    }
}

/// Block-level picker state for one torrent. Pure data: no I/O, no async.
pub struct Picker {
    piece_length: u32,
    total_length: u64,
    num_pieces: u32,
    have: Bitfield,
    priority: Vec<u8>,
    availability: Vec<u32>,
    /// Wanted = not had and priority > 0; 64 pieces per word, wire bit order (bit 63 first).
    want: Vec<u64>,
    /// Wanted and not in progress: the pieces a new request may start.
    pool: Vec<u64>,
    pool_len: usize,
    /// Pool pieces by availability; `bucket_pos[piece]` is the index inside its bucket.
    buckets: Vec<Vec<u32>>,
    bucket_pos: Vec<u32>,
    partials: Vec<Partial>,
    partial_idx: Vec<u32>,
    free_blocks: u64,
    wanted_missing: u32,
    missing_bytes: u64,
    /// Start pieces in index order (previews).
    sequential: bool,
    /// Wanted pieces have different priorities: new pieces come from the highest level first.
    tiered: bool,
    /// Pieces a reader waits for (streaming), at [`DEADLINE`] level, with the level they
    /// had before; started in index order ahead of everything else.
    deadlines: Vec<(u32, u8)>,
    rng: SmallRng,
}

fn bit(i: usize) -> (usize, u64) {
    (i / 64, 1u64 << (63 - i % 64))
}

/// Word `w` of a wire-order bitfield, zero-padded past its end.
fn word_of(bytes: &[u8], w: usize) -> u64 {
    let s = w * 8;
    let mut a = [0u8; 8];
    if s < bytes.len() {
        let end = (s + 8).min(bytes.len());
        a[..end - s].copy_from_slice(&bytes[s..end]);
    }
    u64::from_be_bytes(a)
}

/// Piece index of the `r`-th set bit of `m` (counting from the highest bit) in word `w`.
fn nth_piece(w: usize, mut m: u64, r: u32) -> usize {
    // Clear from the low end: the (ones - 1 - r)-th lowest bit is the r-th highest.
    for _ in 0..m.count_ones() - 1 - r {
        m &= m - 1;
    }
    w * 64 + 63 - m.trailing_zeros() as usize
}

/// Block `b` of a piece `piece_len` bytes long.
fn block_request(piece: u32, piece_len: u32, b: usize) -> BlockRequest {
    let offset = b as u32 * BLOCK_SIZE;
    BlockRequest {
        piece,
        offset,
        len: (piece_len - offset).min(BLOCK_SIZE),
    }
}

impl Picker {
    /// A picker for a torrent with nothing downloaded yet; every piece has priority 1.
    /// A zero piece length or total yields an empty (already complete) picker.
    pub fn new(piece_length: u32, total_length: u64) -> Self {
        let num_pieces = if piece_length == 0 {
            0
        } else {
            u32::try_from(total_length.div_ceil(u64::from(piece_length))).unwrap_or(0)
        };
        let n = num_pieces as usize;
        let words = n.div_ceil(64);
        let mut p = Picker {
            piece_length,
            total_length: if num_pieces == 0 { 0 } else { total_length },
            num_pieces,
            have: Bitfield::new(n),
            priority: vec![1; n],
            availability: vec![0; n],
            want: vec![0; words],
            pool: vec![0; words],
            pool_len: 0,
            buckets: vec![Vec::new()],
            bucket_pos: vec![NONE; n],
            partials: Vec::new(),
            partial_idx: vec![NONE; n],
            free_blocks: 0,
            wanted_missing: 0,
            missing_bytes: 0,
            sequential: false,
            tiered: false,
            deadlines: Vec::new(),
            rng: SmallRng::from_rng(&mut rand::rng()),
        };
        for i in 0..n {
            p.update_want(i);
        }
        p
    }

    pub fn num_pieces(&self) -> u32 {
        self.num_pieces
    }

    /// Length of piece `i`; 0 when out of range.
    pub fn piece_len(&self, i: u32) -> u32 {
        if i >= self.num_pieces {
            return 0;
        }
        let start = u64::from(i) * u64::from(self.piece_length);
        (self.total_length - start).min(u64::from(self.piece_length)) as u32
    }

    /// Replaces what we have (after a recheck); drops in-progress state of pieces now had.
    pub fn set_have(&mut self, have: &Bitfield) {
        for i in 0..self.num_pieces as usize {
            if have.get(i) {
                self.remove_partial(i);
                self.have.set(i);
            } else {
                self.have.clear(i);
            }
            self.update_want(i);
        }
    }

    pub fn have(&self) -> &Bitfield {
        &self.have
    }

    /// 0 = don't download. A piece already in progress is still finished.
    pub fn set_piece_priority(&mut self, piece: u32, priority: u8) {
        if (piece as usize) < self.priority.len() {
            self.set_level(piece as usize, priority);
            self.update_tiered();
        }
    }

    /// Sets every piece's priority at once (a file selection; see `crate::selection`).
    /// Pieces past `levels` keep theirs.
    pub fn set_priorities(&mut self, levels: &[u8]) {
        for (i, &l) in levels.iter().enumerate().take(self.num_pieces as usize) {
            self.set_level(i, l);
        }
        self.update_tiered();
    }

    /// Replaces the pieces readers wait for: they go first, in index order, whatever their
    /// file's priority; the previous ones fall back to their own level.
    pub fn set_deadlines(&mut self, pieces: &[u32]) {
        for (piece, level) in std::mem::take(&mut self.deadlines) {
            self.priority[piece as usize] = level;
            self.update_want(piece as usize);
        }
        for &piece in pieces {
            let i = piece as usize;
            if i >= self.priority.len() || self.priority[i] == DEADLINE {
                continue;
            }
            self.deadlines.push((piece, self.priority[i]));
            self.priority[i] = DEADLINE;
            self.update_want(i);
        }
        self.update_tiered();
    }

    /// A piece's own level; a piece under a deadline keeps it for later.
    fn set_level(&mut self, i: usize, level: u8) {
        match self.deadlines.iter_mut().find(|(p, _)| *p as usize == i) {
            Some((_, own)) => *own = level,
            None => {
                self.priority[i] = level;
                self.update_want(i);
            }
        }
    }

    fn update_tiered(&mut self) {
        let mut wanted = self.priority.iter().filter(|&&l| l > 0);
        let first = wanted.next().copied();
        self.tiered = !self.deadlines.is_empty() || wanted.any(|&l| Some(l) != first);
    }

    /// Starts new pieces in index order instead of rarest-first.
    pub fn set_sequential(&mut self, on: bool) {
        self.sequential = on;
    }

    pub fn piece_priority(&self, piece: u32) -> u8 {
        self.priority.get(piece as usize).copied().unwrap_or(0)
    }

    /// How many connected peers have `piece`.
    pub fn availability(&self, piece: u32) -> u32 {
        self.availability.get(piece as usize).copied().unwrap_or(0)
    }

    pub fn add_peer_bitfield(&mut self, bf: &Bitfield) {
        self.for_each_piece(bf, |p, i| {
            p.set_avail(i, p.availability[i].saturating_add(1))
        });
    }

    pub fn add_peer_have(&mut self, piece: u32) {
        let i = piece as usize;
        if i < self.availability.len() {
            self.set_avail(i, self.availability[i].saturating_add(1));
        }
    }

    /// Undoes [`Picker::add_peer_bitfield`] plus the peer's haves: pass its current bitfield.
    pub fn remove_peer_bitfield(&mut self, bf: &Bitfield) {
        self.for_each_piece(bf, |p, i| {
            p.set_avail(i, p.availability[i].saturating_sub(1))
        });
    }

    /// Whether the peer has a wanted piece we lack.
    pub fn is_interesting(&self, peer_has: &Bitfield) -> bool {
        let bytes = peer_has.as_bytes();
        self.want
            .iter()
            .enumerate()
            .any(|(w, &m)| m & word_of(bytes, w) != 0)
    }

    /// Appends up to `max` new requests for `peer` to `out`.
    pub fn pick(
        &mut self,
        peer: PeerKey,
        peer_has: &Bitfield,
        max: usize,
        out: &mut Vec<BlockRequest>,
    ) {
        let mut budget = max;
        for mine in [true, false] {
            for i in 0..self.partials.len() {
                let part = &self.partials[i];
                if budget == 0 {
                    return;
                }
                if part.free > 0
                    && (part.started_by == peer) == mine
                    && peer_has.get(part.piece as usize)
                {
                    budget -= self.take_free(i, peer, budget, out);
                }
            }
        }
        while budget > 0 {
            let Some(piece) = self.choose_new(peer_has) else {
                break;
            };
            let i = self.start_partial(piece, peer);
            budget -= self.take_free(i, peer, budget, out);
        }
        if budget > 0 && self.in_endgame() {
            self.take_duplicates(peer, peer_has, budget, out);
        }
    }

    /// Records a block that arrived from `peer`. Late blocks (after a timeout or cancel) are
    /// accepted as long as the block is still needed.
    pub fn on_block(&mut self, peer: PeerKey, req: BlockRequest) -> BlockOutcome {
        let Some((i, b)) = self.locate(req) else {
            return BlockOutcome::Unrequested;
        };
        let part = &mut self.partials[i];
        let block = &mut part.blocks[b];
        let cancel = match block.state {
            State::Received => return BlockOutcome::Unrequested,
            State::Free => {
                part.free -= 1;
                self.free_blocks -= 1;
                Vec::new()
            }
            State::Requested => block
                .requesters()
                .iter()
                .copied()
                .filter(|&p| p != peer)
                .collect(),
        };
        *block = Block {
            state: State::Received,
            n: 1,
            peers: [peer; MAX_REQUESTERS],
        };
        part.received += 1;
        let piece_complete = part.received as usize == part.blocks.len();
        BlockOutcome::Accepted {
            piece_complete,
            cancel,
        }
    }

    /// Forgets `peer`'s request (timed out, rejected, choked); the block is free again unless
    /// others also requested it.
    pub fn cancel_request(&mut self, peer: PeerKey, req: BlockRequest) {
        let Some((i, b)) = self.locate(req) else {
            return;
        };
        let part = &mut self.partials[i];
        if part.blocks[b].remove(peer) {
            part.free_block(b);
            self.free_blocks += 1;
            self.release_if_idle(i);
        }
    }

    /// Returns all of `peer`'s outstanding requests to the pool. Availability is untouched:
    /// the caller also calls [`Picker::remove_peer_bitfield`].
    pub fn peer_gone(&mut self, peer: PeerKey) {
        for i in (0..self.partials.len()).rev() {
            let part = &mut self.partials[i];
            let mut freed = 0;
            for b in 0..part.blocks.len() {
                if part.blocks[b].remove(peer) {
                    part.free_block(b);
                    freed += 1;
                }
            }
            if freed > 0 {
                self.free_blocks += freed;
                self.release_if_idle(i);
            }
        }
    }

    pub fn piece_verified(&mut self, piece: u32) {
        let i = piece as usize;
        if i < self.num_pieces as usize {
            self.remove_partial(i);
            self.have.set(i);
            self.update_want(i);
        }
    }

    /// The piece failed its hash check: it is downloaded again from scratch. Returns the
    /// distinct peers that sent its blocks.
    pub fn piece_failed(&mut self, piece: u32) -> Vec<PeerKey> {
        let i = piece as usize;
        if i >= self.num_pieces as usize {
            return Vec::new();
        }
        let mut peers: Vec<PeerKey> = self
            .remove_partial(i)
            .map(|part| {
                part.blocks
                    .iter()
                    .filter(|b| b.state == State::Received)
                    .map(|b| b.peers[0])
                    .collect()
            })
            .unwrap_or_default();
        peers.sort_unstable();
        peers.dedup();
        if self.have.clear(i) {
            self.update_want(i);
        }
        peers
    }

    /// All wanted pieces are verified.
    pub fn is_complete(&self) -> bool {
        self.wanted_missing == 0
    }

    /// Every missing block that a connected peer can provide is requested: duplicates are
    /// now allowed. Pieces nobody has (availability 0) do not hold end-game off, so callers
    /// must keep availability up to date.
    pub fn in_endgame(&self) -> bool {
        self.wanted_missing > 0
            && self.pool_len == self.buckets[0].len()
            && (self.free_blocks == 0
                || self
                    .partials
                    .iter()
                    .all(|p| p.free == 0 || self.availability[p.piece as usize] == 0))
    }

    /// Pieces started and not yet verified or failed (including ones awaiting their hash).
    pub fn pieces_in_progress(&self) -> usize {
        self.partials.len()
    }

    /// Bytes of wanted pieces not verified yet.
    pub fn missing_bytes(&self) -> u64 {
        self.missing_bytes
    }

    // ---- internals ----

    fn for_each_piece(&mut self, bf: &Bitfield, mut f: impl FnMut(&mut Self, usize)) {
        let n = self.num_pieces as usize;
        for (byte_idx, &byte) in bf.as_bytes().iter().enumerate() {
            let mut m = byte;
            while m != 0 {
                let i = byte_idx * 8 + m.leading_zeros() as usize;
                m &= !(0x80 >> (i % 8));
                if i < n {
                    f(self, i);
                }
            }
        }
    }

    fn num_blocks(&self, piece: u32) -> usize {
        self.piece_len(piece).div_ceil(BLOCK_SIZE) as usize
    }

    /// (partial index, block index) of a well-formed request for a piece in progress.
    fn locate(&self, req: BlockRequest) -> Option<(usize, usize)> {
        let i = *self.partial_idx.get(req.piece as usize)?;
        if i == NONE || req.offset & (BLOCK_SIZE - 1) != 0 {
            return None;
        }
        let b = (req.offset / BLOCK_SIZE) as usize;
        let ok = b < self.partials[i as usize].blocks.len()
            && req.len == block_request(req.piece, self.piece_len(req.piece), b).len;
        ok.then_some((i as usize, b))
    }

    /// Recomputes whether `i` is wanted and keeps counters and the pool in step.
    fn update_want(&mut self, i: usize) {
        let wanted = !self.have.get(i) && self.priority[i] > 0;
        let (w, m) = bit(i);
        if wanted != (self.want[w] & m != 0) {
            self.want[w] ^= m;
            let len = u64::from(self.piece_len(i as u32));
            if wanted {
                self.wanted_missing += 1;
                self.missing_bytes += len;
            } else {
                self.wanted_missing -= 1;
                self.missing_bytes -= len;
            }
        }
        let in_pool = self.bucket_pos[i] != NONE;
        let should = wanted && self.partial_idx[i] == NONE;
        if should && !in_pool {
            self.pool[w] |= m;
            self.pool_len += 1;
            self.bucket_push(i);
        } else if !should && in_pool {
            self.pool[w] &= !m;
            self.pool_len -= 1;
            self.bucket_remove(i);
        }
    }

    fn set_avail(&mut self, i: usize, a: u32) {
        if self.bucket_pos[i] != NONE {
            self.bucket_remove(i);
            self.availability[i] = a;
            self.bucket_push(i);
        } else {
            self.availability[i] = a;
        }
    }

    fn bucket_push(&mut self, i: usize) {
        let a = self.availability[i] as usize;
        if self.buckets.len() <= a {
            self.buckets.resize_with(a + 1, Vec::new);
        }
        self.bucket_pos[i] = self.buckets[a].len() as u32;
        self.buckets[a].push(i as u32);
    }

    fn bucket_remove(&mut self, i: usize) {
        let bucket = &mut self.buckets[self.availability[i] as usize];
        let pos = self.bucket_pos[i] as usize;
        bucket.swap_remove(pos);
        if let Some(&moved) = bucket.get(pos) {
            self.bucket_pos[moved as usize] = pos as u32;
        }
        self.bucket_pos[i] = NONE;
    }

    fn start_partial(&mut self, piece: u32, peer: PeerKey) -> usize {
        let nb = self.num_blocks(piece);
        let idx = self.partials.len();
        self.partials.push(Partial {
            piece,
            started_by: peer,
            blocks: vec![Block::FREE; nb],
            free: nb as u32,
            received: 0,
            first_free: 0,
        });
        self.free_blocks += nb as u64;
        self.partial_idx[piece as usize] = idx as u32;
        self.update_want(piece as usize);
        idx
    }

    fn remove_partial(&mut self, i: usize) -> Option<Partial> {
        let idx = self.partial_idx[i];
        if idx == NONE {
            return None;
        }
        let part = self.partials.swap_remove(idx as usize);
        if let Some(moved) = self.partials.get(idx as usize) {
            self.partial_idx[moved.piece as usize] = idx;
        }
        self.partial_idx[i] = NONE;
        self.free_blocks -= u64::from(part.free);
        self.update_want(i);
        Some(part)
    }

    /// A piece with nothing received and nothing requested goes back to the pool, so the
    /// in-progress list only holds pieces someone is working on.
    fn release_if_idle(&mut self, i: usize) {
        let part = &self.partials[i];
        if part.received == 0 && part.free as usize == part.blocks.len() {
            self.remove_partial(part.piece as usize);
        }
    }

    fn take_free(
        &mut self,
        i: usize,
        peer: PeerKey,
        budget: usize,
        out: &mut Vec<BlockRequest>,
    ) -> usize {
        let piece = self.partials[i].piece;
        let plen = self.piece_len(piece);
        let part = &mut self.partials[i];
        let mut taken = 0;
        let mut b = part.first_free as usize;
        while taken < budget && part.free > 0 && b < part.blocks.len() {
            if part.blocks[b].state == State::Free {
                part.blocks[b].add(peer);
                part.free -= 1;
                out.push(block_request(piece, plen, b));
                taken += 1;
            }
            b += 1;
        }
        part.first_free = b as u32;
        self.free_blocks -= taken as u64;
        taken
    }

    fn take_duplicates(
        &mut self,
        peer: PeerKey,
        peer_has: &Bitfield,
        mut budget: usize,
        out: &mut Vec<BlockRequest>,
    ) {
        // Least-duplicated blocks first.
        for n in 1..MAX_REQUESTERS as u8 {
            for i in 0..self.partials.len() {
                let piece = self.partials[i].piece;
                if !peer_has.get(piece as usize) {
                    continue;
                }
                let plen = self.piece_len(piece);
                for (b, blk) in self.partials[i].blocks.iter_mut().enumerate() {
                    if budget == 0 {
                        return;
                    }
                    if blk.state == State::Requested
                        && blk.n == n
                        && !blk.requesters().contains(&peer)
                    {
                        blk.add(peer);
                        out.push(block_request(piece, plen, b));
                        budget -= 1;
                    }
                }
            }
        }
    }

    fn choose_new(&mut self, peer_has: &Bitfield) -> Option<u32> {
        if self.pool_len == 0 {
            return None;
        }
        if self.sequential || self.tiered {
            return self.ordered_candidate(peer_has).map(|i| i as u32);
        }
        if self.have.count_ones() < RANDOM_FIRST_PIECES {
            self.random_candidate(peer_has)
        } else {
            self.rarest_candidate(peer_has)
        }
        .map(|i| i as u32)
    }

    /// The pool piece the peer has with the highest priority; among those the first one when
    /// sequential, else the rarest (ties at random). One pass over the bitfields.
    fn ordered_candidate(&mut self, peer_has: &Bitfield) -> Option<usize> {
        let bytes = peer_has.as_bytes();
        let (mut best, mut key, mut ties) = (None, (0u8, u32::MAX), 0u32);
        for w in 0..self.pool.len() {
            let mut m = self.pool[w] & word_of(bytes, w);
            while m != 0 {
                let i = w * 64 + m.leading_zeros() as usize;
                m &= !(1u64 << (63 - i % 64));
                let level = self.priority[i];
                if level == DEADLINE {
                    // The highest level, met in index order: nothing can beat it.
                    return Some(i);
                }
                if self.sequential {
                    if best.is_none() || level > key.0 {
                        (best, key.0) = (Some(i), level);
                    }
                    continue;
                }
                let avail = self.availability[i];
                if best.is_none() || level > key.0 || (level == key.0 && avail < key.1) {
                    (best, key, ties) = (Some(i), (level, avail), 1);
                } else if (level, avail) == key {
                    ties += 1;
                    if self.rng.random_range(0..ties) == 0 {
                        best = Some(i);
                    }
                }
            }
        }
        best
    }

    /// A random pool piece the peer has: random start word, random bit within the first hit.
    fn random_candidate(&mut self, peer_has: &Bitfield) -> Option<usize> {
        let bytes = peer_has.as_bytes();
        let words = self.pool.len();
        let start = self.rng.random_range(0..words);
        (0..words).map(|k| (start + k) % words).find_map(|w| {
            let m = self.pool[w] & word_of(bytes, w);
            (m != 0).then(|| nth_piece(w, m, self.rng.random_range(0..m.count_ones())))
        })
    }

    /// The least available pool piece the peer has, ties broken at random.
    fn rarest_candidate(&mut self, peer_has: &Bitfield) -> Option<usize> {
        let mut probes = 0;
        for bucket in &self.buckets {
            let len = bucket.len();
            if len == 0 {
                continue;
            }
            let start = self.rng.random_range(0..len);
            for k in 0..len {
                let i = bucket[(start + k) % len] as usize;
                if peer_has.get(i) {
                    return Some(i);
                }
                probes += 1;
                if probes >= BUCKET_PROBES {
                    return self.rarest_by_scan(peer_has);
                }
            }
        }
        None
    }

    /// Fallback for peers that have few of the rare pieces: one pass over the bitfields.
    fn rarest_by_scan(&mut self, peer_has: &Bitfield) -> Option<usize> {
        let bytes = peer_has.as_bytes();
        let (mut best, mut best_avail, mut ties) = (None, u32::MAX, 0u32);
        for w in 0..self.pool.len() {
            let mut m = self.pool[w] & word_of(bytes, w);
            while m != 0 {
                let i = w * 64 + m.leading_zeros() as usize;
                m &= !(1u64 << (63 - i % 64));
                let a = self.availability[i];
                if a < best_avail {
                    (best, best_avail, ties) = (Some(i), a, 1);
                } else if a == best_avail {
                    ties += 1;
                    if self.rng.random_range(0..ties) == 0 {
                        best = Some(i);
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: u32 = BLOCK_SIZE;

    fn bf(n: usize, ones: &[usize]) -> Bitfield {
        let mut b = Bitfield::new(n);
        for &i in ones {
            b.set(i);
        }
        b
    }

    fn pick(p: &mut Picker, peer: u64, has: &Bitfield, max: usize) -> Vec<BlockRequest> {
        let mut out = Vec::new();
        p.pick(PeerKey(peer), has, max, &mut out);
        out
    }

    #[test]
    fn random_first_then_rarest() {
        let n = 64;
        let all = Bitfield::full(n);
        // availability: piece 10 -> 1, piece 20 and 30 -> 2, everything else -> 3
        let mut firsts = std::collections::HashSet::new();
        for _ in 0..40 {
            let mut p = Picker::new(K, n as u64 * u64::from(K));
            p.add_peer_bitfield(&all);
            p.add_peer_bitfield(&bf(n, &(0..n).filter(|&i| i != 10).collect::<Vec<_>>()));
            p.add_peer_bitfield(&bf(
                n,
                &(0..n)
                    .filter(|&i| ![10, 20, 30].contains(&i))
                    .collect::<Vec<_>>(),
            ));
            firsts.insert(pick(&mut p, 1, &all, 1)[0].piece);
        }
        assert!(firsts.len() > 3, "random phase should spread: {firsts:?}");

        let mut later = std::collections::HashSet::new();
        for _ in 0..40 {
            let mut p = Picker::new(K, n as u64 * u64::from(K));
            p.add_peer_bitfield(&all);
            p.add_peer_bitfield(&bf(n, &(0..n).filter(|&i| i != 10).collect::<Vec<_>>()));
            p.add_peer_bitfield(&bf(
                n,
                &(0..n)
                    .filter(|&i| ![10, 20, 30].contains(&i))
                    .collect::<Vec<_>>(),
            ));
            p.set_have(&bf(n, &[0, 1, 2, 3]));
            assert_eq!(pick(&mut p, 1, &all, 1)[0].piece, 10, "rarest first");
            later.insert(pick(&mut p, 1, &all, 1)[0].piece);
        }
        assert_eq!(
            later,
            [20, 30].into(),
            "ties broken at random among the rarest"
        );
    }

    #[test]
    fn sequential_and_priority_tiers() {
        let n = 16;
        let all = Bitfield::full(n);
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        p.add_peer_bitfield(&all);
        p.set_sequential(true);
        let order: Vec<u32> = (0..3).map(|_| pick(&mut p, 1, &all, 1)[0].piece).collect();
        assert_eq!(order, [0, 1, 2], "sequential starts pieces in order");

        let mut p = Picker::new(K, n as u64 * u64::from(K));
        p.add_peer_bitfield(&all);
        // 0..4 skipped, 4..8 low, 8..12 normal, 12..16 high
        let levels: Vec<u8> = (0..n).map(|i| (i / 4) as u8).collect();
        p.set_priorities(&levels);
        let picked: Vec<u32> = (0..12).map(|_| pick(&mut p, 1, &all, 1)[0].piece).collect();
        assert!(
            picked[..4].iter().all(|&i| i >= 12),
            "high first: {picked:?}"
        );
        assert!(
            picked[4..8].iter().all(|&i| (8..12).contains(&i)),
            "{picked:?}"
        );
        assert!(
            picked[8..].iter().all(|&i| (4..8).contains(&i)),
            "low last: {picked:?}"
        );
        assert!(
            pick(&mut p, 1, &all, 1).is_empty(),
            "skipped pieces never picked"
        );
        for i in 4..16 {
            p.piece_verified(i);
        }
        assert!(
            p.is_complete(),
            "complete once every wanted piece is verified"
        );
        p.set_priorities(&[2; 16]);
        assert!(!p.is_complete(), "un-skipping resumes the download");
    }

    #[test]
    fn deadlines_go_first_in_order_and_then_fall_back() {
        let n = 32;
        let all = Bitfield::full(n);
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        p.add_peer_bitfield(&all);
        let mut levels = vec![2u8; n];
        levels[20] = 0;
        p.set_priorities(&levels);
        p.set_deadlines(&[22, 20, 21]);
        let picked: Vec<u32> = (0..3).map(|_| pick(&mut p, 1, &all, 1)[0].piece).collect();
        assert_eq!(
            picked,
            [20, 21, 22],
            "deadline pieces first, in index order"
        );
        p.set_deadlines(&[30]);
        assert_eq!(pick(&mut p, 1, &all, 1)[0].piece, 30, "a moved window wins");
        // A selection change under a deadline is remembered for afterwards.
        p.set_piece_priority(30, 0);
        p.set_deadlines(&[]);
        p.set_priorities(&levels);
        let rest: Vec<u32> =
            std::iter::from_fn(|| pick(&mut p, 1, &all, 1).first().map(|r| r.piece))
                .take(64)
                .collect();
        assert_eq!(rest.len(), n - 4, "every piece not started yet, once");
        assert!(!rest.contains(&20));
        assert_eq!(p.piece_priority(30), 2);
    }

    #[test]
    fn rarest_scan_fallback_for_sparse_peers() {
        // many rare pieces the peer lacks exhaust the bucket probes; the scan still finds
        // the rarest piece it has
        let n = 2000;
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        p.set_have(&bf(n, &[0, 1, 2, 3]));
        p.add_peer_bitfield(&bf(n, &(0..n).collect::<Vec<_>>()));
        p.add_peer_bitfield(&bf(n, &(1000..n).collect::<Vec<_>>()));
        p.add_peer_bitfield(&bf(n, &[1500, 1700]));
        let peer = bf(n, &[1500, 1600, 1700]);
        assert_eq!(pick(&mut p, 1, &peer, 1)[0].piece, 1600);
    }

    #[test]
    fn prefers_partial_pieces_own_first() {
        let n = 8;
        let mut p = Picker::new(4 * K, n as u64 * 4 * u64::from(K));
        let all = Bitfield::full(n);
        p.add_peer_bitfield(&all);
        let a = pick(&mut p, 1, &all, 1);
        let b = pick(&mut p, 2, &all, 1);
        assert_eq!(b[0].piece, a[0].piece, "B continues the piece A started");
        assert_eq!(b[0].offset, K);
        assert_eq!(p.pieces_in_progress(), 1);
        // B starts its own piece once A's is fully requested
        let b2 = pick(&mut p, 2, &all, 4);
        assert_eq!(b2.iter().filter(|r| r.piece == a[0].piece).count(), 2);
        let own = b2.iter().find(|r| r.piece != a[0].piece).unwrap().piece;
        // free a block in A's piece and one in B's: B goes back to its own piece first
        p.cancel_request(PeerKey(1), a[0]);
        p.cancel_request(
            PeerKey(2),
            BlockRequest {
                piece: own,
                offset: 0,
                len: K,
            },
        );
        let again = pick(&mut p, 2, &all, 1);
        assert_eq!(again[0].piece, own);
    }

    #[test]
    fn endgame_duplicates_and_cancel_list() {
        let mut p = Picker::new(2 * K, 2 * u64::from(K));
        let all = Bitfield::full(1);
        p.add_peer_bitfield(&all);
        assert_eq!(pick(&mut p, 1, &all, 10).len(), 2);
        assert!(p.in_endgame());
        assert!(
            pick(&mut p, 1, &all, 10).is_empty(),
            "never duplicates to the same peer"
        );
        assert_eq!(pick(&mut p, 2, &all, 10).len(), 2);
        assert_eq!(pick(&mut p, 3, &all, 10).len(), 2);
        assert!(
            pick(&mut p, 4, &all, 10).is_empty(),
            "at most two duplicates per block"
        );
        let r0 = BlockRequest {
            piece: 0,
            offset: 0,
            len: K,
        };
        match p.on_block(PeerKey(2), r0) {
            BlockOutcome::Accepted {
                piece_complete: false,
                mut cancel,
            } => {
                cancel.sort();
                assert_eq!(cancel, vec![PeerKey(1), PeerKey(3)]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p.on_block(PeerKey(1), r0),
            BlockOutcome::Unrequested,
            "already have it"
        );
        let r1 = BlockRequest {
            piece: 0,
            offset: K,
            len: K,
        };
        assert!(matches!(
            p.on_block(PeerKey(3), r1),
            BlockOutcome::Accepted {
                piece_complete: true,
                ..
            }
        ));
        p.piece_verified(0);
        assert!(p.is_complete() && !p.in_endgame());
        assert_eq!(p.missing_bytes(), 0);
    }

    #[test]
    fn endgame_ignores_pieces_nobody_has() {
        let mut p = Picker::new(K, 3 * u64::from(K));
        let some = bf(3, &[0, 1]);
        p.add_peer_bitfield(&some);
        assert_eq!(pick(&mut p, 1, &some, 10).len(), 2);
        assert!(p.in_endgame(), "piece 2 has no source");
        assert_eq!(pick(&mut p, 2, &some, 10).len(), 2);
        p.add_peer_have(2);
        assert!(!p.in_endgame());
    }

    #[test]
    fn peer_gone_frees_blocks() {
        let mut p = Picker::new(2 * K, 4 * u64::from(K));
        let all = Bitfield::full(2);
        p.add_peer_bitfield(&all);
        let a = pick(&mut p, 1, &all, 3);
        assert_eq!(a.len(), 3);
        p.on_block(PeerKey(1), a[0]);
        p.peer_gone(PeerKey(1));
        assert_eq!(
            p.pieces_in_progress(),
            1,
            "piece with a received block stays"
        );
        let b = pick(&mut p, 2, &all, 10);
        let mut got: Vec<_> = b.iter().map(|r| (r.piece, r.offset)).collect();
        got.sort();
        let (p1, p2) = (a[0].piece, 1 - a[0].piece);
        let mut want = vec![(p1, K), (p2, 0), (p2, K)];
        want.sort();
        assert_eq!(got, want, "A's outstanding blocks are handed to B");
        // an untouched piece goes back to the pool when its only requester leaves
        p.peer_gone(PeerKey(2));
        assert_eq!(p.pieces_in_progress(), 1);
        assert_eq!(
            p.on_block(
                PeerKey(2),
                BlockRequest {
                    piece: 9,
                    offset: 0,
                    len: K
                }
            ),
            BlockOutcome::Unrequested
        );
    }

    #[test]
    fn piece_failed_returns_contributors_and_redownloads() {
        let mut p = Picker::new(2 * K, 2 * u64::from(K));
        let all = Bitfield::full(1);
        let a = pick(&mut p, 1, &all, 1);
        let b = pick(&mut p, 2, &all, 1);
        assert_eq!(
            p.on_block(PeerKey(1), a[0]),
            BlockOutcome::Accepted {
                piece_complete: false,
                cancel: vec![]
            }
        );
        assert_eq!(
            p.on_block(PeerKey(2), b[0]),
            BlockOutcome::Accepted {
                piece_complete: true,
                cancel: vec![]
            }
        );
        assert_eq!(p.piece_failed(0), vec![PeerKey(1), PeerKey(2)]);
        assert_eq!(p.pieces_in_progress(), 0);
        assert!(!p.is_complete());
        assert_eq!(pick(&mut p, 3, &all, 10).len(), 2, "downloaded again");
    }

    #[test]
    fn priority_zero_is_skipped() {
        let n = 6;
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        for i in 0..n as u32 {
            if i != 4 {
                p.set_piece_priority(i, 0);
            }
        }
        assert_eq!(p.missing_bytes(), u64::from(K));
        assert!(!p.is_interesting(&bf(n, &[0, 1, 2, 3, 5])));
        assert!(p.is_interesting(&bf(n, &[4])));
        let all = Bitfield::full(n);
        let r = pick(&mut p, 1, &all, 10);
        assert_eq!(r.iter().map(|r| r.piece).collect::<Vec<_>>(), vec![4]);
        p.on_block(PeerKey(1), r[0]);
        p.piece_verified(4);
        assert!(p.is_complete());
        assert!(pick(&mut p, 1, &all, 10).is_empty());
        p.set_piece_priority(0, 1);
        assert!(!p.is_complete());
        assert_eq!(pick(&mut p, 1, &all, 10)[0].piece, 0);
    }

    #[test]
    fn last_piece_has_short_last_block() {
        let total = 2 * 2 * u64::from(K) + 20_000; // pieces: 32K, 32K, 20000
        let mut p = Picker::new(2 * K, total);
        assert_eq!(p.num_pieces(), 3);
        assert_eq!(p.missing_bytes(), total);
        let has = bf(3, &[2]);
        let r = pick(&mut p, 1, &has, 10);
        assert_eq!(
            r,
            vec![
                BlockRequest {
                    piece: 2,
                    offset: 0,
                    len: K
                },
                BlockRequest {
                    piece: 2,
                    offset: K,
                    len: 20_000 - K
                },
            ]
        );
        let bad = BlockRequest {
            piece: 2,
            offset: K,
            len: K,
        };
        assert_eq!(
            p.on_block(PeerKey(1), bad),
            BlockOutcome::Unrequested,
            "wrong length"
        );
        let odd = BlockRequest {
            piece: 2,
            offset: 5,
            len: 10,
        };
        assert_eq!(
            p.on_block(PeerKey(1), odd),
            BlockOutcome::Unrequested,
            "unaligned"
        );
        for req in r {
            p.on_block(PeerKey(1), req);
        }
        p.piece_verified(2);
        assert_eq!(p.missing_bytes(), 4 * u64::from(K));
    }

    #[test]
    fn availability_and_late_blocks() {
        let n = 10;
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        let peer = bf(n, &[1, 9]);
        p.add_peer_bitfield(&peer);
        p.add_peer_have(3);
        assert_eq!(
            (p.availability(1), p.availability(3), p.availability(9)),
            (1, 1, 1)
        );
        p.remove_peer_bitfield(&bf(n, &[1, 3, 9]));
        assert_eq!((p.availability(1), p.availability(3)), (0, 0));
        p.remove_peer_bitfield(&peer);
        assert_eq!(p.availability(1), 0, "never underflows");
        p.add_peer_bitfield(&Bitfield::full(n));
        // a block that arrives after its request was cancelled is still taken
        let r = pick(&mut p, 1, &bf(n, &[5]), 1)[0];
        let other = pick(&mut p, 2, &bf(n, &[6]), 1)[0];
        p.cancel_request(PeerKey(2), other);
        assert_eq!(p.pieces_in_progress(), 1, "idle piece released");
        let dup = pick(&mut p, 3, &bf(n, &[5]), 1);
        assert!(dup.is_empty(), "other pieces can be had: no duplicates");
        p.cancel_request(PeerKey(1), r);
        let again = pick(&mut p, 3, &bf(n, &[5]), 1)[0];
        assert_eq!(again, r);
        assert_eq!(
            p.on_block(PeerKey(1), r),
            BlockOutcome::Accepted {
                piece_complete: true,
                cancel: vec![PeerKey(3)]
            }
        );
    }

    #[test]
    fn many_pieces_stay_cheap() {
        let n = 100_000usize;
        let mut p = Picker::new(K, n as u64 * u64::from(K));
        let all = Bitfield::full(n);
        p.add_peer_bitfield(&all);
        p.set_have(&bf(n, &[0, 1, 2, 3]));
        let t = std::time::Instant::now();
        let mut out = Vec::new();
        for i in 0..2000u64 {
            out.clear();
            p.pick(PeerKey(i), &all, 4, &mut out);
            for r in &out {
                p.on_block(PeerKey(i), *r);
                p.piece_verified(r.piece);
            }
        }
        // a peer with a single missing piece still finds it (bucket probes, then the scan)
        let target = (0..n).rev().find(|&i| !p.have().get(i)).unwrap();
        assert_eq!(
            pick(&mut p, 7, &bf(n, &[target]), 1)[0].piece,
            target as u32
        );
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(p.have().count_ones(), 4 + 8000);
    }
}
