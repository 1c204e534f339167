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

pub(crate) use handshake::{initiate, req2, respond, PLAINTEXT, RC4};
pub use handshake::MseError;
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

/// Parses a responder's view of an initiator's bytes, for the fuzz target: `input` is what
/// the initiator sends (Ya first). Returns whether a handshake for a torrent whose
/// `HASH('req2', SKEY)` is `known` completed. Never panics, reads at most the bounds.
#[doc(hidden)]
pub async fn fuzz_respond(input: &[u8], known: [u8; 20]) -> bool {
    let (mut ours, mut theirs) = tokio::io::duplex(64 * 1024);
    let feed = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = theirs.write_all(input).await;
        let _ = theirs.shutdown().await;
        let mut sink = Vec::new();
        let _ = theirs.read_to_end(&mut sink).await;
    };
    let info_hash = crate::InfoHash(known);
    let find = |h: &[u8; 20]| (*h == req2(&info_hash)).then_some(info_hash);
    let (ok, ()) = tokio::join!(
        async { respond(&mut ours, &[], find, PLAINTEXT | RC4).await.is_ok() },
        feed
    );
    ok
}
