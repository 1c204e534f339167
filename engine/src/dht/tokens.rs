//! `get_peers` tokens (BEP 5): a hash of the querier's IP and a secret that rotates, so
//! an `announce_peer` is accepted only from an address that asked us recently, and no
//! per-querier state is kept.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rand::Rng;
use sha1::{Digest, Sha1};

/// Length of the tokens we hand out.
pub const TOKEN_LEN: usize = 8;

/// Two secrets: tokens made with either are valid, so a token lives between one and two
/// rotation periods (BEP 5 suggests 5 minutes, accepting 10-minute-old tokens).
pub struct Tokens {
    current: [u8; 16],
    previous: [u8; 16],
    rotated: Instant,
    period: Duration,
}

impl Tokens {
    pub fn new(now: Instant, period: Duration) -> Self {
        let mut rng = rand::rng();
        Tokens {
            current: rng.random(),
            previous: rng.random(),
            rotated: now,
            period,
        }
    }

    /// Rotates the secret once a period has passed.
    pub fn tick(&mut self, now: Instant) {
        if now.duration_since(self.rotated) >= self.period {
            self.previous = self.current;
            self.current = rand::rng().random();
            self.rotated = now;
        }
    }

    /// The token for `ip` under the current secret.
    pub fn make(&self, ip: IpAddr) -> [u8; TOKEN_LEN] {
        token(&self.current, ip)
    }

    /// Whether `t` was handed to `ip` under the current or the previous secret.
    pub fn check(&self, ip: IpAddr, t: &[u8]) -> bool {
        t == token(&self.current, ip) || t == token(&self.previous, ip)
    }
}

fn token(secret: &[u8; 16], ip: IpAddr) -> [u8; TOKEN_LEN] {
    let mut h = Sha1::new();
    h.update(secret);
    match ip {
        IpAddr::V4(v4) => h.update(v4.octets()),
        IpAddr::V6(v6) => h.update(v6.octets()),
    }
    let digest = h.finalize();
    let mut out = [0u8; TOKEN_LEN];
    out.copy_from_slice(&digest[..TOKEN_LEN]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_ip_and_survive_one_rotation() {
        let t0 = Instant::now();
        let period = Duration::from_secs(300);
        let mut tokens = Tokens::new(t0, period);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let ta = tokens.make(a);
        assert!(tokens.check(a, &ta));
        assert!(!tokens.check(b, &ta), "a token is bound to its IP");
        assert!(!tokens.check(a, &ta[..4]));
        tokens.tick(t0 + Duration::from_secs(10));
        assert_eq!(tokens.make(a), ta, "no rotation before the period");
        tokens.tick(t0 + period);
        assert_ne!(tokens.make(a), ta);
        assert!(
            tokens.check(a, &ta),
            "the previous secret is still accepted"
        );
        tokens.tick(t0 + period * 2);
        assert!(!tokens.check(a, &ta), "two rotations later it has expired");
    }
}
