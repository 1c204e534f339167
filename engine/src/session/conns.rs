//! The session-wide cap on open peer connections.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts open peer connections against the session-wide cap.
#[derive(Clone)]
pub(crate) struct ConnLimiter {
    open: Arc<AtomicUsize>,
    max: usize,
}

/// One counted connection; dropping it frees the slot.
pub(crate) struct ConnSlot {
    open: Arc<AtomicUsize>,
}

impl ConnLimiter {
    pub fn new(max: usize) -> Self {
        ConnLimiter {
            open: Arc::new(AtomicUsize::new(0)),
            max,
        }
    }

    /// A slot if the session is below its connection cap.
    pub fn try_acquire(&self) -> Option<ConnSlot> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| ConnSlot {
                open: self.open.clone(),
            })
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}
