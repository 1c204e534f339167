//! Who we upload to. The policy sits behind a small trait so tit-for-tat and
//! super-seeding can replace the simple default later.

use std::time::{Duration, Instant};

use crate::PeerKey;

/// What a policy sees of one peer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChokeView {
    pub key: PeerKey,
    pub interested: bool,
    pub unchoked: bool,
    pub download_rate: u64,
    pub upload_rate: u64,
}

pub(crate) trait ChokePolicy: Send {
    /// The peers to have unchoked after this round (everyone else gets choked).
    fn round(&mut self, peers: &[ChokeView], now: Instant) -> Vec<PeerKey>;
    /// Whether a peer that just became interested may be unchoked right away.
    fn admit_now(&mut self, peers: &[ChokeView]) -> bool;
}

/// Unchokes interested peers up to `slots` (current ones kept first), plus one optimistic
/// unchoke that rotates every [`OPTIMISTIC_PERIOD`].
pub(crate) struct UnchokeInterested {
    slots: usize,
    optimistic: Option<PeerKey>,
    rotated_at: Option<Instant>,
}

pub(crate) const DEFAULT_SLOTS: usize = 8;
const OPTIMISTIC_PERIOD: Duration = Duration::from_secs(30);

impl UnchokeInterested {
    pub fn new(slots: usize) -> Self {
        UnchokeInterested {
            slots,
            optimistic: None,
            rotated_at: None,
        }
    }
}

impl ChokePolicy for UnchokeInterested {
    fn round(&mut self, peers: &[ChokeView], now: Instant) -> Vec<PeerKey> {
        let mut keep: Vec<PeerKey> = peers
            .iter()
            .filter(|p| p.interested && p.unchoked && Some(p.key) != self.optimistic)
            .map(|p| p.key)
            .take(self.slots)
            .collect();
        // Free slots go to the peers that give us the most first.
        let mut waiting: Vec<&ChokeView> = peers
            .iter()
            .filter(|p| p.interested && !p.unchoked)
            .collect();
        waiting.sort_by_key(|p| std::cmp::Reverse((p.download_rate, p.upload_rate)));
        for p in waiting {
            if keep.len() >= self.slots {
                break;
            }
            if Some(p.key) != self.optimistic {
                keep.push(p.key);
            }
        }
        let due = self
            .rotated_at
            .is_none_or(|t| now.saturating_duration_since(t) >= OPTIMISTIC_PERIOD);
        let still_there = self
            .optimistic
            .is_some_and(|k| peers.iter().any(|p| p.key == k && p.interested));
        if due || !still_there {
            let choices: Vec<PeerKey> = peers
                .iter()
                .filter(|p| {
                    p.interested && !keep.contains(&p.key) && Some(p.key) != self.optimistic
                })
                .map(|p| p.key)
                .collect();
            self.optimistic = if choices.is_empty() {
                self.optimistic.filter(|_| still_there)
            } else {
                Some(choices[rand::random_range(0..choices.len())])
            };
            self.rotated_at = Some(now);
        }
        if let Some(k) = self.optimistic {
            if !keep.contains(&k) {
                keep.push(k);
            }
        }
        keep
    }

    fn admit_now(&mut self, peers: &[ChokeView]) -> bool {
        peers.iter().filter(|p| p.unchoked && p.interested).count() < self.slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(k: u64, interested: bool, unchoked: bool) -> ChokeView {
        ChokeView {
            key: PeerKey(k),
            interested,
            unchoked,
            download_rate: 0,
            upload_rate: 0,
        }
    }

    #[test]
    fn fills_slots_with_interested_and_keeps_current() {
        let mut c = UnchokeInterested::new(2);
        let now = Instant::now();
        let peers = vec![
            view(1, true, false),
            view(2, false, true),
            view(3, true, true),
            view(4, true, false),
        ];
        let set = c.round(&peers, now);
        assert!(
            set.contains(&PeerKey(3)),
            "current unchoked interested peer kept"
        );
        assert!(!set.contains(&PeerKey(2)), "uninterested peer choked");
        assert_eq!(set.len(), 3, "two slots plus the optimistic one");
        assert!(c.admit_now(&[view(1, true, true)]));
        assert!(!c.admit_now(&[view(1, true, true), view(2, true, true)]));
    }
}
