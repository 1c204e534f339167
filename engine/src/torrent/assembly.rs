//! Piece assembly: blocks are copied once into a per-piece buffer; a whole piece leaves as one
//! page-aligned buffer for hashing and a direct write to disk. Buffers come from and go back to
//! the session [`Budget`], which charges them and keeps idle ones for reuse.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::session::budget::Budget;
use crate::storage::AlignedBuf;

/// A piece being assembled.
pub(crate) struct PieceBuf {
    /// Page-aligned so the piece can be written with `O_DIRECT` (storage/direct.rs).
    pub data: AlignedBuf,
    /// Who sent which block (offset, sender), for strikes if the hash fails.
    pub senders: Vec<(u32, SocketAddr)>,
    /// Requests for this piece in flight across all peers.
    inflight: u32,
    /// Blocks copied in so far.
    written: u32,
}

/// The peers that sent blocks of a piece, each once, in order of first block.
pub(crate) fn contributors(senders: &[(u32, SocketAddr)]) -> Vec<SocketAddr> {
    let mut v: Vec<SocketAddr> = Vec::new();
    for (_, a) in senders {
        if !v.contains(a) {
            v.push(*a);
        }
    }
    v
}

/// A completed piece on its way to the hasher.
pub(crate) struct DonePiece {
    pub piece: u32,
    pub buf: PieceBuf,
}

#[derive(Default)]
pub(crate) struct Assembly {
    pieces: HashMap<u32, PieceBuf>,
    /// Bytes this torrent has reserved from the budget (assembling + hashing).
    held: usize,
}

impl Assembly {
    /// Makes sure `piece` has a buffer of `len` bytes; false when the budget is spent.
    pub fn ensure(&mut self, piece: u32, len: usize, budget: &Budget) -> bool {
        if self.pieces.contains_key(&piece) {
            return true;
        }
        if !budget.try_reserve(len, self.held == 0) {
            return false;
        }
        self.held += len;
        let data = budget.buffer(len);
        self.pieces.insert(
            piece,
            PieceBuf {
                data,
                // One entry per block: sized once, not regrown on the hot path.
                senders: Vec::with_capacity(len.div_ceil(crate::wire::BLOCK_SIZE as usize)),
                inflight: 0,
                written: 0,
            },
        );
        true
    }

    /// Copies one block in; false if the piece has no buffer or the block does not fit.
    pub fn write_block(&mut self, piece: u32, offset: u32, block: &[u8], from: SocketAddr) -> bool {
        let Some(buf) = self.pieces.get_mut(&piece) else {
            return false;
        };
        let start = offset as usize;
        let Some(dst) = start
            .checked_add(block.len())
            .and_then(|end| buf.data.get_mut(start..end))
        else {
            return false;
        };
        dst.copy_from_slice(block);
        buf.written += 1;
        buf.senders.push((offset, from));
        true
    }

    pub fn has(&self, piece: u32) -> bool {
        self.pieces.contains_key(&piece)
    }

    /// A request for `piece` went out.
    pub fn requested(&mut self, piece: u32) {
        if let Some(buf) = self.pieces.get_mut(&piece) {
            buf.inflight += 1;
        }
    }

    /// A request for `piece` ended (answered, cancelled, timed out, peer gone). A buffer
    /// with nothing in it and nothing on the way is freed: the picker has let go of the
    /// piece too, and holding it could starve the budget.
    pub fn unrequested(&mut self, piece: u32, budget: &Budget) {
        let Some(buf) = self.pieces.get_mut(&piece) else {
            return;
        };
        buf.inflight = buf.inflight.saturating_sub(1);
        if buf.inflight == 0 && buf.written == 0 {
            self.discard(piece, budget);
        }
    }

    /// Takes a whole piece out for hashing; its bytes stay charged until [`Self::recycle`].
    pub fn take(&mut self, piece: u32) -> Option<DonePiece> {
        self.pieces
            .remove(&piece)
            .map(|buf| DonePiece { piece, buf })
    }

    /// Returns a buffer after hashing and releases its budget.
    pub fn recycle(&mut self, data: AlignedBuf, budget: &Budget) {
        // After `clear` (torrent removed) late buffers were already released.
        let len = data.len().min(self.held);
        self.held -= len;
        budget.release(len);
        budget.recycle(data);
    }

    /// Drops a partly assembled piece (its blocks must be re-requested).
    pub fn discard(&mut self, piece: u32, budget: &Budget) {
        if let Some(buf) = self.pieces.remove(&piece) {
            self.recycle(buf.data, budget);
        }
    }

    /// Frees everything (torrent removed).
    pub fn clear(&mut self, budget: &Budget) {
        budget.release(self.held);
        self.held = 0;
        self.pieces.clear();
    }

    #[cfg(test)]
    pub fn held_bytes(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(p: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], p))
    }

    #[test]
    fn budget_limits_new_pieces_but_allows_one() {
        let budget = Budget::new(100);
        let mut a = Assembly::default();
        assert!(a.ensure(0, 80, &budget));
        assert!(!a.ensure(1, 80, &budget), "over budget");
        assert!(a.ensure(0, 80, &budget), "existing piece is fine");
        let mut b = Assembly::default();
        assert!(
            b.ensure(5, 80, &budget),
            "a torrent with nothing held may start one while budget is left"
        );
        let mut c = Assembly::default();
        assert!(
            !c.ensure(6, 80, &budget),
            "but not beyond the budget plus one piece (issue 11 item 6)"
        );
        b.clear(&budget);
        assert!(c.ensure(6, 80, &budget), "once memory is released");
        c.clear(&budget);
        let done = a.take(0).map(|d| d.buf.data).unwrap_or_default();
        a.recycle(done, &budget);
        assert_eq!(a.held_bytes(), 0);
        assert!(a.ensure(1, 80, &budget));
    }

    #[test]
    fn idle_empty_buffers_are_freed() {
        let budget = Budget::new(100);
        let mut a = Assembly::default();
        assert!(a.ensure(1, 60, &budget));
        a.requested(1);
        a.requested(1);
        a.unrequested(1, &budget);
        assert!(a.has(1), "one request still in flight");
        a.unrequested(1, &budget);
        assert!(!a.has(1), "nothing written, nothing requested: freed");
        assert_eq!(a.held_bytes(), 0);
        assert!(a.ensure(2, 60, &budget));
        a.requested(2);
        assert!(a.write_block(2, 0, &[1; 5], addr(1)));
        a.unrequested(2, &budget);
        assert!(a.has(2), "partly written pieces are kept");
    }

    #[test]
    fn blocks_are_bounds_checked_and_contributors_recorded() {
        let budget = Budget::new(1 << 20);
        let mut a = Assembly::default();
        assert!(a.ensure(3, 10, &budget));
        a.requested(3);
        assert!(a.write_block(3, 0, &[1; 5], addr(1)));
        assert!(a.write_block(3, 5, &[2; 5], addr(2)));
        assert!(!a.write_block(3, 8, &[2; 5], addr(2)), "past the end");
        assert!(!a.write_block(4, 0, &[2; 5], addr(2)), "no buffer");
        let done = a.take(3).expect("piece present");
        assert_eq!(&done.buf.data[..], [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        assert_eq!(contributors(&done.buf.senders), vec![addr(1), addr(2)]);
        assert_eq!(done.buf.senders, vec![(0, addr(1)), (5, addr(2))]);
    }
}
