//! Message stream encryption (MSE/PE), the obfuscation Vuze, libtorrent, qBittorrent and
//! WebTorrent speak: a Diffie–Hellman exchange (`dh`), then RC4 (`cipher`) or plaintext for
//! the rest of the connection. `handshake` runs either side over any stream; `stream` is the
//! connection afterwards. It hides the protocol from a passive observer; it authenticates
//! nobody (docs/security.md).

mod cipher;
mod dh;
mod handshake;
mod stream;
#[cfg(test)]
mod tests;

pub use handshake::MseError;
pub(crate) use handshake::{initiate, req2, respond, Crypto, PLAINTEXT, RC4};
pub(crate) use stream::{DecryptRead, EncryptWrite, Transport};

use crate::config::Encryption;

/// The methods a responder accepts under `policy` (0: none, refuse).
pub(crate) fn allowed(policy: Encryption) -> u32 {
    match policy {
        Encryption::Disabled => 0,
        Encryption::Enabled => PLAINTEXT | RC4,
        Encryption::Required => RC4,
    }
}

/// The fuzz target of the responder (`fuzz/`): never panics, reads within the bounds.
/// The first byte picks what the rest is: the initiator's raw byte stream (Ya onwards:
/// key reading and the bounded sync search), or, past a valid key exchange with fixed keys,
/// the plaintext that follows `HASH('req2', SKEY)` (VC, crypto_provide, PadC, IA), which the
/// harness encrypts as an initiator would, so the fuzzer reaches every field. Returns
/// whether the handshake was accepted.
#[doc(hidden)]
pub fn fuzz_respond(data: &[u8]) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let info_hash = crate::InfoHash([0x42; 20]);
    // Fixed keys, computed once: the exponentiations would otherwise dominate each run.
    static KEYS: std::sync::OnceLock<(dh::KeyPair, dh::KeyPair, [u8; dh::KEY_LEN])> =
        std::sync::OnceLock::new();
    let (initiator, responder, secret) = KEYS.get_or_init(|| {
        let a = dh::KeyPair::from_private(&[7; 20]);
        let b = dh::KeyPair::from_private(&[9; 20]);
        let s = a.secret(&b.public);
        (a, b, s)
    });
    let responder = responder.clone();
    let stream = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut s = initiator.public.to_vec();
        s.extend_from_slice(&handshake::hash(&[b"req1", secret]));
        s.extend_from_slice(&handshake::xor(
            req2(&info_hash),
            handshake::hash(&[b"req3", secret]),
        ));
        let mut enc = cipher::Rc4::mse(&handshake::hash(&[b"keyA", secret, &info_hash.0]));
        enc.apply_into(rest, &mut s);
        s
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().build() else {
        return false;
    };
    rt.block_on(async {
        let (mut ours, mut theirs) = tokio::io::duplex(1 << 16);
        let feed = async {
            let _ = theirs.write_all(&stream).await;
            let _ = theirs.shutdown().await;
            let mut sink = Vec::new();
            let _ = theirs.read_to_end(&mut sink).await;
        };
        let find = |h: &[u8; 20]| (*h == req2(&info_hash)).then_some(info_hash);
        let respond = async {
            let r =
                handshake::respond_keyed(&mut ours, &[], find, PLAINTEXT | RC4, responder).await;
            drop(ours);
            match r {
                Ok(a) => {
                    assert!(a.ia.len() <= usize::from(u16::MAX));
                    let _ = crate::wire::Handshake::decode(a.ia.get(..68).unwrap_or(&a.ia));
                    true
                }
                Err(_) => false,
            }
        };
        tokio::join!(respond, feed).0
    })
}
