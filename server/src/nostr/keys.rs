//! The server's Nostr identity: one secp256k1 key per server, generated on first use and
//! kept in `DATA_DIR/nostr-key` (64 hex digits, mode 0600), and its public forms (hex and
//! NIP-19 `npub`).

use std::io::Write;
use std::path::Path;

use k256::schnorr::SigningKey;

use super::event::{hex, unhex};

/// File name of the secret key in the data folder.
pub const KEY_FILE: &str = "nostr-key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {0}: {1}")]
    Io(String, std::io::Error),
    #[error("{0} does not hold a secp256k1 secret key (64 hex digits)")]
    Malformed(String),
}

/// Loads the key from `dir`, or makes one and writes it there (0600, never replaced).
pub fn load_or_create(dir: &Path) -> Result<SigningKey, KeyError> {
    let path = dir.join(KEY_FILE);
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => unhex::<32>(text.trim())
            .and_then(|b| SigningKey::from_bytes(&b).ok())
            .ok_or(KeyError::Malformed(shown)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = loop {
                // A random 32 bytes is a valid key but with probability ~2^-128.
                if let Ok(k) = SigningKey::from_bytes(&rand::random::<[u8; 32]>()) {
                    break k;
                }
            };
            write_secret(&path, &hex(&key.to_bytes()))
                .map_err(|e| KeyError::Io(shown.clone(), e))?;
            tracing::info!("made a new Nostr key in {shown}");
            Ok(key)
        }
        Err(e) => Err(KeyError::Io(shown, e)),
    }
}

/// Creates `path` with mode 0600 (failing if it exists) and writes `text` to it.
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// The x-only public key, hex.
pub fn public_hex(key: &SigningKey) -> String {
    hex(&key.verifying_key().to_bytes())
}

/// The public key as NIP-19 `npub1…` (bech32).
pub fn npub(key: &SigningKey) -> String {
    bech32("npub", &key.verifying_key().to_bytes())
}

/// BIP-173 bech32 of `data` under `hrp`.
fn bech32(hrp: &str, data: &[u8]) -> String {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut five = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in data {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            five.push(((acc >> bits) & 31) as u8);
        }
    }
    if bits > 0 {
        five.push(((acc << (5 - bits)) & 31) as u8);
    }
    let mut values: Vec<u8> = hrp.bytes().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|c| c & 31));
    values.extend(&five);
    values.extend([0u8; 6]);
    let pm = polymod(&values) ^ 1;
    let mut out = format!("{hrp}1");
    for v in five
        .iter()
        .copied()
        .chain((0..6).map(|i| ((pm >> (5 * (5 - i))) & 31) as u8))
    {
        out.push(CHARSET[usize::from(v)] as char);
    }
    out
}

fn polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk = 1u32;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npub_matches_nip19s_example() {
        // NIP-19: npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg is
        // 7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e.
        let pk = unhex::<32>("7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e")
            .unwrap();
        assert_eq!(
            bech32("npub", &pk),
            "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
        );
    }

    #[test]
    fn the_key_is_made_once_kept_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let k1 = load_or_create(dir.path()).unwrap();
        let k2 = load_or_create(dir.path()).unwrap();
        assert_eq!(k1.to_bytes(), k2.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(KEY_FILE), "nonsense").unwrap();
        assert!(matches!(
            load_or_create(dir.path()),
            Err(KeyError::Malformed(_))
        ));
    }
}
