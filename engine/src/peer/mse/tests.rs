//! Both sides of the handshake in one process over an in-memory pipe, and hostile input.

use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

use super::cipher::Rc4;
use super::dh::KeyPair;
use super::handshake::{hash, initiate, req2, respond, xor, MseError, PLAINTEXT, RC4, VC};
use super::stream::{DecryptRead, EncryptWrite};
use crate::InfoHash;

const IH: InfoHash = InfoHash([0x5a; 20]);

fn serves(ih: InfoHash) -> impl Fn(&[u8; 20]) -> Option<InfoHash> {
    move |h| (*h == req2(&ih)).then_some(ih)
}

#[tokio::test]
async fn rc4_both_ways_with_the_initial_payload() {
    let (mut a, mut b) = duplex(4096);
    let ia = b"initial payload".to_vec();
    let (ca, cb) = tokio::join!(
        initiate(&mut a, &IH, PLAINTEXT | RC4, &ia),
        respond(&mut b, &[], serves(IH), PLAINTEXT | RC4)
    );
    let ca = ca.unwrap().expect("RC4 selected");
    let cb = cb.unwrap();
    assert_eq!(cb.info_hash, IH);
    assert_eq!(cb.ia, ia);
    let cb = cb.crypto.expect("RC4 selected");
    // A -> B and B -> A through the stream wrappers.
    let (ar, aw) = tokio::io::split(a);
    let (br, bw) = tokio::io::split(b);
    let (mut ar, mut aw) = (DecryptRead::new(ar, ca.dec), EncryptWrite::new(aw, ca.enc));
    let (mut br, mut bw) = (DecryptRead::new(br, cb.dec), EncryptWrite::new(bw, cb.enc));
    aw.write_all(b"hello from A").await.unwrap();
    aw.flush().await.unwrap();
    bw.write_all(b"hello from B").await.unwrap();
    bw.flush().await.unwrap();
    let mut got = [0u8; 12];
    br.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello from A");
    ar.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"hello from B");
}

#[tokio::test]
async fn plaintext_is_selected_when_only_it_is_common() {
    let (mut a, mut b) = duplex(4096);
    let (ca, cb) = tokio::join!(
        initiate(&mut a, &IH, PLAINTEXT | RC4, &[]),
        respond(&mut b, &[], serves(IH), PLAINTEXT)
    );
    assert!(ca.unwrap().is_none());
    let cb = cb.unwrap();
    assert!(cb.crypto.is_none() && cb.ia.is_empty());
    // Nothing of the handshake is left unread: the next bytes are the payload, in clear.
    a.write_all(b"clear").await.unwrap();
    let mut got = [0u8; 5];
    b.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"clear");
}

#[tokio::test]
async fn the_first_bytes_may_come_from_the_listener() {
    let (mut a, mut b) = duplex(4096);
    let responder = async {
        let mut first = [0u8; 20];
        b.read_exact(&mut first).await.unwrap();
        respond(&mut b, &first, serves(IH), RC4).await
    };
    let (ca, cb) = tokio::join!(initiate(&mut a, &IH, RC4, &[]), responder);
    assert!(ca.unwrap().is_some());
    assert!(cb.unwrap().crypto.is_some());
}

#[tokio::test]
async fn an_unknown_skey_is_refused_and_the_initiator_does_not_hang() {
    let (mut a, mut b) = duplex(4096);
    let responder = async {
        let r = respond(&mut b, &[], serves(InfoHash([1; 20])), PLAINTEXT | RC4).await;
        drop(b);
        r
    };
    let (ca, cb) = tokio::join!(initiate(&mut a, &IH, RC4, &[]), responder);
    assert!(
        matches!(cb, Err(MseError::UnknownTorrent)),
        "{:?}",
        cb.err()
    );
    assert!(ca.is_err());
}

#[tokio::test]
async fn no_common_method_names_the_torrent() {
    let (mut a, mut b) = duplex(4096);
    let responder = async {
        let r = respond(&mut b, &[], serves(IH), RC4).await;
        drop(b);
        r
    };
    let (_, cb) = tokio::join!(initiate(&mut a, &IH, PLAINTEXT, &[]), responder);
    match cb {
        Err(MseError::NoCommonMethod {
            info_hash,
            offered,
            allowed,
        }) => assert_eq!((info_hash, offered, allowed), (IH, PLAINTEXT, RC4)),
        other => panic!("{:?}", other.err()),
    }
}

/// A hand-made initiator that announces `pad_c` bytes of PadC.
async fn initiator_with_pad(s: &mut DuplexStream, pad_c: u16) {
    let keys = KeyPair::generate();
    s.write_all(&keys.public).await.unwrap();
    let mut yb = [0u8; 96];
    s.read_exact(&mut yb).await.unwrap();
    let secret = keys.secret(&yb);
    let mut enc = Rc4::mse(&hash(&[b"keyA", &secret, &IH.0]));
    let mut out = hash(&[b"req1", &secret]).to_vec();
    out.extend_from_slice(&xor(hash(&[b"req2", &IH.0]), hash(&[b"req3", &secret])));
    let mut tail = VC.to_vec();
    tail.extend_from_slice(&RC4.to_be_bytes());
    tail.extend_from_slice(&pad_c.to_be_bytes());
    enc.apply(&mut tail);
    out.extend_from_slice(&tail);
    let _ = s.write_all(&out).await;
}

#[tokio::test]
async fn oversized_padding_is_a_typed_error() {
    let (mut a, mut b) = duplex(4096);
    let (_, cb) = tokio::join!(
        initiator_with_pad(&mut a, 513),
        respond(&mut b, &[], serves(IH), RC4)
    );
    assert!(
        matches!(cb, Err(MseError::PadTooLong(513))),
        "{:?}",
        cb.err()
    );
}

#[tokio::test]
async fn garbage_fails_within_the_bounds() {
    let garbage: Vec<u8> = (0..4000u32).map(|i| (i * 31 + 7) as u8).collect();
    let (mut a, mut b) = duplex(8192);
    a.write_all(&garbage).await.unwrap();
    drop(a.shutdown().await);
    let r = respond(&mut b, &[], serves(IH), PLAINTEXT | RC4).await;
    assert!(matches!(r, Err(MseError::NoReq1)), "{:?}", r.err());
    let mut left = Vec::new();
    b.read_to_end(&mut left).await.unwrap();
    let consumed = garbage.len() - left.len();
    // Ya, then no more than the 532-byte window and the 34 bytes that must follow req1.
    assert!(consumed <= 96 + 532 + 34, "read {consumed} bytes");
}

#[tokio::test]
async fn an_initiator_gives_up_on_a_responder_without_vc() {
    let (mut a, mut b) = duplex(8192);
    let fake = async {
        let mut ya = [0u8; 96];
        b.read_exact(&mut ya).await.unwrap();
        b.write_all(&KeyPair::generate().public).await.unwrap();
        b.write_all(&[0xee; 1000]).await.unwrap();
        b
    };
    let (ca, _b) = tokio::join!(initiate(&mut a, &IH, RC4, &[]), fake);
    assert!(matches!(ca, Err(MseError::NoVc)), "{:?}", ca.err());
}

#[tokio::test]
async fn a_truncated_key_is_an_io_error() {
    let (mut a, mut b) = duplex(1024);
    a.write_all(&[1; 50]).await.unwrap();
    drop(a);
    let r = respond(&mut b, &[], serves(IH), RC4).await;
    assert!(matches!(r, Err(MseError::Io(_))), "{:?}", r.err());
}

#[test]
fn the_fuzz_harness_reaches_past_the_key_exchange() {
    let mut ok = vec![1u8];
    ok.extend_from_slice(&VC);
    ok.extend_from_slice(&(PLAINTEXT | RC4).to_be_bytes());
    ok.extend_from_slice(&0u16.to_be_bytes());
    ok.extend_from_slice(&3u16.to_be_bytes());
    ok.extend_from_slice(b"abc");
    assert!(super::fuzz_respond(&ok), "a well-formed input is accepted");
    let mut bad = ok.clone();
    bad[13..15].copy_from_slice(&513u16.to_be_bytes());
    assert!(!super::fuzz_respond(&bad));
    assert!(!super::fuzz_respond(&[0; 700]));
}
