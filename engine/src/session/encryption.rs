//! The session's encryption policy (changeable at run time; new connections read it) and
//! the peers that hung up on a plaintext dial and answered an encrypted one.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use crate::config::Encryption;

/// Addresses remembered as wanting encryption; beyond this the set starts over (a
/// forgotten peer costs one plaintext attempt).
const MAX_REMEMBERED: usize = 4096;

pub(crate) struct EncryptionState {
    policy: AtomicU8,
    wants_mse: Mutex<HashSet<SocketAddr>>,
}

impl EncryptionState {
    pub fn new(policy: Encryption) -> Self {
        EncryptionState {
            policy: AtomicU8::new(policy as u8),
            wants_mse: Mutex::new(HashSet::new()),
        }
    }

    pub fn policy(&self) -> Encryption {
        match self.policy.load(Ordering::Relaxed) {
            0 => Encryption::Disabled,
            2 => Encryption::Required,
            _ => Encryption::Enabled,
        }
    }

    pub fn set(&self, policy: Encryption) {
        self.policy.store(policy as u8, Ordering::Relaxed);
    }

    /// Whether `addr` refused plaintext before and answered encrypted.
    pub fn wants_mse(&self, addr: &SocketAddr) -> bool {
        self.lock().contains(addr)
    }

    pub fn remember(&self, addr: SocketAddr) {
        let mut set = self.lock();
        if set.len() >= MAX_REMEMBERED {
            set.clear();
        }
        set.insert(addr);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<SocketAddr>> {
        self.wants_mse.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_round_trips_and_memory_is_bounded() {
        let s = EncryptionState::new(Encryption::Required);
        assert_eq!(s.policy(), Encryption::Required);
        s.set(Encryption::Disabled);
        assert_eq!(s.policy(), Encryption::Disabled);
        s.set(Encryption::Enabled);
        assert_eq!(s.policy(), Encryption::Enabled);
        for port in 0..=MAX_REMEMBERED as u16 {
            s.remember(SocketAddr::from(([127, 0, 0, 1], port)));
        }
        assert!(s.lock().len() <= MAX_REMEMBERED);
        assert!(s.wants_mse(&SocketAddr::from(([127, 0, 0, 1], MAX_REMEMBERED as u16))));
    }
}
