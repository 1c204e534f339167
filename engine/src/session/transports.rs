//! Which transport to dial: the session's uTP switch (changeable at run time) and the
//! peers whose uTP connect went unanswered while TCP worked, so they are dialed over TCP
//! straight away (libtorrent keeps the same memory).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Addresses remembered as TCP-only; beyond this the set starts over (a forgotten peer costs
/// one uTP attempt, three seconds).
const MAX_REMEMBERED: usize = 4096;

pub(crate) struct Transports {
    utp: AtomicBool,
    tcp_only: Mutex<HashSet<SocketAddr>>,
}

impl Transports {
    pub fn new(utp: bool) -> Self {
        Transports {
            utp: AtomicBool::new(utp),
            tcp_only: Mutex::new(HashSet::new()),
        }
    }

    pub fn utp(&self) -> bool {
        self.utp.load(Ordering::Relaxed)
    }

    pub fn set_utp(&self, on: bool) {
        self.utp.store(on, Ordering::Relaxed);
    }

    pub fn tcp_only(&self, addr: &SocketAddr) -> bool {
        self.lock().contains(addr)
    }

    pub fn remember_tcp(&self, addr: SocketAddr) {
        let mut set = self.lock();
        if set.len() >= MAX_REMEMBERED {
            set.clear();
        }
        set.insert(addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<SocketAddr>> {
        self.tcp_only.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_and_bounded_memory() {
        let t = Transports::new(true);
        assert!(t.utp());
        t.set_utp(false);
        assert!(!t.utp());
        for port in 0..=MAX_REMEMBERED as u16 {
            t.remember_tcp(SocketAddr::from(([127, 0, 0, 1], port)));
        }
        assert!(t.lock().len() <= MAX_REMEMBERED);
        assert!(t.tcp_only(&SocketAddr::from(([127, 0, 0, 1], MAX_REMEMBERED as u16))));
        assert!(!t.tcp_only(&SocketAddr::from(([127, 0, 0, 2], 1))));
    }
}
