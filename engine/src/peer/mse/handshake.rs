//! The MSE handshake, both sides, over any byte stream.
//!
//! State note (A = initiator, B = responder; `S` the DH secret, `SKEY` the info-hash):
//!
//! ```text
//! A: send Ya, PadA             B: read Ya (96), send Yb, PadB
//! A: read Yb (96)              B: sync on HASH('req1', S) within 532 bytes after Ya
//! A: send HASH('req1', S), HASH('req2', SKEY) ^ HASH('req3', S),
//!         ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA), IA)
//!                              B: find SKEY among the torrents served, check VC, read
//!                                 PadC (<= 512) and IA, choose crypto_select
//!                              B: send ENCRYPT(VC, crypto_select, len(PadD), PadD)
//! A: sync on ENCRYPT(VC) within 616 bytes from Yb's start, read crypto_select and PadD
//! both: the payload stream, RC4 (A with keyA, B with keyB) or plaintext as selected
//! ```
//!
//! Every read is bounded: sync searches read no further than the bytes the handshake is
//! certain to contain, so nothing after the handshake is consumed here, and paddings and
//! the initial payload have 16-bit lengths checked before allocation.

use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::cipher::Rc4;
use super::dh::{KeyPair, KEY_LEN};
use crate::InfoHash;

/// `crypto_provide`/`crypto_select` bit: plaintext after the handshake.
pub(crate) const PLAINTEXT: u32 = 0x01;
/// `crypto_provide`/`crypto_select` bit: RC4 after the handshake.
pub(crate) const RC4: u32 = 0x02;

/// The verification constant.
pub(super) const VC: [u8; 8] = [0; 8];
/// Longest PadA/PadB/PadC/PadD.
const MAX_PAD: usize = 512;
/// B finds `HASH('req1', S)` within PadA and the hash: 532 bytes after Ya.
const REQ1_WINDOW: usize = MAX_PAD + 20;
/// Bytes certain to follow `HASH('req1', S)`: the req2^req3 hash, VC, crypto_provide and
/// len(PadC).
const AFTER_REQ1: usize = 20 + 8 + 4 + 2;
/// A finds `ENCRYPT(VC)` within PadB and VC: 520 bytes after Yb (616 from its start).
const VC_WINDOW: usize = MAX_PAD + VC.len();
/// Bytes certain to follow `ENCRYPT(VC)`: crypto_select and len(PadD).
const AFTER_VC: usize = 4 + 2;

/// Why a handshake failed. Nothing here is fatal to more than the one connection.
#[derive(Debug, thiserror::Error)]
pub enum MseError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("no HASH('req1', S) within 532 bytes")]
    NoReq1,
    #[error("no encrypted verification constant within 616 bytes")]
    NoVc,
    #[error("the peer asked for a torrent we do not serve")]
    UnknownTorrent,
    #[error("bad verification constant")]
    BadVc,
    #[error("padding of {0} bytes (at most 512)")]
    PadTooLong(u16),
    #[error("no common method: the peer offers {offered:#x}, we allow {allowed:#x}")]
    NoCommonMethod {
        info_hash: InfoHash,
        offered: u32,
        allowed: u32,
    },
    #[error("the peer selected {0:#x}, which we did not offer")]
    BadSelect(u32),
}

/// The two keystreams of an RC4 connection.
pub(crate) struct Crypto {
    /// What we send.
    pub enc: Rc4,
    /// What we receive.
    pub dec: Rc4,
}

/// What a responder learned.
pub(crate) struct Accepted {
    pub info_hash: InfoHash,
    /// `None`: plaintext was selected.
    pub crypto: Option<Crypto>,
    /// The initial payload, decrypted (usually the BitTorrent handshake, or empty).
    pub ia: Vec<u8>,
}

/// Runs side A: offers `provide` for torrent `skey`, sends `ia` as the initial payload.
/// Returns the keystreams if RC4 was selected, `None` for plaintext.
pub(crate) async fn initiate<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    skey: &InfoHash,
    provide: u32,
    ia: &[u8],
) -> Result<Option<Crypto>, MseError> {
    let keys = KeyPair::generate();
    let mut out = Vec::with_capacity(KEY_LEN + MAX_PAD);
    out.extend_from_slice(&keys.public);
    push_pad(&mut out, rand::random_range(0..=MAX_PAD), true);
    s.write_all(&out).await?;
    s.flush().await?;

    let mut yb = [0u8; KEY_LEN];
    s.read_exact(&mut yb).await?;
    let secret = keys.secret(&yb);
    let mut enc = Rc4::mse(&hash(&[b"keyA", &secret, &skey.0]));
    let mut dec = Rc4::mse(&hash(&[b"keyB", &secret, &skey.0]));

    out.clear();
    out.extend_from_slice(&hash(&[b"req1", &secret]));
    out.extend_from_slice(&xor(hash(&[b"req2", &skey.0]), hash(&[b"req3", &secret])));
    let start = out.len();
    out.extend_from_slice(&VC);
    out.extend_from_slice(&provide.to_be_bytes());
    let pad_c = rand::random_range(0..=MAX_PAD);
    out.extend_from_slice(&(pad_c as u16).to_be_bytes());
    push_pad(&mut out, pad_c, false);
    let ia_len = ia.len().min(usize::from(u16::MAX));
    out.extend_from_slice(&(ia_len as u16).to_be_bytes());
    out.extend_from_slice(&ia[..ia_len]);
    enc.apply(&mut out[start..]);
    s.write_all(&out).await?;
    s.flush().await?;

    // ENCRYPT(VC) is B's first 8 keystream bytes; taking them leaves `dec` just past VC.
    let mut marker = VC;
    dec.apply(&mut marker);
    let mut rest = sync(s, &marker, VC_WINDOW, AFTER_VC)
        .await?
        .ok_or(MseError::NoVc)?;
    let mut hdr = [0u8; AFTER_VC];
    read_pre(s, &mut rest, &mut hdr).await?;
    dec.apply(&mut hdr);
    let select = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
    let pad_d = u16::from_be_bytes([hdr[4], hdr[5]]);
    if usize::from(pad_d) > MAX_PAD {
        return Err(MseError::PadTooLong(pad_d));
    }
    if select.count_ones() != 1 || select & provide == 0 {
        return Err(MseError::BadSelect(select));
    }
    let mut pad = vec![0u8; usize::from(pad_d)];
    s.read_exact(&mut pad).await?;
    dec.apply(&mut pad);
    Ok((select == RC4).then_some(Crypto { enc, dec }))
}

/// Runs side B. `first` holds bytes of Ya already read (at most 96); `find` maps
/// `HASH('req2', SKEY)` to the torrent it names; `allowed` is the set of methods we accept
/// (0 refuses every peer, once it is known which torrent it wanted).
pub(crate) async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    first: &[u8],
    find: impl Fn(&[u8; 20]) -> Option<InfoHash>,
    allowed: u32,
) -> Result<Accepted, MseError> {
    respond_keyed(s, first, find, allowed, KeyPair::generate()).await
}

/// [`respond`] with a given key pair (the fuzz target's is fixed, so it can reach past
/// the key exchange).
pub(super) async fn respond_keyed<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    first: &[u8],
    find: impl Fn(&[u8; 20]) -> Option<InfoHash>,
    allowed: u32,
    keys: KeyPair,
) -> Result<Accepted, MseError> {
    let mut ya = [0u8; KEY_LEN];
    let had = first.len().min(KEY_LEN);
    ya[..had].copy_from_slice(&first[..had]);
    s.read_exact(&mut ya[had..]).await?;
    let mut out = Vec::with_capacity(KEY_LEN + MAX_PAD);
    out.extend_from_slice(&keys.public);
    push_pad(&mut out, rand::random_range(0..=MAX_PAD), true);
    s.write_all(&out).await?;
    s.flush().await?;
    let secret = keys.secret(&ya);

    let req1 = hash(&[b"req1", &secret]);
    let mut rest = sync(s, &req1, REQ1_WINDOW, AFTER_REQ1)
        .await?
        .ok_or(MseError::NoReq1)?;
    let mut masked = [0u8; 20];
    read_pre(s, &mut rest, &mut masked).await?;
    let req2 = xor(masked, hash(&[b"req3", &secret]));
    let info_hash = find(&req2).ok_or(MseError::UnknownTorrent)?;
    let mut dec = Rc4::mse(&hash(&[b"keyA", &secret, &info_hash.0]));
    let mut enc = Rc4::mse(&hash(&[b"keyB", &secret, &info_hash.0]));

    let mut hdr = [0u8; 14];
    read_pre(s, &mut rest, &mut hdr).await?;
    dec.apply(&mut hdr);
    if hdr[..8] != VC {
        return Err(MseError::BadVc);
    }
    let offered = u32::from_be_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]);
    let common = offered & allowed;
    let select = if common & RC4 != 0 {
        RC4
    } else if common & PLAINTEXT != 0 {
        PLAINTEXT
    } else {
        return Err(MseError::NoCommonMethod {
            info_hash,
            offered,
            allowed,
        });
    };
    let pad_c = u16::from_be_bytes([hdr[12], hdr[13]]);
    if usize::from(pad_c) > MAX_PAD {
        return Err(MseError::PadTooLong(pad_c));
    }
    let mut pad = vec![0u8; usize::from(pad_c)];
    s.read_exact(&mut pad).await?;
    dec.apply(&mut pad);
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await?;
    dec.apply(&mut len);
    let mut ia = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut ia).await?;
    dec.apply(&mut ia);

    out.clear();
    out.extend_from_slice(&VC);
    out.extend_from_slice(&select.to_be_bytes());
    let pad_d = rand::random_range(0..=MAX_PAD);
    out.extend_from_slice(&(pad_d as u16).to_be_bytes());
    push_pad(&mut out, pad_d, false);
    enc.apply(&mut out);
    s.write_all(&out).await?;
    s.flush().await?;
    Ok(Accepted {
        info_hash,
        crypto: (select == RC4).then_some(Crypto { enc, dec }),
        ia,
    })
}

/// `HASH('req2', info_hash)`: how a responder recognises the torrent an initiator wants.
pub(crate) fn req2(info_hash: &InfoHash) -> [u8; 20] {
    hash(&[b"req2", &info_hash.0])
}

pub(super) fn hash(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

pub(super) fn xor(mut a: [u8; 20], b: [u8; 20]) -> [u8; 20] {
    a.iter_mut().zip(b).for_each(|(x, y)| *x ^= y);
    a
}

/// Appends `len` bytes of padding: random before the keys are known (PadA/PadB, which
/// travel in the clear), zeros otherwise (they are encrypted anyway).
fn push_pad(out: &mut Vec<u8>, len: usize, random: bool) {
    let start = out.len();
    out.resize(start + len, 0);
    if random {
        rand::fill(&mut out[start..]);
    }
}

/// Reads until `marker` appears, ending within `window` bytes. Each read asks for no more
/// than the marker could still need plus the `after` bytes certain to follow it, so no
/// byte past the handshake is consumed. Returns what was read after the marker (at most
/// `after` bytes), or `None` if the window passed without it.
async fn sync<R: AsyncRead + Unpin>(
    r: &mut R,
    marker: &[u8],
    window: usize,
    after: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::with_capacity(window + after);
    loop {
        if let Some(p) = buf.windows(marker.len()).position(|w| w == marker) {
            return Ok(Some(buf.split_off(p + marker.len())));
        }
        // The longest tail of `buf` that could be the start of the marker.
        let partial = (1..marker.len().min(buf.len() + 1))
            .rev()
            .find(|&k| buf.ends_with(&marker[..k]))
            .unwrap_or(0);
        let earliest_end = buf.len() + marker.len() - partial;
        if earliest_end > window {
            return Ok(None);
        }
        let start = buf.len();
        buf.resize(earliest_end + after, 0);
        let n = r.read(&mut buf[start..]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.truncate(start + n);
    }
}

/// Fills `out` from `pre` first (bytes a sync read ahead), then from `r`.
async fn read_pre<R: AsyncRead + Unpin>(
    r: &mut R,
    pre: &mut Vec<u8>,
    out: &mut [u8],
) -> std::io::Result<()> {
    let n = pre.len().min(out.len());
    out[..n].copy_from_slice(&pre[..n]);
    pre.drain(..n);
    r.read_exact(&mut out[n..]).await?;
    Ok(())
}
