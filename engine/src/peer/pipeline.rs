//! Per-peer request pipeline: which blocks are in flight, and how many may be.
//!
//! Depth starts small and grows by one per received block (doubling per round trip, like
//! TCP slow start) until the rate stops growing; then it tracks rate × [`QUEUE_TIME`].
//! Timeouts halve it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::wire::{BlockRequest, BLOCK_SIZE};

pub(crate) const MIN_DEPTH: usize = 16;
pub(crate) const MAX_DEPTH: usize = 1000;
/// Largest deficit [`Pipeline::refill`] waits for (1 MiB of requests).
const REFILL_BATCH_MAX: usize = 64;
/// How much transfer time the pipeline should cover.
const QUEUE_TIME: Duration = Duration::from_secs(1);
/// A peer that sent nothing for this long while we wait on it is snubbing us.
pub(crate) const SNUB_TIMEOUT: Duration = Duration::from_secs(20);
/// A single request unanswered this long is presumed lost.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Requests we stopped waiting for that are still remembered, so a block that was already on
/// its way is recognised as asked-for (late), not as unrequested.
const LATE_MEMORY: usize = 2 * MAX_DEPTH;

pub(crate) struct Pipeline {
    outstanding: VecDeque<(BlockRequest, Instant)>,
    /// Cancelled, timed-out or choked requests, newest last (at most [`LATE_MEMORY`]).
    late: VecDeque<BlockRequest>,
    target: usize,
    slow_start: bool,
    last_rate: u64,
    /// When a block last arrived, or requesting last restarted from empty.
    last_progress: Instant,
}

impl Pipeline {
    pub fn new(now: Instant) -> Self {
        Pipeline {
            outstanding: VecDeque::new(),
            late: VecDeque::new(),
            target: MIN_DEPTH,
            slow_start: true,
            last_rate: 0,
            last_progress: now,
        }
    }

    #[cfg(test)]
    pub fn late_len(&self) -> usize {
        self.late.len()
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.outstanding.len()
    }

    #[cfg(test)]
    pub fn target(&self) -> usize {
        self.target
    }

    /// How many more requests may be sent now.
    pub fn deficit(&self) -> usize {
        self.target.saturating_sub(self.outstanding.len())
    }

    /// How many requests to send now: the deficit once it reaches 1/8 of the depth (at most
    /// [`REFILL_BATCH_MAX`]), else 0. Refilling after every socket read sent a few requests per
    /// `send` and woke the writer once per read; a deep pipeline loses nothing by waiting for a
    /// batch, and a shallow one (slow start) still refills every block or two.
    pub fn refill(&self) -> usize {
        let deficit = self.deficit();
        if deficit >= (self.target / 8).clamp(1, REFILL_BATCH_MAX) {
            deficit
        } else {
            0
        }
    }

    pub fn push(&mut self, req: BlockRequest, now: Instant) {
        if self.outstanding.is_empty() {
            self.last_progress = now;
        }
        self.outstanding.push_back((req, now));
    }

    /// Records an arrived block; false if we were not waiting for it from this peer.
    pub fn on_block(&mut self, req: &BlockRequest, now: Instant) -> bool {
        let found = self.take(req);
        if found {
            self.last_progress = now;
            if self.slow_start && self.target < MAX_DEPTH {
                self.target += 1;
            }
        }
        found
    }

    /// Forgets one request (cancelled or duplicated elsewhere); it may still arrive late.
    pub fn remove(&mut self, req: &BlockRequest) -> bool {
        let found = self.take(req);
        if found {
            self.remember_late(*req);
        }
        found
    }

    fn take(&mut self, req: &BlockRequest) -> bool {
        // Blocks mostly arrive in request order, so the match is usually at the front.
        match self.outstanding.iter().position(|(r, _)| r == req) {
            Some(i) => {
                self.outstanding.remove(i);
                true
            }
            None => false,
        }
    }

    /// The peer will never send it (rejected): not even late.
    pub fn reject(&mut self, req: &BlockRequest) -> bool {
        self.take(req)
    }

    fn remember_late(&mut self, req: BlockRequest) {
        if self.late.len() >= LATE_MEMORY {
            self.late.pop_front();
        }
        self.late.push_back(req);
    }

    /// Whether `req` was asked of this peer and given up on (it arrives late); forgets it.
    pub fn take_late(&mut self, req: &BlockRequest) -> bool {
        match self.late.iter().rposition(|r| r == req) {
            Some(i) => {
                self.late.remove(i);
                true
            }
            None => false,
        }
    }

    /// Empties the pipeline (peer choked us or is going away).
    pub fn drain(&mut self) -> Vec<BlockRequest> {
        let gone: Vec<BlockRequest> = self.outstanding.drain(..).map(|(r, _)| r).collect();
        for r in &gone {
            self.remember_late(*r);
        }
        gone
    }

    /// Once per second: adapt the depth to the measured download rate.
    pub fn on_tick(&mut self, rate: u64) {
        if self.slow_start {
            // Leave slow start once a full second brought less than 10% more throughput.
            if self.last_rate > 0 && rate.saturating_mul(10) < self.last_rate.saturating_mul(11) {
                self.slow_start = false;
            }
        }
        if !self.slow_start {
            let want = (rate as f64 * QUEUE_TIME.as_secs_f64() / f64::from(BLOCK_SIZE)) as usize;
            // Never shrink by more than half per tick: one slow second is not a trend.
            self.target = want.max(self.target / 2).clamp(MIN_DEPTH, MAX_DEPTH);
        }
        self.last_rate = rate;
    }

    /// Requests to give back because the peer stopped answering; shrinks the depth.
    pub fn take_timed_out(&mut self, now: Instant, out: &mut Vec<BlockRequest>) {
        let Some(&(_, oldest)) = self.outstanding.front() else {
            return;
        };
        let age = now.saturating_duration_since(oldest);
        if now.saturating_duration_since(self.last_progress) >= SNUB_TIMEOUT && age >= SNUB_TIMEOUT
        {
            out.extend(self.drain());
        } else if age >= REQUEST_TIMEOUT {
            if let Some((r, _)) = self.outstanding.pop_front() {
                self.remember_late(r);
                out.push(r);
            }
        } else {
            return;
        }
        self.slow_start = false;
        self.target = (self.target / 2).max(MIN_DEPTH);
        self.last_progress = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(i: u32) -> BlockRequest {
        BlockRequest {
            piece: i,
            offset: 0,
            len: BLOCK_SIZE,
        }
    }

    #[test]
    fn given_up_requests_are_recognised_when_they_arrive_late() {
        let t0 = Instant::now();
        let mut p = Pipeline::new(t0);
        for i in 0..4 {
            p.push(req(i), t0);
        }
        assert!(p.remove(&req(0)), "cancelled");
        assert!(p.reject(&req(1)), "rejected: never coming");
        assert_eq!(p.drain().len(), 2, "choked");
        assert_eq!(p.late_len(), 3);
        assert!(!p.on_block(&req(0), t0), "no longer outstanding");
        assert!(p.take_late(&req(0)));
        assert!(!p.take_late(&req(0)), "only once");
        assert!(!p.take_late(&req(1)), "a rejected request is not late");
        assert!(p.take_late(&req(3)));
        assert!(!p.take_late(&req(77)), "never asked");
        for i in 0..(LATE_MEMORY as u32 + 10) {
            p.push(req(i), t0);
            p.remove(&req(i));
        }
        assert_eq!(p.late_len(), LATE_MEMORY, "bounded");
    }

    #[test]
    fn slow_start_grows_then_follows_rate() {
        let t0 = Instant::now();
        let mut p = Pipeline::new(t0);
        assert_eq!(p.deficit(), MIN_DEPTH);
        for i in 0..16 {
            p.push(req(i), t0);
        }
        assert_eq!(p.deficit(), 0);
        assert_eq!(p.refill(), 0);
        for i in 0..16 {
            assert!(p.on_block(&req(i), t0));
        }
        assert_eq!(p.target(), 32);
        assert!(!p.on_block(&req(99), t0));
        assert_eq!(p.refill(), 32, "an empty pipeline refills whole");
        p.on_tick(10 << 20);
        p.on_tick(10 << 20); // no growth: slow start ends, depth = 10 MiB/s × 1 s
        assert_eq!(p.target(), 640);
        for i in 0..600 {
            p.push(req(i), t0);
        }
        assert_eq!(p.refill(), 0, "40 missing of 640: wait for a batch of 64");
        for i in 600..560 + 80 {
            p.push(req(i), t0);
        }
        for i in 0..80 {
            assert!(p.on_block(&req(i), t0));
        }
        assert_eq!(p.refill(), 80);
        p.on_tick(1 << 30);
        assert_eq!(p.target(), MAX_DEPTH);
    }

    #[test]
    fn snubbing_peer_times_out_everything() {
        let t0 = Instant::now();
        let mut p = Pipeline::new(t0);
        p.push(req(1), t0);
        p.push(req(2), t0);
        let mut out = Vec::new();
        p.take_timed_out(t0 + Duration::from_secs(5), &mut out);
        assert!(out.is_empty());
        p.take_timed_out(t0 + SNUB_TIMEOUT, &mut out);
        assert_eq!(out, vec![req(1), req(2)]);
        assert_eq!(p.len(), 0);
        assert_eq!(p.target(), MIN_DEPTH);
    }
}
