//! Attempts per client address (logins, registrations): a fixed window per address, IPv6
//! counted by /64 ([`super::client_ip::bucket`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond this, expired windows are swept first.
const MAX_TRACKED: usize = 100_000;

pub struct LoginLimiter {
    per_window: u32,
    window: Duration,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl LoginLimiter {
    /// `per_minute` attempts per address; 0 disables the limit.
    pub fn new(per_minute: u32) -> LoginLimiter {
        LoginLimiter::with_window(per_minute, WINDOW)
    }

    /// `per_window` attempts per address in each `window`; 0 disables the limit.
    pub fn with_window(per_window: u32, window: Duration) -> LoginLimiter {
        LoginLimiter {
            per_window,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt from `ip`; Err(seconds to wait) when over the limit.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), u64> {
        self.attempt_at(super::client_ip::bucket(ip), Instant::now())
    }

    fn attempt_at(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.per_window == 0 {
            return Ok(());
        }
        let mut map = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            let window = self.window;
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_window {
            let wait = self.window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_address_and_window() {
        let l = LoginLimiter::new(2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t = Instant::now();
        assert!(l.attempt_at(a, t).is_ok());
        assert!(l.attempt_at(a, t).is_ok());
        let wait = l.attempt_at(a, t).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(
            l.attempt_at(b, t).is_ok(),
            "other addresses are not affected"
        );
        assert!(l.attempt_at(a, t + WINDOW).is_ok(), "a new window starts");
        assert!(LoginLimiter::new(0).attempt_at(a, t).is_ok());
    }

    #[test]
    fn an_ipv6_64_is_one_bucket() {
        let l = LoginLimiter::new(1);
        assert!(l.attempt("2001:db8::1".parse().unwrap()).is_ok());
        assert!(
            l.attempt("2001:db8::ffff:2".parse().unwrap()).is_err(),
            "same /64"
        );
        assert!(l.attempt("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }
}
