//! Who we upload to: tit-for-tat while downloading, round robin while seeding, one
//! optimistic unchoke rotating every 30 s in both.
//!
//! State note. `round` runs every tick (1 s); only every [`RECHOKE_PERIOD`] does it choose
//! the regular set afresh. Between rechokes the set only shrinks (peers gone or no longer
//! interested) and `admit_now` fills free slots at once for newly interested peers, so a
//! new leecher does not wait up to 10 s. The optimistic peer is never one of the regular
//! set; slots counts it (regular = slots − 1; a single slot is regular, with no optimistic
//! one). The session's global slot pool may grant fewer than the policy wants; the caller
//! truncates the list, optimistic last.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::PeerKey;

/// What a policy sees of one peer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChokeView {
    pub key: PeerKey,
    pub interested: bool,
    pub unchoked: bool,
    /// What the peer gives us (bytes/s).
    pub download_rate: u64,
    pub connected_at: Instant,
    /// We want its pieces but it sent us no block for [`SNUB_AFTER`].
    pub snubbing: bool,
}

/// Regular unchokes are chosen afresh this often (BitTorrent's 10 s).
pub(crate) const RECHOKE_PERIOD: Duration = Duration::from_secs(10);
const OPTIMISTIC_PERIOD: Duration = Duration::from_secs(30);
/// A peer that sent us nothing we want for this long loses its regular slot.
pub(crate) const SNUB_AFTER: Duration = Duration::from_secs(60);
/// Peers connected for less than this are three times as likely to get the optimistic
/// unchoke: they have nothing to trade yet.
const NEW_PEER: Duration = Duration::from_secs(60);
/// While seeding, a peer's turn lasts this long before waiting peers go first.
const SEED_TURN: Duration = Duration::from_secs(30);

/// Tit-for-tat with optimistic unchoking (leeching) and round robin (seeding).
pub(crate) struct Choker {
    slots: usize,
    regular: Vec<PeerKey>,
    rechoked_at: Option<Instant>,
    optimistic: Option<PeerKey>,
    rotated_at: Option<Instant>,
    /// Seeding: when each peer's current turn began, or its last one ended.
    turns: HashMap<PeerKey, Turn>,
}

#[derive(Clone, Copy)]
enum Turn {
    Since(Instant),
    Ended(Instant),
}

impl Choker {
    pub fn new(slots: usize) -> Self {
        Choker {
            slots: slots.max(1),
            regular: Vec::new(),
            rechoked_at: None,
            optimistic: None,
            rotated_at: None,
            turns: HashMap::new(),
        }
    }

    /// Changes the slot count; the next round rechokes.
    pub fn set_slots(&mut self, slots: usize) {
        if slots.max(1) != self.slots {
            self.slots = slots.max(1);
            self.rechoked_at = None;
        }
    }

    /// One slot is all regular; from two on, one of them is the optimistic one.
    fn regular_slots(&self) -> usize {
        if self.slots >= 2 {
            self.slots - 1
        } else {
            1
        }
    }

    /// The peers to have unchoked after this round, in order of preference (the optimistic
    /// one last); everyone else gets choked.
    pub fn round(&mut self, peers: &[ChokeView], seeding: bool, now: Instant) -> Vec<PeerKey> {
        let interested = |k: &PeerKey| peers.iter().any(|p| p.key == *k && p.interested);
        self.turns.retain(|k, _| peers.iter().any(|p| p.key == *k));
        let due = self
            .rechoked_at
            .is_none_or(|t| now.saturating_duration_since(t) >= RECHOKE_PERIOD);
        if due {
            self.rechoked_at = Some(now);
            self.regular = if seeding {
                self.round_robin(peers, now)
            } else {
                self.tit_for_tat(peers)
            };
        } else {
            // Between rechokes: keep the set (plus peers admitted since), minus the gone.
            let live = |k: &PeerKey| {
                peers
                    .iter()
                    .any(|p| p.key == *k && p.interested && p.unchoked)
            };
            self.regular.retain(live);
            for p in peers {
                if p.interested
                    && p.unchoked
                    && Some(p.key) != self.optimistic
                    && !self.regular.contains(&p.key)
                {
                    self.regular.push(p.key);
                }
            }
            self.regular.truncate(self.regular_slots());
        }
        if seeding {
            self.track_turns(peers, now);
        }
        if self.slots >= 2 {
            self.rotate_optimistic(peers, now);
        } else {
            self.optimistic = None;
        }
        let mut out = self.regular.clone();
        if let Some(k) = self.optimistic.filter(interested) {
            out.push(k);
        }
        out
    }

    /// Leeching: the peers that give us the most, snubbers excluded.
    fn tit_for_tat(&self, peers: &[ChokeView]) -> Vec<PeerKey> {
        let mut c: Vec<&ChokeView> = peers
            .iter()
            .filter(|p| p.interested && !p.snubbing)
            .collect();
        c.sort_by_key(|p| (Reverse(p.download_rate), Reverse(p.unchoked)));
        c.iter().take(self.regular_slots()).map(|p| p.key).collect()
    }

    /// Seeding: peers mid-turn keep their slot, then those never served, then those that
    /// waited longest since their turn, then those whose turn is over.
    fn round_robin(&self, peers: &[ChokeView], now: Instant) -> Vec<PeerKey> {
        let mut c: Vec<(u8, Instant, PeerKey)> = peers
            .iter()
            .filter(|p| p.interested)
            .map(|p| match self.turns.get(&p.key) {
                Some(Turn::Since(t))
                    if p.unchoked && now.saturating_duration_since(*t) < SEED_TURN =>
                {
                    (0, *t, p.key)
                }
                None => (1, p.connected_at, p.key),
                Some(Turn::Ended(t)) => (2, *t, p.key),
                Some(Turn::Since(t)) => (3, *t, p.key),
            })
            .collect();
        c.sort_by_key(|(rank, t, _)| (*rank, *t));
        c.iter()
            .take(self.regular_slots())
            .map(|(_, _, k)| *k)
            .collect()
    }

    fn track_turns(&mut self, peers: &[ChokeView], now: Instant) {
        for p in peers {
            let on = self.regular.contains(&p.key) || Some(p.key) == self.optimistic;
            match (self.turns.get(&p.key).copied(), on) {
                (Some(Turn::Since(_)), true) => {}
                (_, true) => {
                    self.turns.insert(p.key, Turn::Since(now));
                }
                (Some(Turn::Since(_)), false) => {
                    self.turns.insert(p.key, Turn::Ended(now));
                }
                (_, false) => {}
            }
        }
    }

    /// Every 30 s (or when the optimistic peer left or lost interest) another interested
    /// peer outside the regular set gets the optimistic slot, new peers favoured.
    fn rotate_optimistic(&mut self, peers: &[ChokeView], now: Instant) {
        let due = self
            .rotated_at
            .is_none_or(|t| now.saturating_duration_since(t) >= OPTIMISTIC_PERIOD);
        let valid = self.optimistic.is_some_and(|k| {
            !self.regular.contains(&k) && peers.iter().any(|p| p.key == k && p.interested)
        });
        if !due && valid {
            return;
        }
        let mut weighted: Vec<PeerKey> = Vec::new();
        for p in peers.iter().filter(|p| {
            p.interested && !self.regular.contains(&p.key) && Some(p.key) != self.optimistic
        }) {
            let new = now.saturating_duration_since(p.connected_at) < NEW_PEER;
            for _ in 0..if new { 3 } else { 1 } {
                weighted.push(p.key);
            }
        }
        if weighted.is_empty() {
            if !valid {
                self.optimistic = None;
            }
        } else {
            self.optimistic = Some(weighted[rand::random_range(0..weighted.len())]);
        }
        self.rotated_at = Some(now);
    }

    /// Whether a peer that just became interested may be unchoked right away.
    pub fn admit_now(&self, peers: &[ChokeView]) -> bool {
        peers.iter().filter(|p| p.unchoked && p.interested).count() < self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(k: u64, rate: u64, t0: Instant) -> ChokeView {
        ChokeView {
            key: PeerKey(k),
            interested: true,
            unchoked: false,
            download_rate: rate,
            connected_at: t0,
            snubbing: false,
        }
    }

    /// Applies a round's result to the views, as the torrent does.
    fn apply(peers: &mut [ChokeView], set: &[PeerKey]) {
        for p in peers {
            p.unchoked = set.contains(&p.key);
        }
    }

    #[test]
    fn leeching_unchokes_who_gives_us_the_most_and_drops_snubbers() {
        let t0 = Instant::now();
        let mut c = Choker::new(3);
        let mut peers: Vec<ChokeView> = (1..=5).map(|k| view(k, k * 100, t0)).collect();
        peers[4].snubbing = true; // key 5, the fastest, sent nothing lately
        let set = c.round(&peers, false, t0);
        assert_eq!(
            &set[..2],
            &[PeerKey(4), PeerKey(3)],
            "two regular slots, best first"
        );
        assert_eq!(set.len(), 3, "plus one optimistic");
        assert!(!set[..2].contains(&PeerKey(5)));
        apply(&mut peers, &set);

        // Rates change: nothing moves until the rechoke period passes.
        peers[0].download_rate = 10_000;
        let later = t0 + Duration::from_secs(5);
        let kept = c.round(&peers, false, later);
        assert_eq!(&kept[..2], &set[..2]);
        let t10 = t0 + RECHOKE_PERIOD;
        let re = c.round(&peers, false, t10);
        assert_eq!(
            re[0],
            PeerKey(1),
            "the new best uploader wins a slot at the rechoke"
        );
        assert!(re[..2].contains(&PeerKey(4)));
    }

    #[test]
    fn the_optimistic_slot_rotates_and_skips_the_regular_set() {
        let t0 = Instant::now();
        let mut c = Choker::new(2);
        let mut peers: Vec<ChokeView> = (1..=6).map(|k| view(k, k, t0)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut t = t0;
        for _ in 0..40 {
            let set = c.round(&peers, false, t);
            assert_eq!(set.len(), 2);
            assert_eq!(set[0], PeerKey(6), "the best regular peer stays");
            assert_ne!(set[1], PeerKey(6));
            seen.insert(set[1]);
            apply(&mut peers, &set);
            t += OPTIMISTIC_PERIOD;
        }
        assert!(seen.len() >= 3, "rotation reaches several peers: {seen:?}");
    }

    #[test]
    fn seeding_round_robin_gives_every_leecher_a_turn() {
        let t0 = Instant::now();
        let mut c = Choker::new(3);
        // Rates do not matter while seeding.
        let mut peers: Vec<ChokeView> = (1..=8).map(|k| view(k, 0, t0)).collect();
        let mut served = std::collections::HashSet::new();
        let mut t = t0;
        for _ in 0..(8 * 4) {
            let set = c.round(&peers, true, t);
            assert!(set.len() <= 3);
            served.extend(set.iter().copied());
            apply(&mut peers, &set);
            t += RECHOKE_PERIOD;
        }
        assert_eq!(served.len(), 8, "every leecher got a slot: {served:?}");
    }

    #[test]
    fn uninterested_peers_lose_their_slot_and_free_slots_admit_at_once() {
        let t0 = Instant::now();
        let mut c = Choker::new(3);
        let mut peers: Vec<ChokeView> = (1..=2).map(|k| view(k, 10, t0)).collect();
        let set = c.round(&peers, false, t0);
        apply(&mut peers, &set);
        assert!(c.admit_now(&peers), "a third slot is free");
        peers[0].interested = false;
        let set = c.round(&peers, false, t0 + Duration::from_secs(1));
        assert!(!set.contains(&PeerKey(1)));
    }
}
