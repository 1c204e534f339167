//! `O_DIRECT` writes of the page-aligned middle of a piece.
//!
//! Why: a buffered write copies every downloaded byte into newly allocated page-cache pages.
//! Profiling the loopback benchmark on our Firecracker VM showed that copy
//! (`copy_folio_from_iter_atomic`) taking 60 % of the leecher's CPU time: the guest hands free
//! pages back to the host, so first touch of a fresh page-cache page is a host page fault. Even
//! on bare metal it is a full extra pass over the data. A direct write DMAs from the piece
//! buffer instead and leaves the page cache alone.
//!
//! Only a span whose memory address, file offset and length are all multiples of [`ALIGN`] may go
//! direct; the unaligned head and tail of a chunk (file boundaries inside a piece, a short last
//! piece) are written through the page cache as before. The kernel keeps both paths coherent.
//! Filesystems without `O_DIRECT` (tmpfs on older kernels, some FUSE) refuse it with `EINVAL`,
//! at open or at the first write; the caller then writes that file buffered for good.

use std::fs::File;
use std::io;
use std::path::Path;

pub use super::aligned::ALIGN;

/// Spans shorter than this are written buffered: a direct write is synchronous, and many tiny
/// ones would cost more than the copy they save.
pub const MIN_DIRECT: usize = 64 * 1024;

/// How to write `data` at file offset `offset`: `(head, mid)` means `data[..head]` buffered,
/// `data[head..head + mid]` direct and the rest buffered. `mid` is 0 when nothing qualifies.
pub fn split(data: &[u8], offset: u64) -> (usize, usize) {
    let head = (ALIGN - (offset % ALIGN as u64) as usize) % ALIGN;
    if head >= data.len() || !(data.as_ptr() as usize + head).is_multiple_of(ALIGN) {
        return (data.len(), 0);
    }
    let mid = (data.len() - head) / ALIGN * ALIGN;
    if mid < MIN_DIRECT {
        return (data.len(), 0);
    }
    (head, mid)
}

/// Opens `rel` below `root` (which must exist) for direct writes; `None` when the filesystem
/// refuses.
pub fn open(root: &Path, rel: &Path) -> Option<File> {
    match super::beneath::open(root, rel, super::beneath::Access::Direct) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::debug!(
                ?rel,
                "O_DIRECT unavailable, writing through the page cache: {e}"
            );
            None
        }
    }
}

/// True when a direct write failed only because this file or filesystem cannot do it
/// (`EINVAL`); the same bytes can then be written buffered.
pub fn unsupported(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidInput
}

#[cfg(test)]
mod tests {
    use super::super::aligned::AlignedBuf;
    use super::*;

    #[test]
    fn split_cases() {
        let buf = AlignedBuf::zeroed(1 << 20);
        // Aligned everywhere: all direct.
        assert_eq!(split(&buf, 0), (0, 1 << 20));
        assert_eq!(split(&buf, 8 * ALIGN as u64), (0, 1 << 20));
        // A short tail stays buffered.
        assert_eq!(split(&buf[..(1 << 20) - 100], 0), (0, (1 << 20) - ALIGN));
        // Memory and file offset congruent after a head.
        assert_eq!(
            split(&buf[ALIGN - 10..], 10 * ALIGN as u64 - 10),
            (10, (1 << 20) - ALIGN)
        );
        // Offset not congruent with the address: nothing direct.
        assert_eq!(split(&buf, 100), ((1 << 20), 0));
        // Too small to bother.
        assert_eq!(
            split(&buf[..MIN_DIRECT - ALIGN], 0),
            (MIN_DIRECT - ALIGN, 0)
        );
        assert_eq!(split(&buf[..MIN_DIRECT], 0), (0, MIN_DIRECT));
        assert_eq!(split(&[], 0), (0, 0));
        assert_eq!(split(&buf[..10], 4090), (10, 0));
    }

    #[test]
    fn direct_write_lands_or_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"").unwrap();
        let mut buf = AlignedBuf::zeroed(MIN_DIRECT);
        buf.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        let Some(f) = open(dir.path(), Path::new("f")) else {
            return; // this filesystem has no O_DIRECT: the buffered path is tested elsewhere
        };
        use std::os::unix::fs::FileExt;
        match f.write_all_at(&buf, ALIGN as u64) {
            Ok(()) => {
                let back = std::fs::read(&path).unwrap();
                assert_eq!(back.len(), ALIGN + MIN_DIRECT);
                assert_eq!(&back[ALIGN..], &buf[..]);
            }
            Err(e) => assert!(unsupported(&e), "{e}"),
        }
    }
}
