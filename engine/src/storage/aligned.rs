//! Byte buffers whose first byte sits on a page boundary.
//!
//! `O_DIRECT` writes need the memory, the file offset and the length all aligned (see
//! [`super::direct`]); a plain `Vec<u8>` of 1 MiB comes from `mmap` with malloc's 16-byte header
//! in front, so it never is. Piece assembly buffers use this type so whole pieces can be written
//! straight from them. Safe code only: a `Vec` over-allocated by one page and used from its first
//! aligned byte (the allocation never moves, because the `Vec` is never grown in place).

use std::ops::{Deref, DerefMut};

/// Alignment of the first byte: a page, enough for every common logical block size.
pub const ALIGN: usize = 4096;

#[derive(Default)]
pub struct AlignedBuf {
    raw: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// A zeroed buffer of `len` bytes (pages are faulted in lazily by the allocator).
    pub fn zeroed(len: usize) -> Self {
        let mut b = AlignedBuf::default();
        b.resize(len);
        b
    }

    /// Sets the length to `len`. Reuses the allocation when it is large enough; bytes already
    /// in the buffer are kept (not zeroed), as with `Vec::resize` over existing elements.
    pub fn resize(&mut self, len: usize) {
        if self.raw.len() < len + ALIGN - 1 {
            self.raw = vec![0; len + ALIGN - 1];
            let addr = self.raw.as_ptr() as usize;
            self.start = (ALIGN - addr % ALIGN) % ALIGN;
        }
        self.len = len;
    }

    /// Bytes allocated (what keeping this buffer in a pool costs).
    pub fn capacity(&self) -> usize {
        self.raw.len()
    }
}

impl Deref for AlignedBuf {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

impl DerefMut for AlignedBuf {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.raw[self.start..self.start + self.len]
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedBuf({} bytes)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_through_resizes() {
        let mut b = AlignedBuf::zeroed(10_000);
        assert_eq!(b.len(), 10_000);
        assert_eq!(b.as_ptr() as usize % ALIGN, 0);
        assert!(b.iter().all(|&x| x == 0));
        b[9_999] = 7;
        let cap = b.capacity();
        b.resize(5_000);
        assert_eq!(
            (b.len(), b.capacity()),
            (5_000, cap),
            "shrinking keeps the allocation"
        );
        b.resize(10_000);
        assert_eq!(b[9_999], 7, "old bytes are kept like Vec::resize");
        b.resize(1 << 20);
        assert_eq!(b.as_ptr() as usize % ALIGN, 0);
        assert_eq!(b.len(), 1 << 20);
        assert_eq!(AlignedBuf::default().len(), 0);
    }
}
