//! Pure geometry: where each piece's bytes live in the torrent's files.
//!
//! A torrent is one byte stream cut into pieces; files are consecutive ranges of that stream.
//! Nothing here does I/O, so it is shared by storage, status reporting and tests.

use std::ops::Range;

use crate::Bitfield;

use super::StorageError;

/// One contiguous run of a piece inside a single file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub file_index: usize,
    pub file_offset: u64,
    pub len: u32,
}

/// Piece ↔ file mapping for one torrent.
#[derive(Clone, Debug)]
pub struct Layout {
    piece_length: u32,
    total_length: u64,
    num_pieces: u32,
    /// Start of each file in the torrent's byte stream.
    starts: Vec<u64>,
    lengths: Vec<u64>,
}

impl Layout {
    /// Builds the layout from the files' lengths in torrent order.
    ///
    /// Fails on a zero piece length, a total that overflows `u64`, or more than `u32::MAX` pieces.
    pub fn new(piece_length: u32, file_lengths: &[u64]) -> Result<Layout, StorageError> {
        if piece_length == 0 {
            return Err(StorageError::Layout("piece length is 0".into()));
        }
        let mut starts = Vec::with_capacity(file_lengths.len());
        let mut total: u64 = 0;
        for &len in file_lengths {
            starts.push(total);
            total = total
                .checked_add(len)
                .ok_or_else(|| StorageError::Layout("total length overflows".into()))?;
        }
        let num_pieces = u32::try_from(total.div_ceil(u64::from(piece_length)))
            .map_err(|_| StorageError::Layout("too many pieces".into()))?;
        Ok(Layout {
            piece_length,
            total_length: total,
            num_pieces,
            starts,
            lengths: file_lengths.to_vec(),
        })
    }

    pub fn piece_length(&self) -> u32 {
        self.piece_length
    }

    pub fn total_length(&self) -> u64 {
        self.total_length
    }

    pub fn num_pieces(&self) -> u32 {
        self.num_pieces
    }

    pub fn num_files(&self) -> usize {
        self.lengths.len()
    }

    /// Where file `file` starts in the torrent's byte stream.
    pub fn file_start(&self, file: usize) -> u64 {
        self.starts.get(file).copied().unwrap_or(0)
    }

    pub fn file_length(&self, file: usize) -> u64 {
        self.lengths.get(file).copied().unwrap_or(0)
    }

    /// Length of piece `i` (the last one may be short); 0 when out of range.
    pub fn piece_len(&self, i: u32) -> u32 {
        if i >= self.num_pieces {
            return 0;
        }
        let start = u64::from(i) * u64::from(self.piece_length);
        // At most `piece_length`, so it fits in u32.
        (self.total_length - start).min(u64::from(self.piece_length)) as u32
    }

    /// Byte offset of piece `i` in the torrent's stream.
    pub fn piece_offset(&self, i: u32) -> u64 {
        u64::from(i) * u64::from(self.piece_length)
    }

    /// Whether `offset..offset+len` lies inside piece `piece`.
    pub fn contains(&self, piece: u32, offset: u32, len: usize) -> bool {
        piece < self.num_pieces
            && (offset as usize)
                .checked_add(len)
                .is_some_and(|end| end <= self.piece_len(piece) as usize)
    }

    /// The file runs covering `len` bytes at `offset_in_piece` of `piece`, in order.
    ///
    /// Zero-length files never appear. A range past the end of the torrent is cut short:
    /// callers check bounds with [`Layout::contains`] first.
    pub fn segments(&self, piece: u32, offset_in_piece: u32, len: u32) -> Segments<'_> {
        let pos = self.piece_offset(piece) + u64::from(offset_in_piece);
        // First file that ends after `pos`; this skips zero-length files sitting at `pos`.
        let file = self.starts.partition_point(|&s| s <= pos).saturating_sub(1);
        Segments {
            layout: self,
            file,
            pos,
            remaining: u64::from(len),
        }
    }

    /// Pieces that overlap `file`; empty for a zero-length file.
    pub fn file_piece_range(&self, file: usize) -> Range<u32> {
        let (Some(&start), Some(&len)) = (self.starts.get(file), self.lengths.get(file)) else {
            return 0..0;
        };
        let pl = u64::from(self.piece_length);
        let first = (start / pl) as u32;
        if len == 0 {
            return first..first;
        }
        first..((start + len - 1) / pl) as u32 + 1
    }

    /// For each file, how many of its bytes lie in pieces set in `have` (exact at the edges).
    pub fn file_bytes_done(&self, have: &Bitfield) -> Vec<u64> {
        let pl = u64::from(self.piece_length);
        (0..self.lengths.len())
            .map(|f| {
                let (fs, fe) = (self.starts[f], self.starts[f] + self.lengths[f]);
                self.file_piece_range(f)
                    .filter(|&p| have.get(p as usize))
                    .map(|p| {
                        let ps = u64::from(p) * pl;
                        let pe = ps + u64::from(self.piece_len(p));
                        pe.min(fe) - ps.max(fs)
                    })
                    .sum()
            })
            .collect()
    }
}

/// Iterator returned by [`Layout::segments`].
pub struct Segments<'a> {
    layout: &'a Layout,
    file: usize,
    pos: u64,
    remaining: u64,
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        while self.remaining > 0 && self.file < self.layout.lengths.len() {
            let start = self.layout.starts[self.file];
            let end = start + self.layout.lengths[self.file];
            if self.pos >= end {
                self.file += 1;
                continue;
            }
            // Bounded by `remaining`, which started as a u32.
            let len = (end - self.pos).min(self.remaining) as u32;
            let seg = Segment {
                file_index: self.file,
                file_offset: self.pos - start,
                len,
            };
            self.pos += u64::from(len);
            self.remaining -= u64::from(len);
            self.file += 1;
            return Some(seg);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(l: &Layout, piece: u32, off: u32, len: u32) -> Vec<(usize, u64, u32)> {
        l.segments(piece, off, len)
            .map(|s| (s.file_index, s.file_offset, s.len))
            .collect()
    }

    #[test]
    fn single_file_odd_last_piece() {
        let l = Layout::new(16, &[40]).unwrap();
        assert_eq!(l.num_pieces(), 3);
        assert_eq!((l.piece_len(0), l.piece_len(2), l.piece_len(3)), (16, 8, 0));
        assert_eq!(segs(&l, 2, 0, 8), vec![(0, 32, 8)]);
        assert_eq!(l.file_piece_range(0), 0..3);
        assert!(l.contains(2, 4, 4));
        assert!(!l.contains(2, 4, 5));
        assert!(!l.contains(3, 0, 0));
    }

    #[test]
    fn crosses_files_and_skips_empty_ones() {
        // files: a=5, (empty), b=3, c=20, (empty) ; pieces of 8 -> 28 bytes, 4 pieces
        let l = Layout::new(8, &[5, 0, 3, 20, 0]).unwrap();
        assert_eq!(l.num_pieces(), 4);
        assert_eq!(segs(&l, 0, 0, 8), vec![(0, 0, 5), (2, 0, 3)]);
        assert_eq!(segs(&l, 0, 5, 3), vec![(2, 0, 3)]);
        assert_eq!(segs(&l, 1, 0, 8), vec![(3, 0, 8)]);
        assert_eq!(segs(&l, 3, 0, 4), vec![(3, 16, 4)]);
        assert_eq!(l.piece_len(3), 4);
        // the empty file at offset 5 belongs to no piece; the trailing one neither
        assert_eq!(l.file_piece_range(1), 0..0);
        assert_eq!(l.file_piece_range(4).len(), 0);
        assert_eq!(l.file_piece_range(0), 0..1);
        assert_eq!(l.file_piece_range(2), 0..1);
        assert_eq!(l.file_piece_range(3), 1..4);
    }

    #[test]
    fn file_spanning_many_pieces_and_small_files() {
        let l = Layout::new(4, &[1, 1, 13, 1]).unwrap();
        // piece 0 = a(1) b(1) c[0..2]; piece 3 = c[10..13] d(1)
        assert_eq!(segs(&l, 0, 0, 4), vec![(0, 0, 1), (1, 0, 1), (2, 0, 2)]);
        assert_eq!(segs(&l, 3, 0, 4), vec![(2, 10, 3), (3, 0, 1)]);
        assert_eq!(segs(&l, 1, 1, 2), vec![(2, 3, 2)]);
        assert_eq!(l.file_piece_range(2), 0..4);
    }

    #[test]
    fn bytes_done_exact_at_edges() {
        let l = Layout::new(4, &[1, 1, 13, 0, 1]).unwrap();
        let mut have = Bitfield::new(4);
        have.set(0);
        assert_eq!(l.file_bytes_done(&have), vec![1, 1, 2, 0, 0]);
        have.set(3);
        assert_eq!(l.file_bytes_done(&have), vec![1, 1, 5, 0, 1]);
        assert_eq!(l.file_bytes_done(&Bitfield::full(4)), vec![1, 1, 13, 0, 1]);
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(Layout::new(0, &[1]).is_err());
        assert!(Layout::new(1, &[u64::MAX, 1]).is_err());
        assert!(
            Layout::new(1, &[1 << 40]).is_err(),
            "more than u32::MAX pieces"
        );
        assert_eq!(Layout::new(16, &[]).unwrap().num_pieces(), 0);
    }
}
