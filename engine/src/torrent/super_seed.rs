//! Super-seeding (BEP 16): an initial seeder that pretends to have nothing and reveals one
//! piece at a time to each peer, the one fewest peers have, so the swarm gets a whole copy
//! while the seeder uploads little more than one.
//!
//! State note. Only while the torrent seeds with the flag on. A new connection hears
//! `have_none` (or nothing) and then one `have`; the peer's next piece is revealed when it
//! announces the one it was given (libtorrent's default, non-strict mode). `Reveals`
//! counts the pieces revealed and not yet announced back, so two peers are not handed the
//! same piece while another nobody has is left. Turning the flag off tells every peer about
//! the pieces it still lacks.

use std::collections::HashMap;

use super::shared::PeerEntry;
use crate::peer::Out;
use crate::picker::Picker;
use crate::wire::Message;

/// Pieces revealed to a peer and not yet announced back, with how many peers hold each.
#[derive(Default)]
pub(crate) struct Reveals {
    pending: HashMap<u32, u32>,
}

impl Reveals {
    fn add(&mut self, piece: u32) {
        *self.pending.entry(piece).or_insert(0) += 1;
    }

    fn remove(&mut self, piece: u32) {
        if let Some(n) = self.pending.get_mut(&piece) {
            *n -= 1;
            if *n == 0 {
                self.pending.remove(&piece);
            }
        }
    }

    fn count(&self, piece: u32) -> u32 {
        self.pending.get(&piece).copied().unwrap_or(0)
    }

    /// A peer left: its revealed piece is no longer pending.
    pub fn forget(&mut self, p: &PeerEntry) {
        if let Some(i) = p.superseed {
            self.remove(i);
        }
    }
}

/// Reveals to `p` the piece it lacks that the fewest peers have or were handed.
pub(crate) fn reveal_next(
    picker: &Picker,
    reveals: &mut Reveals,
    p: &mut PeerEntry,
    out: &mut Vec<Out>,
) {
    let n = picker.num_pieces();
    if n == 0 {
        return;
    }
    // Start at a random piece so equally rare pieces are spread across peers.
    let start = rand::random_range(0..n);
    let best = (0..n)
        .map(|k| (start + k) % n)
        .filter(|&i| picker.have().get(i as usize) && !p.bitfield.get(i as usize))
        .min_by_key(|&i| (reveals.count(i), picker.availability(i)));
    if let Some(i) = best {
        reveals.add(i);
        p.superseed = Some(i);
        out.push(Out::Msg(Message::Have(i)));
    }
}

/// `p` announced `piece`: if it was the one we revealed to it, reveal the next.
pub(crate) fn on_have(
    picker: &Picker,
    reveals: &mut Reveals,
    p: &mut PeerEntry,
    piece: u32,
    out: &mut Vec<Out>,
) {
    if p.superseed == Some(piece) {
        reveals.remove(piece);
        p.superseed = None;
        reveal_next(picker, reveals, p, out);
    }
}

/// Super-seeding ended: every peer hears about the pieces it still lacks.
pub(crate) fn reveal_all(picker: &Picker, reveals: &mut Reveals, p: &mut PeerEntry) {
    reveals.forget(p);
    p.superseed = None;
    let missing: Vec<Out> = (0..picker.num_pieces())
        .filter(|&i| picker.have().get(i as usize) && !p.bitfield.get(i as usize))
        .map(|i| Out::Msg(Message::Have(i)))
        .collect();
    if !missing.is_empty() {
        p.send(crate::peer::WriterCmd::Batch(missing));
    }
}
