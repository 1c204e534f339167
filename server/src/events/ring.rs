//! The bounded replay buffer behind Last-Event-ID.

use std::collections::VecDeque;
use std::sync::Arc;

use super::HubEvent;

/// What a reconnecting client gets.
#[derive(Debug)]
pub enum Replay {
    /// Every event after its last id, oldest first (possibly none).
    Events(Vec<Arc<HubEvent>>),
    /// Its last id is older than the ring (or unknown): reload, then continue from `latest_id`.
    Resync { latest_id: u64 },
}

pub struct Ring {
    capacity: usize,
    next_id: u64,
    events: VecDeque<Arc<HubEvent>>,
}

impl Ring {
    pub fn new(capacity: usize, first_id: u64) -> Ring {
        Ring {
            capacity: capacity.max(1),
            next_id: first_id.max(1),
            events: VecDeque::with_capacity(capacity.clamp(1, 4096)),
        }
    }

    pub fn push(
        &mut self,
        owner: Option<i64>,
        private: bool,
        name: &'static str,
        data: String,
        relayed: bool,
    ) -> Arc<HubEvent> {
        let ev = Arc::new(HubEvent {
            id: self.next_id,
            owner,
            private,
            name,
            data,
            relayed,
        });
        self.next_id += 1;
        if self.events.len() == self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(ev.clone());
        ev
    }

    pub fn latest_id(&self) -> u64 {
        self.next_id - 1
    }

    /// Events after `last_id`, or a resync when some of them are no longer kept or
    /// `last_id` was never handed out.
    pub fn since(&self, last_id: u64) -> Replay {
        let oldest_kept = self.events.front().map_or(self.next_id, |e| e.id);
        if last_id >= self.next_id || last_id.saturating_add(1) < oldest_kept {
            return Replay::Resync {
                latest_id: self.latest_id(),
            };
        }
        Replay::Events(
            self.events
                .iter()
                .filter(|e| e.id > last_id)
                .cloned()
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(r: Replay) -> Option<Vec<u64>> {
        match r {
            Replay::Events(v) => Some(v.iter().map(|e| e.id).collect()),
            Replay::Resync { .. } => None,
        }
    }

    #[test]
    fn replays_what_is_kept_and_resyncs_otherwise() {
        let mut ring = Ring::new(3, 100);
        assert_eq!(ids(ring.since(99)), Some(vec![]), "nothing missed yet");
        for _ in 0..5 {
            ring.push(None, false, "x", String::new(), false);
        }
        // ids 100..=104, kept 102..=104
        assert_eq!(ring.latest_id(), 104);
        assert_eq!(ids(ring.since(101)), Some(vec![102, 103, 104]));
        assert_eq!(ids(ring.since(103)), Some(vec![104]));
        assert_eq!(ids(ring.since(104)), Some(vec![]));
        assert_eq!(ids(ring.since(100)), None, "101 was evicted");
        assert_eq!(ids(ring.since(7)), None, "an id from before a restart");
        assert_eq!(ids(ring.since(500)), None, "an id never handed out");
    }
}
