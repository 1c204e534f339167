//! LEDBAT (BEP 29 / RFC 6817) and the retransmission timer: how many bytes a connection may
//! have in flight, from one-way delay samples, losses and timeouts.
//!
//! The delay sample is the peer's receive clock minus our send timestamp, echoed in every
//! packet: it carries the clocks' offset, so only its excess over the base delay (the least
//! sample of the last two minutes) means queueing. Below the 100 ms target the window grows
//! (by at most `GAIN` bytes per round trip), above it shrinks; a loss halves it (once per
//! round trip, the caller's rule) and a timeout drops it to one packet.

/// Queueing delay LEDBAT aims for.
pub const TARGET_US: i64 = 100_000;
/// Most the window grows per round trip of full windows.
const GAIN: i64 = 3000;
/// Least RTO (libtorrent and libutp use the same floor).
const MIN_RTO_US: u64 = 500_000;
/// Largest RTO after backing off.
const MAX_RTO_US: u64 = 16_000_000;
/// RTO before any round-trip sample.
const INITIAL_RTO_US: u64 = 1_000_000;
/// How long each base-delay bucket covers, and how many are kept (two minutes).
const BASE_BUCKET_US: u64 = 60_000_000;
const BASE_BUCKETS: usize = 2;

pub(crate) struct Ledbat {
    /// Congestion window in bytes.
    cwnd: i64,
    min_cwnd: i64,
    max_cwnd: i64,
    /// Until the first loss or the delay nears the target, the window doubles per round
    /// trip; `ssthresh` ends it early after a timeout.
    slow_start: bool,
    ssthresh: i64,
    /// Per-minute minimum delay samples, newest last, and when the newest bucket began.
    base: [u32; BASE_BUCKETS],
    base_len: usize,
    base_since: u64,
    /// Smoothed round-trip time and its variance (microseconds), 0 before a sample.
    srtt: u64,
    rttvar: u64,
    rto: u64,
    /// The last queueing delay measured, for statistics.
    pub our_delay: i64,
}

impl Ledbat {
    pub fn new(mss: usize, max_cwnd: usize) -> Self {
        let mss = mss as i64;
        Ledbat {
            cwnd: 2 * mss,
            min_cwnd: mss,
            max_cwnd: max_cwnd as i64,
            slow_start: true,
            ssthresh: i64::MAX,
            base: [u32::MAX; BASE_BUCKETS],
            base_len: 0,
            base_since: 0,
            srtt: 0,
            rttvar: 0,
            rto: INITIAL_RTO_US,
            our_delay: 0,
        }
    }

    pub fn window(&self) -> usize {
        self.cwnd as usize
    }

    pub fn rto(&self) -> u64 {
        self.rto
    }

    /// `acked` new bytes acknowledged by a packet whose delay sample is `sample` (0: none);
    /// `limited` says whether the window was full (an application-limited sender does not
    /// grow it).
    pub fn on_ack(&mut self, acked: usize, sample: u32, now: u64, limited: bool) {
        let acked = acked as i64;
        if sample != 0 {
            self.add_base(sample, now);
        }
        // The least of the buckets, on the wrapping clock.
        let base = self.base[1..self.base_len.max(1)]
            .iter()
            .fold(self.base[0], |m, &b| {
                if b.wrapping_sub(m) > u32::MAX / 2 {
                    b
                } else {
                    m
                }
            });
        self.our_delay = if sample == 0 || base == u32::MAX {
            0
        } else {
            // Wrapping clocks: a sample "below" the base is a new base, delay 0.
            let d = sample.wrapping_sub(base);
            if d > u32::MAX / 2 {
                0
            } else {
                i64::from(d)
            }
        };
        if !limited {
            return;
        }
        if self.slow_start {
            if self.our_delay > TARGET_US * 9 / 10 || self.cwnd >= self.ssthresh {
                self.slow_start = false;
            } else {
                self.cwnd = (self.cwnd + acked).min(self.max_cwnd);
                return;
            }
        }
        let off_target = TARGET_US - self.our_delay;
        let delta = GAIN * off_target / TARGET_US * acked / self.cwnd.max(1);
        self.cwnd = (self.cwnd + delta).clamp(self.min_cwnd, self.max_cwnd);
    }

    fn add_base(&mut self, sample: u32, now: u64) {
        if self.base_len == 0 {
            self.base[0] = sample;
            self.base_len = 1;
            self.base_since = now;
            return;
        }
        if now.saturating_sub(self.base_since) >= BASE_BUCKET_US {
            if self.base_len == BASE_BUCKETS {
                self.base.rotate_left(1);
            } else {
                self.base_len += 1;
            }
            self.base[self.base_len - 1] = sample;
            self.base_since = now;
            return;
        }
        let newest = &mut self.base[self.base_len - 1];
        // Wrapping "less than".
        if sample.wrapping_sub(*newest) > u32::MAX / 2 {
            *newest = sample;
        }
    }

    /// A round-trip sample (microseconds) from a packet sent once.
    pub fn on_rtt(&mut self, rtt: u64) {
        if self.srtt == 0 {
            self.srtt = rtt;
            self.rttvar = rtt / 2;
        } else {
            let diff = self.srtt.abs_diff(rtt);
            self.rttvar = (3 * self.rttvar + diff) / 4;
            self.srtt = (7 * self.srtt + rtt) / 8;
        }
        self.rto = (self.srtt + 4 * self.rttvar).clamp(MIN_RTO_US, MAX_RTO_US);
    }

    pub fn srtt(&self) -> u64 {
        self.srtt
    }

    /// A packet was lost (duplicate or selective ACKs): halve.
    pub fn on_loss(&mut self) {
        self.slow_start = false;
        self.cwnd = (self.cwnd / 2).max(self.min_cwnd);
    }

    /// The retransmission timer fired: one packet, slow start up to half the old window,
    /// and the timer backs off.
    pub fn on_timeout(&mut self) {
        self.ssthresh = (self.cwnd / 2).max(self.min_cwnd * 2);
        self.cwnd = self.min_cwnd;
        self.slow_start = true;
        self.rto = (self.rto * 2).min(MAX_RTO_US);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_below_target_and_shrinks_above_it() {
        let mut l = Ledbat::new(1000, 1 << 20);
        l.slow_start = false;
        let w0 = l.window();
        // Base 1000 µs, sample at base: no queueing, the window grows.
        for i in 0..10 {
            l.on_ack(1000, 1000, i, true);
        }
        let w1 = l.window();
        assert!(w1 > w0, "{w1} > {w0}");
        // 200 ms of queueing: above target, it shrinks.
        for i in 0..10 {
            l.on_ack(1000, 201_000, 10 + i, true);
        }
        assert!(l.window() < w1);
        assert!(l.window() >= 1000);
    }

    #[test]
    fn slow_start_doubles_until_delay_nears_the_target() {
        let mut l = Ledbat::new(1000, 1 << 20);
        l.on_ack(2000, 500, 0, true);
        assert_eq!(l.window(), 4000);
        l.on_ack(1000, 500 + 95_000, 1, true);
        assert!(!l.slow_start);
    }

    #[test]
    fn loss_halves_timeout_resets_and_rto_backs_off() {
        let mut l = Ledbat::new(1000, 1 << 20);
        l.cwnd = 64_000;
        l.on_loss();
        assert_eq!(l.window(), 32_000);
        l.on_rtt(10_000);
        assert_eq!(l.rto(), MIN_RTO_US);
        l.on_timeout();
        assert_eq!((l.window(), l.rto()), (1000, 2 * MIN_RTO_US));
    }

    #[test]
    fn base_delay_forgets_after_two_minutes_and_wraps() {
        let mut l = Ledbat::new(1000, 1 << 20);
        l.on_ack(0, u32::MAX - 10, 0, false);
        l.on_ack(0, 5, 1, false); // wrapped past the old base: 16 µs later
        assert_eq!(l.our_delay, 16);
        l.on_ack(0, 50_000, BASE_BUCKET_US, false);
        l.on_ack(0, 60_000, 2 * BASE_BUCKET_US, false);
        // The wrapped minimum of the first minute is gone.
        assert_eq!(l.our_delay, 10_000);
    }
}
