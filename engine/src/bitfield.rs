//! A fixed-length bitfield in BEP 3 wire order (high bit of byte 0 is piece 0).

/// Which pieces a peer (or we) have.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: usize,
    ones: usize,
}

/// A wire bitfield whose size does not fit the torrent, or that sets spare bits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bitfield of {got} bytes does not fit {pieces} pieces")]
pub struct BitfieldError {
    pub got: usize,
    pub pieces: usize,
}

impl Bitfield {
    pub fn new(len: usize) -> Self {
        Bitfield {
            bytes: vec![0; len.div_ceil(8)],
            len,
            ones: 0,
        }
    }

    pub fn full(len: usize) -> Self {
        let mut b = Self::new(len);
        for i in 0..len {
            b.set(i);
        }
        b
    }

    /// Accepts a peer's bitfield message; rejects a wrong size or set spare bits.
    pub fn from_wire(bytes: &[u8], len: usize) -> Result<Self, BitfieldError> {
        let err = BitfieldError {
            got: bytes.len(),
            pieces: len,
        };
        if bytes.len() != len.div_ceil(8) {
            return Err(err);
        }
        let spare = bytes.len() * 8 - len;
        if spare > 0 && bytes[bytes.len() - 1] & ((1u8 << spare) - 1) != 0 {
            return Err(err);
        }
        let ones = bytes.iter().map(|b| b.count_ones() as usize).sum();
        Ok(Bitfield {
            bytes: bytes.to_vec(),
            len,
            ones,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn count_ones(&self) -> usize {
        self.ones
    }

    pub fn is_full(&self) -> bool {
        self.ones == self.len
    }

    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    /// Sets bit `i`; returns whether it was newly set. Out-of-range is ignored.
    pub fn set(&mut self, i: usize) -> bool {
        if i >= self.len || self.get(i) {
            return false;
        }
        self.bytes[i / 8] |= 0x80 >> (i % 8);
        self.ones += 1;
        true
    }

    /// Clears bit `i`; returns whether it was set.
    pub fn clear(&mut self, i: usize) -> bool {
        if !self.get(i) {
            return false;
        }
        self.bytes[i / 8] &= !(0x80 >> (i % 8));
        self.ones -= 1;
        true
    }

    /// Indices of set bits, ascending.
    pub fn iter_ones(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(move |&i| self.get(i))
    }
}

impl std::fmt::Debug for Bitfield {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitfield({}/{})", self.ones, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_count() {
        let mut b = Bitfield::new(10);
        assert!(b.set(0));
        assert!(!b.set(0));
        assert!(b.set(9));
        assert!(!b.set(10));
        assert_eq!(b.as_bytes(), &[0x80, 0x40]);
        assert_eq!(b.count_ones(), 2);
        assert_eq!(b.iter_ones().collect::<Vec<_>>(), vec![0, 9]);
        assert!(b.clear(9));
        assert!(!b.get(9));
        assert_eq!(b.count_ones(), 1);
    }

    #[test]
    fn wire_validation() {
        assert!(Bitfield::from_wire(&[0xff, 0xc0], 10).is_ok());
        assert!(
            Bitfield::from_wire(&[0xff, 0xe0], 10).is_err(),
            "spare bit set"
        );
        assert!(Bitfield::from_wire(&[0xff], 10).is_err(), "too short");
        assert!(Bitfield::from_wire(&[0xff, 0, 0], 10).is_err(), "too long");
        assert!(Bitfield::full(10).is_full());
    }
}
