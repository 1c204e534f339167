//! 160-bit node ids and the XOR metric (BEP 5).

use std::fmt;

use rand::Rng;

/// A DHT node id; info-hashes live in the same 160-bit space.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub [u8; 20]);

/// XOR distance between two ids, ordered as a 160-bit big-endian number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Distance(pub [u8; 20]);

impl NodeId {
    /// A uniformly random id.
    pub fn random() -> Self {
        NodeId(rand::rng().random())
    }

    /// `self XOR other`.
    pub fn distance(&self, other: &NodeId) -> Distance {
        let mut d = [0u8; 20];
        for (i, b) in d.iter_mut().enumerate() {
            *b = self.0[i] ^ other.0[i];
        }
        Distance(d)
    }

    /// Index of the bucket `other` falls in from `self`'s point of view: the number of
    /// leading bits the two ids share (0 = the far half of the space). `None` for `self`.
    pub fn bucket_index(&self, other: &NodeId) -> Option<usize> {
        self.distance(other).leading_zeros()
    }

    /// A random id that shares exactly `bucket` leading bits with `self` (for refreshing
    /// that bucket, and for crafting tables in tests and benchmarks). `bucket` < 160.
    pub fn random_in_bucket(&self, bucket: usize) -> NodeId {
        let bucket = bucket.min(159);
        let mut id = NodeId::random().0;
        for bit in 0..=bucket {
            let (byte, mask) = (bit / 8, 0x80u8 >> (bit % 8));
            let ours = self.0[byte] & mask;
            // Same as ours before `bucket`, different at `bucket`.
            let want = if bit == bucket { ours ^ mask } else { ours };
            id[byte] = (id[byte] & !mask) | want;
        }
        NodeId(id)
    }
}

impl Distance {
    /// Leading zero bits; `None` when the distance is zero.
    pub fn leading_zeros(&self) -> Option<usize> {
        let i = self.0.iter().position(|&b| b != 0)?;
        Some(i * 8 + self.0[i].leading_zeros() as usize)
    }
}

impl From<crate::InfoHash> for NodeId {
    fn from(ih: crate::InfoHash) -> Self {
        NodeId(ih.0)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", crate::InfoHash(self.0).to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_is_xor_and_orders_big_endian() {
        let a = NodeId([0u8; 20]);
        let mut b = [0u8; 20];
        b[19] = 1;
        let mut c = [0u8; 20];
        c[0] = 0x80;
        assert!(a.distance(&NodeId(b)) < a.distance(&NodeId(c)));
        assert_eq!(a.distance(&a), Distance([0; 20]));
        assert_eq!(a.bucket_index(&a), None);
        assert_eq!(a.bucket_index(&NodeId(c)), Some(0));
        assert_eq!(a.bucket_index(&NodeId(b)), Some(159));
    }

    #[test]
    fn random_in_bucket_lands_in_that_bucket() {
        let me = NodeId::random();
        for bucket in 0..160 {
            for _ in 0..4 {
                assert_eq!(me.bucket_index(&me.random_in_bucket(bucket)), Some(bucket));
            }
        }
    }
}
