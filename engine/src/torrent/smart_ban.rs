//! Smart ban: who sent the bad block of a piece that failed its hash check.
//!
//! A failed piece whose blocks all came from one address convicts that address at once.
//! When several peers contributed, each block's digest is kept with its sender; once the
//! piece verifies (from whoever), every recorded block is compared with the good data and
//! only the senders of differing blocks get a strike. Honest peers that happened to share
//! a piece with a liar are never blamed (libtorrent's and anacrolix's "smart ban").
//!
//! Digests are computed on the hashing thread; the record has its own small lock, taken
//! once per verified piece, never while the torrent lock is held.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use crate::storage::verify::sha1_piece;
use crate::wire::BLOCK_SIZE;

/// Failed pieces remembered at most; older records are dropped (a liar then simply gets
/// fewer strikes).
const MAX_PIECES: usize = 256;

/// One block of a failed piece.
#[derive(Clone, Debug)]
pub(crate) struct BlockRecord {
    offset: u32,
    from: IpAddr,
    digest: [u8; 20],
}

/// Failed pieces not yet resolved.
#[derive(Default)]
pub(crate) struct SmartBan {
    pieces: HashMap<u32, Vec<BlockRecord>>,
}

/// What a failed piece tells us right away.
pub(crate) enum Failure {
    /// One address sent every block: it lied.
    Sole(IpAddr),
    /// Several did: wait for the piece to verify.
    Shared(Vec<BlockRecord>),
}

/// Judges a failed piece from its data and senders (`(offset, sender)`, later writes of a
/// block win).
pub(crate) fn on_failure(data: &[u8], senders: &[(u32, SocketAddr)]) -> Option<Failure> {
    let mut last: HashMap<u32, IpAddr> = HashMap::new();
    for (offset, a) in senders {
        last.insert(*offset, a.ip());
    }
    let first = *last.values().next()?;
    if last.values().all(|ip| *ip == first) {
        return Some(Failure::Sole(first));
    }
    let records = last
        .into_iter()
        .filter_map(|(offset, from)| {
            block(data, offset).map(|b| BlockRecord {
                offset,
                from,
                digest: sha1_piece(b),
            })
        })
        .collect();
    Some(Failure::Shared(records))
}

fn block(data: &[u8], offset: u32) -> Option<&[u8]> {
    let start = offset as usize;
    let end = start.checked_add(BLOCK_SIZE as usize)?.min(data.len());
    data.get(start..end)
}

impl SmartBan {
    /// Keeps a shared failure's blocks until the piece verifies.
    pub fn record(&mut self, piece: u32, records: Vec<BlockRecord>) {
        if !self.pieces.contains_key(&piece) && self.pieces.len() >= MAX_PIECES {
            if let Some(k) = self.pieces.keys().next().copied() {
                self.pieces.remove(&k);
            }
        }
        self.pieces.entry(piece).or_default().extend(records);
    }

    /// The piece verified with `good` data: the addresses whose recorded blocks differ,
    /// each once.
    pub fn resolve(&mut self, piece: u32, good: &[u8]) -> Vec<IpAddr> {
        if self.pieces.is_empty() {
            return Vec::new();
        }
        let Some(records) = self.pieces.remove(&piece) else {
            return Vec::new();
        };
        let mut liars = Vec::new();
        for r in records {
            let differs = block(good, r.offset).is_none_or(|b| sha1_piece(b) != r.digest);
            if differs && !liars.contains(&r.from) {
                liars.push(r.from);
            }
        }
        liars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, n], 6881))
    }

    #[test]
    fn a_sole_sender_is_convicted_at_once() {
        let data = vec![7u8; 3 * BLOCK_SIZE as usize];
        let senders = [
            (0, addr(2)),
            (BLOCK_SIZE, addr(2)),
            (2 * BLOCK_SIZE, addr(2)),
        ];
        assert!(
            matches!(on_failure(&data, &senders), Some(Failure::Sole(ip)) if ip == addr(2).ip())
        );
        assert!(on_failure(&data, &[]).is_none());
    }

    #[test]
    fn only_the_sender_of_the_differing_block_is_blamed() {
        let bs = BLOCK_SIZE as usize;
        let good: Vec<u8> = (0..3 * bs + 100).map(|i| i as u8).collect();
        let mut bad = good.clone();
        bad[bs + 5] ^= 1; // block 1, from .3
        let senders = [
            (0, addr(2)),
            (BLOCK_SIZE, addr(3)),
            (2 * BLOCK_SIZE, addr(2)),
            (3 * BLOCK_SIZE, addr(4)),
        ];
        let Some(Failure::Shared(records)) = on_failure(&bad, &senders) else {
            panic!("several senders");
        };
        let mut sb = SmartBan::default();
        sb.record(9, records);
        assert!(sb.resolve(8, &good).is_empty(), "another piece");
        assert_eq!(sb.resolve(9, &good), vec![addr(3).ip()]);
        assert!(sb.resolve(9, &good).is_empty(), "resolved once");
    }

    #[test]
    fn a_rewritten_block_is_judged_by_its_last_sender() {
        let bs = BLOCK_SIZE as usize;
        let good = vec![1u8; 2 * bs];
        let mut bad = good.clone();
        bad[3] = 0;
        let senders = [(0, addr(2)), (0, addr(5)), (BLOCK_SIZE, addr(2))];
        let Some(Failure::Shared(records)) = on_failure(&bad, &senders) else {
            panic!("two senders");
        };
        let mut sb = SmartBan::default();
        sb.record(0, records);
        assert_eq!(sb.resolve(0, &good), vec![addr(5).ip()]);
    }
}
