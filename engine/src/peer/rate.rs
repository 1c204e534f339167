//! Smoothed transfer rates from byte totals sampled once per tick.

use std::time::Duration;

/// An exponentially smoothed bytes-per-second rate.
#[derive(Default, Debug, Clone)]
pub(crate) struct RateMeter {
    last_total: u64,
    rate: f64,
}

impl RateMeter {
    /// Feeds the running total after `dt`; returns the smoothed rate.
    pub fn tick(&mut self, total: u64, dt: Duration) -> u64 {
        let secs = dt.as_secs_f64().max(0.001);
        let inst = total.saturating_sub(self.last_total) as f64 / secs;
        self.last_total = total;
        // Weight the newest second heavily: rates drive pipelining and must react fast.
        self.rate = if self.rate == 0.0 {
            inst
        } else {
            self.rate * 0.4 + inst * 0.6
        };
        if self.rate < 1.0 {
            self.rate = 0.0;
        }
        self.rate as u64
    }

    pub fn rate(&self) -> u64 {
        self.rate as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_and_decays() {
        let mut m = RateMeter::default();
        let s = Duration::from_secs(1);
        assert_eq!(m.tick(1000, s), 1000);
        assert_eq!(m.tick(2000, s), 1000);
        let r = m.tick(2000, s);
        assert!(r < 1000);
        for _ in 0..40 {
            m.tick(2000, s);
        }
        assert_eq!(m.rate(), 0);
    }
}
