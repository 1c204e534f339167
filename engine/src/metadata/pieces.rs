//! Collecting an info dictionary from `ut_metadata` pieces, several peers at once.
//!
//! State per piece: missing → requested (by one peer, with a deadline) → received (with the
//! peer that sent it). A reject or a timeout makes a piece missing again; a peer is not asked
//! again for a piece it rejected. When every piece is in, the whole is checked against the
//! info-hash: on a mismatch everything is dropped and the peers that contributed are returned
//! so the caller can drop the liars. After a mismatch, the next attempt takes every piece from
//! one peer, so a second mismatch names the liar for certain.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

use crate::wire::extended::handshake::MAX_METADATA_SIZE;
use crate::wire::extended::ut_metadata::{piece_count, PIECE_SIZE};
use crate::{InfoHash, PeerKey};

/// How long a peer has to answer one metadata request.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    Missing,
    Requested { by: PeerKey, at: Instant },
    Received { from: PeerKey },
}

/// What arriving data led to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DataOutcome {
    /// Stored; more pieces to go.
    Stored,
    /// Not a piece we asked this peer for, or of the wrong length: ignored.
    Ignored,
    /// Every piece is in and the whole matches the info-hash.
    Complete(Vec<u8>),
    /// Every piece is in but the hash is wrong; these peers contributed.
    Corrupt(Vec<PeerKey>),
}

pub(crate) struct MetadataPieces {
    size: usize,
    data: Vec<u8>,
    pieces: Vec<Piece>,
    /// (peer, piece) pairs that were rejected: not asked again.
    rejected: HashSet<(PeerKey, u32)>,
    /// After a corrupt whole: every piece comes from this one peer (chosen by first ask).
    single_source: bool,
    source: Option<PeerKey>,
}

impl MetadataPieces {
    /// `None` for a size outside (0, 16 MiB].
    pub fn new(size: u64) -> Option<Self> {
        if size == 0 || size > MAX_METADATA_SIZE {
            return None;
        }
        Some(MetadataPieces {
            size: size as usize,
            data: vec![0; size as usize],
            pieces: vec![Piece::Missing; piece_count(size) as usize],
            rejected: HashSet::new(),
            single_source: false,
            source: None,
        })
    }

    pub fn size(&self) -> u64 {
        self.size as u64
    }

    /// Pieces received so far, and in all.
    pub fn progress(&self) -> (usize, usize) {
        let got = self
            .pieces
            .iter()
            .filter(|p| matches!(p, Piece::Received { .. }))
            .count();
        (got, self.pieces.len())
    }

    /// The next piece to ask `peer` for, now marked requested by it.
    pub fn next_request(&mut self, peer: PeerKey, now: Instant) -> Option<u32> {
        if self.single_source && self.source.is_some_and(|s| s != peer) {
            return None;
        }
        let i = (0..self.pieces.len() as u32).find(|&i| {
            self.pieces[i as usize] == Piece::Missing && !self.rejected.contains(&(peer, i))
        })?;
        // Only a peer that is actually asked becomes the single source.
        if self.single_source {
            self.source = Some(peer);
        }
        self.pieces[i as usize] = Piece::Requested { by: peer, at: now };
        Some(i)
    }

    /// Requests by `peer` still outstanding.
    pub fn in_flight(&self, peer: PeerKey) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Requested { by, .. } if *by == peer))
            .count()
    }

    pub fn on_data(
        &mut self,
        peer: PeerKey,
        piece: u32,
        data: &[u8],
        info_hash: &InfoHash,
    ) -> DataOutcome {
        let i = piece as usize;
        let start = i * PIECE_SIZE;
        let expect = self.size.saturating_sub(start).min(PIECE_SIZE);
        match self.pieces.get(i) {
            Some(Piece::Requested { by, .. }) if *by == peer && data.len() == expect => {}
            _ => return DataOutcome::Ignored,
        }
        self.data[start..start + expect].copy_from_slice(data);
        self.pieces[i] = Piece::Received { from: peer };
        if self.progress().0 < self.pieces.len() {
            return DataOutcome::Stored;
        }
        let hash: [u8; 20] = Sha1::digest(&self.data).into();
        if hash == info_hash.0 {
            return DataOutcome::Complete(std::mem::take(&mut self.data));
        }
        let mut from: Vec<PeerKey> = self
            .pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Received { from } => Some(*from),
                _ => None,
            })
            .collect();
        from.sort_unstable();
        from.dedup();
        self.pieces.fill(Piece::Missing);
        self.single_source = true;
        self.source = None;
        DataOutcome::Corrupt(from)
    }

    /// The peer will not send `piece` (a single source that rejects is replaced).
    pub fn on_reject(&mut self, peer: PeerKey, piece: u32) {
        if let Some(p @ Piece::Requested { .. }) = self.pieces.get_mut(piece as usize) {
            if matches!(p, Piece::Requested { by, .. } if *by == peer) {
                *p = Piece::Missing;
                self.rejected.insert((peer, piece));
                self.release_source(peer);
            }
        }
    }

    fn release_source(&mut self, peer: PeerKey) {
        if self.source == Some(peer) {
            self.source = None;
        }
    }

    /// Everything `peer` had in flight becomes missing again (it left).
    pub fn peer_gone(&mut self, peer: PeerKey) {
        for p in &mut self.pieces {
            if matches!(p, Piece::Requested { by, .. } if *by == peer) {
                *p = Piece::Missing;
            }
        }
        self.rejected.retain(|(k, _)| *k != peer);
        self.release_source(peer);
    }

    /// Requests older than [`REQUEST_TIMEOUT`] become missing; returns the slow peers.
    pub fn expire(&mut self, now: Instant) -> Vec<PeerKey> {
        let mut slow = Vec::new();
        for p in &mut self.pieces {
            if let Piece::Requested { by, at } = *p {
                if now.saturating_duration_since(at) >= REQUEST_TIMEOUT {
                    *p = Piece::Missing;
                    slow.push(by);
                }
            }
        }
        for k in &slow {
            self.release_source(*k);
        }
        slow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(n: usize) -> (Vec<u8>, InfoHash) {
        let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let h = InfoHash(Sha1::digest(&data).into());
        (data, h)
    }

    #[test]
    fn two_peers_fill_it() {
        let (data, ih) = info(PIECE_SIZE * 2 + 100);
        let (a, b) = (PeerKey(1), PeerKey(2));
        let now = Instant::now();
        let mut m = MetadataPieces::new(data.len() as u64).unwrap();
        assert_eq!(m.next_request(a, now), Some(0));
        assert_eq!(m.next_request(b, now), Some(1));
        assert_eq!(m.next_request(b, now), Some(2));
        assert_eq!(m.next_request(a, now), None);
        assert_eq!(m.in_flight(b), 2);
        // Wrong sender, wrong length: ignored.
        assert_eq!(
            m.on_data(a, 1, &data[PIECE_SIZE..2 * PIECE_SIZE], &ih),
            DataOutcome::Ignored
        );
        assert_eq!(m.on_data(b, 2, &data[..5], &ih), DataOutcome::Ignored);
        assert_eq!(
            m.on_data(a, 0, &data[..PIECE_SIZE], &ih),
            DataOutcome::Stored
        );
        assert_eq!(
            m.on_data(b, 1, &data[PIECE_SIZE..2 * PIECE_SIZE], &ih),
            DataOutcome::Stored
        );
        assert_eq!(m.progress(), (2, 3));
        assert_eq!(
            m.on_data(b, 2, &data[2 * PIECE_SIZE..], &ih),
            DataOutcome::Complete(data)
        );
    }

    #[test]
    fn rejects_timeouts_and_lies() {
        let (data, ih) = info(PIECE_SIZE + 1);
        let (a, b) = (PeerKey(1), PeerKey(2));
        let t0 = Instant::now();
        let mut m = MetadataPieces::new(data.len() as u64).unwrap();
        assert_eq!(m.next_request(a, t0), Some(0));
        m.on_reject(a, 0);
        // Not asked again for what it rejected; another peer is.
        assert_eq!(m.next_request(a, t0), Some(1));
        assert_eq!(m.next_request(b, t0), Some(0));
        assert_eq!(m.expire(t0 + REQUEST_TIMEOUT), vec![b, a]);
        assert_eq!(m.next_request(b, t0), Some(0));
        assert_eq!(m.next_request(b, t0), Some(1));
        let mut bad = data.clone();
        bad[3] ^= 1;
        assert_eq!(
            m.on_data(b, 0, &bad[..PIECE_SIZE], &ih),
            DataOutcome::Stored
        );
        assert_eq!(
            m.on_data(b, 1, &bad[PIECE_SIZE..], &ih),
            DataOutcome::Corrupt(vec![b])
        );
        assert_eq!(m.progress(), (0, 2));
        // From now on one peer serves every piece, so the next liar is known for sure.
        assert_eq!(m.next_request(b, t0), Some(0));
        assert_eq!(m.next_request(a, t0), None, "b is the single source");
        m.peer_gone(b);
        assert_eq!(m.next_request(a, t0), Some(1), "a rejected 0 before");
        assert_eq!(m.next_request(a, t0), None);
        // A peer with nothing it may be asked for does not take the single-source role.
        let c = PeerKey(3);
        m.on_reject(a, 1);
        assert_eq!(m.next_request(a, t0), None, "a rejected both");
        assert_eq!(m.next_request(c, t0), Some(0), "c is asked instead");
    }

    #[test]
    fn sizes_are_bounded() {
        assert!(MetadataPieces::new(0).is_none());
        assert!(MetadataPieces::new(MAX_METADATA_SIZE + 1).is_none());
        assert!(MetadataPieces::new(MAX_METADATA_SIZE).is_some());
    }
}
