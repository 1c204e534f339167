//! RC4 as MSE uses it: keyed with `HASH('keyA'|'keyB', S, SKEY)`, the first 1024 bytes of
//! keystream discarded.

/// One direction's keystream.
#[derive(Clone)]
pub(crate) struct Rc4 {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4 {
    /// The MSE cipher for `key`: RC4 with 1024 bytes of keystream dropped.
    pub fn mse(key: &[u8; 20]) -> Self {
        let mut c = Self::raw(key);
        c.apply(&mut [0u8; 1024]);
        c
    }

    /// Plain RC4 (key scheduling only).
    fn raw(key: &[u8]) -> Self {
        let mut s = [0u8; 256];
        for (i, v) in s.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, usize::from(j));
        }
        Rc4 { s, i: 0, j: 0 }
    }

    /// Encrypts or decrypts `data` in place.
    #[inline]
    pub fn apply(&mut self, data: &mut [u8]) {
        let (mut i, mut j, s) = (self.i, self.j, &mut self.s);
        for b in data {
            i = i.wrapping_add(1);
            let si = s[usize::from(i)];
            j = j.wrapping_add(si);
            let sj = s[usize::from(j)];
            s[usize::from(i)] = sj;
            s[usize::from(j)] = si;
            *b ^= s[usize::from(si.wrapping_add(sj))];
        }
        self.i = i;
        self.j = j;
    }

    /// Appends `src` encrypted to `dst`.
    pub fn apply_into(&mut self, src: &[u8], dst: &mut Vec<u8>) {
        let start = dst.len();
        dst.extend_from_slice(src);
        self.apply(&mut dst[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_vectors() {
        // The classic test vectors (Wikipedia, RFC 6229 style).
        let mut c = Rc4::raw(b"Key");
        let mut d = *b"Plaintext";
        c.apply(&mut d);
        assert_eq!(d, [0xBB, 0xF3, 0x16, 0xE8, 0xD9, 0x40, 0xAF, 0x0A, 0xD3]);
        let mut c = Rc4::raw(b"Secret");
        let mut d = *b"Attack at dawn";
        c.apply(&mut d);
        assert_eq!(
            d,
            [0x45, 0xA0, 0x1F, 0x64, 0x5F, 0xC3, 0x5B, 0x38, 0x35, 0x52, 0x54, 0x4B, 0x9B, 0xF5]
        );
    }

    #[test]
    fn split_application_equals_one_pass_and_round_trips() {
        let key = [9u8; 20];
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
        let mut one = data.clone();
        Rc4::mse(&key).apply(&mut one);
        let mut parts = data.clone();
        let mut c = Rc4::mse(&key);
        let (a, b) = parts.split_at_mut(1234);
        c.apply(a);
        c.apply(b);
        assert_eq!(one, parts);
        Rc4::mse(&key).apply(&mut one);
        assert_eq!(one, data);
    }
}
