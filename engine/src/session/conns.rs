//! Session-wide caps on peer connections: in total, per remote address, and (a separate
//! pool) for incoming connections that have not finished their handshake yet, so neither a
//! slow handshaker nor one address can pin every slot (issue 11, item 9).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::torrent::lock;

/// Counts connections against a total cap and a per-address cap.
#[derive(Clone)]
pub(crate) struct ConnLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    open: AtomicUsize,
    max: usize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    max_per_ip: usize,
}

/// One counted connection; dropping it frees the slot.
pub(crate) struct ConnSlot {
    inner: Arc<Inner>,
    ip: IpAddr,
}

impl ConnLimiter {
    pub fn new(max: usize, max_per_ip: usize) -> Self {
        ConnLimiter {
            inner: Arc::new(Inner {
                open: AtomicUsize::new(0),
                max,
                per_ip: Mutex::default(),
                max_per_ip: max_per_ip.max(1),
            }),
        }
    }

    /// A slot if both the total and `ip`'s count are below their caps.
    pub fn try_acquire(&self, ip: IpAddr) -> Option<ConnSlot> {
        let inner = &self.inner;
        let mut per_ip = lock(&inner.per_ip);
        if per_ip.get(&ip).is_some_and(|&n| n >= inner.max_per_ip) {
            return None;
        }
        // Total first: a refused address must not leave an entry behind (the map would grow
        // with every address that tries while the session is full).
        inner
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
                (o < inner.max).then_some(o + 1)
            })
            .ok()?;
        *per_ip.entry(ip).or_insert(0) += 1;
        Some(ConnSlot {
            inner: inner.clone(),
            ip,
        })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        let mut per_ip = lock(&self.inner.per_ip);
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
        self.inner.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_and_per_address_caps() {
        let c = ConnLimiter::new(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = c.try_acquire(a).unwrap();
        let _a2 = c.try_acquire(a).unwrap();
        assert!(c.try_acquire(a).is_none(), "one address cannot take more");
        let _b1 = c.try_acquire(b).unwrap();
        assert!(c.try_acquire(b).is_none(), "the total cap");
        let other: IpAddr = [10, 0, 0, 3].into();
        assert!(c.try_acquire(other).is_none());
        assert_eq!(
            lock(&c.inner.per_ip).len(),
            2,
            "a refused address leaves nothing"
        );
        drop(a1);
        assert!(c.try_acquire(a).is_some(), "a freed slot is usable again");
        assert_eq!(lock(&c.inner.per_ip).len(), 2);
    }
}
