//! The 768-bit Diffie–Hellman exchange of MSE: the spec's prime `P`, generator 2, a 160-bit
//! private key, public keys and the shared secret as 96 big-endian bytes.

use num_bigint::BigUint;
use rand::RngCore;

/// Bytes of a public key or of the shared secret.
pub(crate) const KEY_LEN: usize = 96;

/// The MSE prime (the 768-bit MODP group of RFC 2409).
const P_HEX: &[u8] = b"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

fn prime() -> BigUint {
    BigUint::parse_bytes(P_HEX, 16).unwrap_or_default()
}

/// One side's key pair for one handshake.
#[derive(Clone)]
pub(crate) struct KeyPair {
    private: BigUint,
    /// `2^private mod P`, what goes on the wire.
    pub public: [u8; KEY_LEN],
}

impl KeyPair {
    pub fn generate() -> Self {
        let mut x = [0u8; 20];
        rand::rng().fill_bytes(&mut x);
        Self::from_private(&x)
    }

    pub(super) fn from_private(x: &[u8]) -> Self {
        let private = BigUint::from_bytes_be(x);
        let public = to_bytes(&BigUint::from(2u8).modpow(&private, &prime()));
        KeyPair { private, public }
    }

    /// The shared secret `S` from the other side's public key. Any 96 bytes give some
    /// value (a hostile key only yields a secret nobody else knows), so this cannot fail.
    pub fn secret(&self, theirs: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
        #[cfg(fuzzing)]
        if let Some(s) = memo::get(&self.private, theirs) {
            return s;
        }
        let y = BigUint::from_bytes_be(theirs);
        let s = to_bytes(&y.modpow(&self.private, &prime()));
        #[cfg(fuzzing)]
        memo::put(&self.private, theirs, s);
        s
    }
}

/// Fuzzing builds only: the last secrets computed, so runs that keep a key (the fixed-key
/// mode, and mutations of an input's tail) skip the exponentiation that otherwise caps the
/// `mse_respond` target at a few hundred runs a second.
#[cfg(fuzzing)]
mod memo {
    use super::{BigUint, KEY_LEN};
    use std::cell::RefCell;

    type Entry = (BigUint, [u8; KEY_LEN], [u8; KEY_LEN]);

    thread_local! {
        static LAST: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    }

    pub fn get(private: &BigUint, theirs: &[u8; KEY_LEN]) -> Option<[u8; KEY_LEN]> {
        LAST.with_borrow(|v| {
            v.iter()
                .find(|(p, t, _)| p == private && t == theirs)
                .map(|e| e.2)
        })
    }

    pub fn put(private: &BigUint, theirs: &[u8; KEY_LEN], secret: [u8; KEY_LEN]) {
        LAST.with_borrow_mut(|v| {
            if v.len() >= 64 {
                v.remove(0);
            }
            v.push((private.clone(), *theirs, secret));
        });
    }
}

/// Big-endian, left-padded with zeros to 96 bytes (values are below `P`, so they fit).
fn to_bytes(n: &BigUint) -> [u8; KEY_LEN] {
    let b = n.to_bytes_be();
    let mut out = [0u8; KEY_LEN];
    let start = KEY_LEN.saturating_sub(b.len());
    let take = b.len().min(KEY_LEN);
    out[start..].copy_from_slice(&b[b.len() - take..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_the_secret() {
        let a = KeyPair::generate();
        let b = KeyPair::generate();
        assert_eq!(a.secret(&b.public), b.secret(&a.public));
        assert_ne!(a.public, b.public);
    }

    #[test]
    fn the_prime_is_the_spec_one_and_small_keys_are_padded() {
        assert_eq!(prime().bits(), 768);
        // Private key 1: the public key is the generator, 95 zero bytes then 2.
        let k = KeyPair::from_private(&[1]);
        assert_eq!(k.public[..95], [0u8; 95]);
        assert_eq!(k.public[95], 2);
    }
}
