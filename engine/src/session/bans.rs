//! The session's ban list: addresses we refuse to talk to, and the strikes that lead there.
//!
//! A strike is proof, not suspicion: a piece that failed its hash check while one peer sent
//! all of it, or a block that differs from the same block of the piece once it verified
//! from others ("smart ban", `torrent/smart_ban.rs`). A peer pushing data nobody asked for
//! is banned at once. Bans last for the session; users ban and unban by hand too.
//!
//! Torrents notice a new ban through [`BanList::generation`] on their next tick and drop
//! every connection from the address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

use crate::torrent::lock;

/// Addresses with strikes remembered at most; beyond it new strikes are not recorded
/// (a flood of addresses must not grow memory).
const MAX_STRUCK: usize = 4096;
/// Bans kept at most (manual bans always go in).
const MAX_BANS: usize = 65_536;

/// Why an address is banned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BanReason {
    /// Pieces it sent failed verification (`strikes` of them).
    #[error("sent corrupt data ({strikes} bad pieces)")]
    CorruptData { strikes: u32 },
    #[error("sent blocks we did not ask for")]
    UnrequestedData,
    #[error("banned by a user")]
    Manual,
}

/// One banned address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ban {
    pub ip: IpAddr,
    pub reason: BanReason,
    pub since: SystemTime,
}

#[derive(Default)]
struct Inner {
    bans: HashMap<IpAddr, Ban>,
    strikes: HashMap<IpAddr, u32>,
}

/// Bans and strikes, shared by every torrent of a session.
pub(crate) struct BanList {
    inner: Mutex<Inner>,
    /// Bumped on every new ban, so torrents rescan their peers only then.
    generation: AtomicU64,
    strikes_to_ban: u32,
}

impl BanList {
    pub fn new(strikes_to_ban: u32) -> Self {
        BanList {
            inner: Mutex::default(),
            generation: AtomicU64::new(0),
            strikes_to_ban: strikes_to_ban.max(1),
        }
    }

    pub fn is_banned(&self, ip: IpAddr) -> bool {
        lock(&self.inner).bans.contains_key(&ip)
    }

    /// Why `ip` is banned, if it is.
    pub fn reason(&self, ip: IpAddr) -> Option<BanReason> {
        lock(&self.inner).bans.get(&ip).map(|b| b.reason.clone())
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Strikes recorded against `ip`.
    pub fn strikes(&self, ip: IpAddr) -> u32 {
        lock(&self.inner).strikes.get(&ip).copied().unwrap_or(0)
    }

    /// One proven bad piece from `ip`; returns the ban when this strike was the last straw.
    pub fn strike(&self, ip: IpAddr) -> Option<Ban> {
        let mut inner = lock(&self.inner);
        if inner.bans.contains_key(&ip) {
            return None;
        }
        if inner.strikes.len() >= MAX_STRUCK && !inner.strikes.contains_key(&ip) {
            return None;
        }
        let n = inner.strikes.entry(ip).or_insert(0);
        *n += 1;
        let strikes = *n;
        (strikes >= self.strikes_to_ban)
            .then(|| self.insert(&mut inner, ip, BanReason::CorruptData { strikes }))
            .flatten()
    }

    /// Bans `ip` now; `None` if it already was (or the list is full and this is no manual ban).
    pub fn ban(&self, ip: IpAddr, reason: BanReason) -> Option<Ban> {
        let mut inner = lock(&self.inner);
        self.insert(&mut inner, ip, reason)
    }

    fn insert(&self, inner: &mut Inner, ip: IpAddr, reason: BanReason) -> Option<Ban> {
        if inner.bans.contains_key(&ip)
            || (inner.bans.len() >= MAX_BANS && reason != BanReason::Manual)
        {
            return None;
        }
        let ban = Ban {
            ip,
            reason,
            since: SystemTime::now(),
        };
        inner.bans.insert(ip, ban.clone());
        self.generation.fetch_add(1, Ordering::AcqRel);
        Some(ban)
    }

    /// Lifts a ban and forgets the address's strikes; false if it was not banned.
    pub fn unban(&self, ip: IpAddr) -> bool {
        let mut inner = lock(&self.inner);
        inner.strikes.remove(&ip);
        inner.bans.remove(&ip).is_some()
    }

    /// Every ban, oldest first.
    pub fn list(&self) -> Vec<Ban> {
        let mut v: Vec<Ban> = lock(&self.inner).bans.values().cloned().collect();
        v.sort_by_key(|b| b.since);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn strikes_lead_to_a_ban_and_unban_forgets_them() {
        let b = BanList::new(3);
        let g0 = b.generation();
        assert!(b.strike(ip(2)).is_none());
        assert!(b.strike(ip(2)).is_none());
        assert_eq!(b.strikes(ip(2)), 2);
        assert!(!b.is_banned(ip(2)));
        let ban = b.strike(ip(2)).expect("third strike bans");
        assert_eq!(ban.reason, BanReason::CorruptData { strikes: 3 });
        assert!(b.is_banned(ip(2)));
        assert!(!b.is_banned(ip(3)), "only that address");
        assert!(b.generation() > g0, "torrents must notice");
        assert!(b.strike(ip(2)).is_none(), "already banned");
        assert!(b.unban(ip(2)));
        assert!(!b.is_banned(ip(2)));
        assert_eq!(b.strikes(ip(2)), 0);
        assert!(!b.unban(ip(2)));
    }

    #[test]
    fn manual_bans_are_listed_once() {
        let b = BanList::new(3);
        assert!(b.ban(ip(4), BanReason::Manual).is_some());
        assert!(b.ban(ip(4), BanReason::UnrequestedData).is_none());
        let l = b.list();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].reason, BanReason::Manual);
    }
}
