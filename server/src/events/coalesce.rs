//! Rate limits per torrent for the chatty events: a progress event replaces the pending one,
//! one that repeats what was last published is dropped (the engine reports idle torrents
//! every second), verified pieces are batched, and each torrent emits each kind at most once
//! per interval.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use engine::InfoHash;

/// An event ready to publish; `P` is the progress payload.
#[derive(Debug, PartialEq)]
pub enum Ready<P> {
    Progress(InfoHash, P),
    Pieces(InfoHash, Vec<u32>),
}

struct PerTorrent<P> {
    progress_sent: Option<Instant>,
    progress: Option<P>,
    /// The last progress published, to drop repeats.
    last_progress: Option<P>,
    pieces_sent: Option<Instant>,
    pieces: Vec<u32>,
}

impl<P> Default for PerTorrent<P> {
    fn default() -> Self {
        PerTorrent {
            progress_sent: None,
            progress: None,
            last_progress: None,
            pieces_sent: None,
            pieces: Vec::new(),
        }
    }
}

pub struct Coalescer<P> {
    interval: Duration,
    torrents: HashMap<InfoHash, PerTorrent<P>>,
}

impl<P: Clone + PartialEq> Coalescer<P> {
    pub fn new(interval: Duration) -> Coalescer<P> {
        Coalescer {
            interval,
            torrents: HashMap::new(),
        }
    }

    fn due(&self, sent: Option<Instant>, now: Instant) -> bool {
        sent.is_none_or(|t| now.duration_since(t) >= self.interval)
    }

    /// Publish now, or keep as the torrent's pending progress.
    pub fn progress(&mut self, ih: InfoHash, data: P, now: Instant) -> Option<Ready<P>> {
        let due = self.due(self.torrents.get(&ih).and_then(|t| t.progress_sent), now);
        let t = self.torrents.entry(ih).or_default();
        if t.last_progress.as_ref() == Some(&data) {
            t.progress = None;
            return None;
        }
        if due {
            t.progress = None;
            t.progress_sent = Some(now);
            t.last_progress = Some(data.clone());
            Some(Ready::Progress(ih, data))
        } else {
            t.progress = Some(data);
            None
        }
    }

    /// Publish the batch now, or add the piece to the pending batch.
    pub fn piece(&mut self, ih: InfoHash, piece: u32, now: Instant) -> Option<Ready<P>> {
        let due = self.due(self.torrents.get(&ih).and_then(|t| t.pieces_sent), now);
        let t = self.torrents.entry(ih).or_default();
        t.pieces.push(piece);
        if due {
            t.pieces_sent = Some(now);
            Some(Ready::Pieces(ih, std::mem::take(&mut t.pieces)))
        } else {
            None
        }
    }

    /// Pending events whose interval has passed.
    pub fn due_now(&mut self, now: Instant) -> Vec<Ready<P>> {
        let interval = self.interval;
        let ready_at =
            |sent: Option<Instant>| sent.is_none_or(|t| now.duration_since(t) >= interval);
        let mut out = Vec::new();
        for (ih, t) in &mut self.torrents {
            if !t.pieces.is_empty() && ready_at(t.pieces_sent) {
                t.pieces_sent = Some(now);
                out.push(Ready::Pieces(*ih, std::mem::take(&mut t.pieces)));
            }
            if t.progress.is_some() && ready_at(t.progress_sent) {
                t.progress_sent = Some(now);
                if let Some(p) = t.progress.take() {
                    t.last_progress = Some(p.clone());
                    out.push(Ready::Progress(*ih, p));
                }
            }
        }
        out
    }

    /// Everything pending for `ih` right away (before a completion or state change).
    pub fn flush(&mut self, ih: &InfoHash, now: Instant) -> Vec<Ready<P>> {
        let Some(t) = self.torrents.get_mut(ih) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if !t.pieces.is_empty() {
            t.pieces_sent = Some(now);
            out.push(Ready::Pieces(*ih, std::mem::take(&mut t.pieces)));
        }
        if let Some(p) = t.progress.take() {
            t.progress_sent = Some(now);
            t.last_progress = Some(p.clone());
            out.push(Ready::Progress(*ih, p));
        }
        out
    }

    pub fn forget(&mut self, ih: &InfoHash) {
        self.torrents.remove(ih);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type Coalescer = super::Coalescer<serde_json::Value>;

    #[test]
    fn at_most_one_progress_per_interval_and_the_latest_wins() {
        let ih = InfoHash([1; 20]);
        let mut c = Coalescer::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert!(c.progress(ih, json!(1), t0).is_some());
        for i in 2..100 {
            assert!(c
                .progress(ih, json!(i), t0 + Duration::from_millis(i))
                .is_none());
        }
        assert!(c.due_now(t0 + Duration::from_millis(400)).is_empty());
        let out = c.due_now(t0 + Duration::from_millis(500));
        assert_eq!(out, vec![Ready::Progress(ih, json!(99))]);
        assert!(
            c.due_now(t0 + Duration::from_millis(2000)).is_empty(),
            "nothing pending"
        );
    }

    #[test]
    fn repeats_of_the_last_progress_are_dropped() {
        let ih = InfoHash([3; 20]);
        let mut c = Coalescer::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert!(c.progress(ih, json!({"done": 1}), t0).is_some());
        // An idle torrent reports the same numbers every second: nothing is published.
        for s in 1..10 {
            assert!(c
                .progress(ih, json!({"done": 1}), t0 + Duration::from_secs(s))
                .is_none());
        }
        assert!(c.due_now(t0 + Duration::from_secs(20)).is_empty());
        // A pending change that is reverted before it was sent is dropped too.
        assert!(c
            .progress(ih, json!({"done": 2}), t0 + Duration::from_secs(20))
            .is_some());
        assert!(c
            .progress(ih, json!({"done": 3}), t0 + Duration::from_millis(20_100))
            .is_none());
        assert!(c
            .progress(ih, json!({"done": 2}), t0 + Duration::from_millis(20_200))
            .is_none());
        assert!(c.due_now(t0 + Duration::from_secs(21)).is_empty());
    }

    #[test]
    fn pieces_are_batched_and_flushed() {
        let ih = InfoHash([2; 20]);
        let mut c = Coalescer::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert_eq!(c.piece(ih, 0, t0), Some(Ready::Pieces(ih, vec![0])));
        assert_eq!(c.piece(ih, 1, t0), None);
        assert_eq!(c.piece(ih, 2, t0), None);
        assert_eq!(c.flush(&ih, t0), vec![Ready::Pieces(ih, vec![1, 2])]);
        assert!(c.flush(&ih, t0).is_empty());
        c.forget(&ih);
        assert_eq!(
            c.piece(ih, 3, t0),
            Some(Ready::Pieces(ih, vec![3])),
            "forgotten"
        );
    }
}
