//! Message stream encryption (MSE/PE) against real counterparts: libtorrent 2.0.8 with
//! encryption forced (RC4 only, plaintext refused) or off, TorrentEdge against itself under
//! an eavesdropper (tcpdump on `lo`), and the policy's typed refusals.
//!
//! WebTorrent, which opens every outgoing connection with MSE and could not download from
//! TorrentEdge before it spoke MSE, leeches from a TorrentEdge seeder with its defaults
//! (`tests/peers/wt_leech.mjs`; scripts/setup.sh installs it).
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test encryption`

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use engine::config::{Encryption, SessionConfig};
use engine::events::Event;
use engine::peer::DisconnectReason;
use engine::InfoHash;
use support::*;

fn config(policy: Encryption) -> SessionConfig {
    SessionConfig {
        encryption: policy,
        ..test_config()
    }
}

fn ih_of(fx: &Fixture) -> InfoHash {
    InfoHash::from_hex(&fx.ih_hex).expect("info-hash hex")
}

/// Waits for a connection to `ih` and says whether it is encrypted, as the peer list shows.
async fn first_peer_encrypted(s: &mut TestSession, ih: InfoHash) -> bool {
    let ev = s
        .seen_or_wait(
            "PeerConnected",
            DL_TIMEOUT,
            |e| matches!(e, Event::PeerConnected { info_hash, .. } if *info_hash == ih),
        )
        .await;
    let Event::PeerConnected { addr, .. } = ev else {
        unreachable!()
    };
    let h = s.session.get(&ih).expect("torrent");
    h.peers()
        .iter()
        .find(|p| p.addr == addr)
        .map(|p| p.encrypted)
        .unwrap_or_else(|| panic!("peer {addr} connected but is not in the peer list"))
}

async fn seeding(fx: &Fixture, policy: Encryption) -> TestSession {
    let mut s = TestSession::start_with(config(policy)).await;
    s.add(&fx.torrent, &fx.src, vec![]).await;
    s.wait_seeding(ih_of(fx), DL_TIMEOUT).await;
    s
}

fn forced_lt() -> LtOpts {
    LtOpts {
        encryption: Some("forced"),
        ..Default::default()
    }
}

/// Downloads with `policy` from a libtorrent seeder that refuses plaintext: the connection
/// is RC4 and the data byte-exact.
async fn leech_from_forced_libtorrent(layout: Layout, seed: u64, policy: Encryption) {
    let fx = fixture(layout, seed, Maker::Libtorrent, &[]);
    let seeder = LtPeer::seed(&fx.torrent, &fx.src, forced_lt());
    let out = temp_dir("out");
    let mut s = TestSession::start_with(config(policy)).await;
    s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
    assert!(
        first_peer_encrypted(&mut s, ih_of(&fx)).await,
        "RC4 expected"
    );
    s.wait_completed(ih_of(&fx), DL_TIMEOUT).await;
    assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
}

/// TorrentEdge (`required`) downloads from a libtorrent seeder that refuses plaintext.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_leeches_from_forced_libtorrent() {
    hard_timeout(
        TEST_TIMEOUT,
        "required <- forced lt",
        leech_from_forced_libtorrent(Layout::multi_mixed(), 21, Encryption::Required),
    )
    .await
}

/// TorrentEdge (`required`) seeds to a libtorrent leecher that refuses plaintext: the
/// leecher dials us with MSE.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_seeds_to_forced_libtorrent() {
    hard_timeout(TEST_TIMEOUT, "required -> forced lt", async {
        let fx = fixture(Layout::single_odd(), 22, Maker::Engine, &[]);
        let mut s = seeding(&fx, Encryption::Required).await;
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                ..forced_lt()
            },
        );
        assert!(
            first_peer_encrypted(&mut s, ih_of(&fx)).await,
            "RC4 expected"
        );
        leech
            .wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// With the default policy (`enabled`) a plaintext dial to a peer that requires
/// encryption is hung up on; the dial is retried encrypted and the download completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_retries_encrypted_when_plaintext_is_refused() {
    hard_timeout(
        TEST_TIMEOUT,
        "enabled <- forced lt",
        leech_from_forced_libtorrent(Layout::single_odd(), 23, Encryption::Enabled),
    )
    .await
}

/// `enabled` accepts an incoming encrypted connection and, from a plaintext-only
/// libtorrent, a plaintext one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_serves_encrypted_and_plaintext_leechers() {
    hard_timeout(TEST_TIMEOUT, "enabled -> forced and plain lt", async {
        let fx = fixture(Layout::single_odd(), 24, Maker::Engine, &[]);
        let mut s = seeding(&fx, Encryption::Enabled).await;
        for (mode, want) in [("forced", true), ("disabled", false)] {
            let out = temp_dir("out");
            let mut leech = LtPeer::leech(
                &fx.torrent,
                out.path(),
                LtOpts {
                    connect: vec![s.addr()],
                    encryption: Some(mode),
                    ..Default::default()
                },
            );
            let ev = s
                .wait_for("PeerConnected", DL_TIMEOUT, |e| {
                    matches!(e, Event::PeerConnected { .. })
                })
                .await;
            let Event::PeerConnected { addr, .. } = ev else {
                unreachable!()
            };
            let h = s.session.get(&ih_of(&fx)).unwrap();
            let enc = h
                .peers()
                .iter()
                .find(|p| p.addr == addr)
                .map(|p| p.encrypted);
            assert_eq!(enc, Some(want), "libtorrent {mode}");
            leech
                .wait_done(DL_TIMEOUT)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        }
    })
    .await
}

/// Waits for the typed refusal of a connection to `ih`.
async fn refused(s: &mut TestSession, ih: InfoHash, want: DisconnectReason) -> SocketAddr {
    let ev = s
        .wait_for("the refusal", Duration::from_secs(30), |e| {
            matches!(e, Event::PeerDisconnected { info_hash, reason, .. }
                if *info_hash == ih && *reason == want)
        })
        .await;
    let Event::PeerDisconnected { addr, .. } = ev else {
        unreachable!()
    };
    addr
}

/// `disabled` refuses an encrypted-only libtorrent with `EncryptionDisabled` (no data
/// flows), and after `set_encryption(Enabled)` the same leecher's next attempt works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_refuses_encrypted_peers_until_the_policy_changes() {
    hard_timeout(TEST_TIMEOUT, "disabled vs forced lt", async {
        let fx = fixture(Layout::single_odd(), 25, Maker::Engine, &[]);
        let ih = ih_of(&fx);
        let mut s = seeding(&fx, Encryption::Disabled).await;
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                ..forced_lt()
            },
        );
        let addr = refused(&mut s, ih, DisconnectReason::EncryptionDisabled).await;
        assert!(addr.ip().is_loopback());
        assert!(
            !s.seen
                .iter()
                .any(|e| matches!(e, Event::PeerConnected { .. })),
            "an encrypted peer was admitted under `disabled`"
        );
        assert_eq!(s.session.get(&ih).unwrap().status().uploaded, 0);

        s.session.set_encryption(Encryption::Enabled);
        assert_eq!(s.session.encryption(), Encryption::Enabled);
        // libtorrent does not redial a peer that hung up on it soon; a new leecher does.
        leech.proc.stop();
        let out = temp_dir("out");
        let mut leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                ..forced_lt()
            },
        );
        assert!(first_peer_encrypted(&mut s, ih).await, "RC4 expected");
        leech
            .wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// `disabled` never dials encrypted: a seeder that refuses plaintext stays unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_cannot_leech_from_a_forced_seeder() {
    hard_timeout(TEST_TIMEOUT, "disabled <- forced lt", async {
        let fx = fixture(Layout::single_odd(), 26, Maker::Libtorrent, &[]);
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, forced_lt());
        let out = temp_dir("out");
        let s = TestSession::start_with(config(Encryption::Disabled)).await;
        s.add(&fx.torrent, out.path(), vec![seeder.addr()]).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let h = s.session.get(&ih_of(&fx)).unwrap();
        assert!(h.peers().is_empty(), "{:?}", h.peers());
        assert_eq!(h.status().bytes_done, 0);
    })
    .await
}

/// `required` refuses a plaintext-only libtorrent with `EncryptionRequired`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_refuses_plaintext_peers() {
    hard_timeout(TEST_TIMEOUT, "required vs plaintext lt", async {
        let fx = fixture(Layout::single_odd(), 27, Maker::Engine, &[]);
        let mut s = seeding(&fx, Encryption::Required).await;
        let out = temp_dir("out");
        let _leech = LtPeer::leech(
            &fx.torrent,
            out.path(),
            LtOpts {
                connect: vec![s.addr()],
                encryption: Some("disabled"),
                ..Default::default()
            },
        );
        refused(&mut s, ih_of(&fx), DisconnectReason::EncryptionRequired).await;
        assert!(!s
            .seen
            .iter()
            .any(|e| matches!(e, Event::PeerConnected { .. })));
    })
    .await
}

/// WebTorrent (default encryption behaviour: MSE first) downloads from a TorrentEdge seeder
/// with the default policy, byte-exact, over an RC4 connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webtorrent_leeches_from_a_torrentedge_seeder() {
    hard_timeout(TEST_TIMEOUT, "webtorrent <- TorrentEdge", async {
        let fx = fixture(Layout::multi_mixed(), 28, Maker::Engine, &[]);
        let mut s = seeding(&fx, Encryption::Enabled).await;
        let out = temp_dir("out");
        let mut wt = WtLeecher::start(&fx.torrent, out.path(), s.addr())
            .unwrap_or_else(|e| panic!("cannot run WebTorrent: {e}"));
        assert!(
            first_peer_encrypted(&mut s, ih_of(&fx)).await,
            "RC4 expected"
        );
        wt.wait_done(DL_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
    })
    .await
}

/// A file whose every 4 KiB holds the same recognisable phrase.
const PATTERN: &[u8] = b"<<TorrentEdge plaintext canary: if you can read this, so can they>>";

fn canary_fixture() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    std::path::PathBuf,
    String,
) {
    let dir = temp_dir("canary");
    let src = dir.path().join("data");
    std::fs::create_dir_all(&src).unwrap();
    let file = src.join("canary.bin");
    let mut data = Vec::with_capacity(4 << 20);
    while data.len() < 4 << 20 {
        data.extend_from_slice(PATTERN);
        data.extend_from_slice(&random_bytes(4096 - PATTERN.len(), data.len() as u64));
    }
    std::fs::write(&file, &data).unwrap();
    let torrent = dir.path().join("canary.torrent");
    let ih = te_make_torrent(&file, &torrent, 256 * 1024, &[]);
    (dir, src, torrent, ih)
}

/// One TorrentEdge-to-TorrentEdge transfer of the canary file under `policy`, captured on
/// `lo`; returns the capture.
async fn captured_transfer(policy: Encryption) -> Vec<u8> {
    let (_dir, src, torrent, ih_hex) = canary_fixture();
    let ih = InfoHash::from_hex(&ih_hex).unwrap();
    let mut seed = TestSession::start_with(config(policy)).await;
    // Every byte of the transfer goes to or from the seeder's port.
    let capture =
        Capture::start(seed.addr().port()).unwrap_or_else(|e| panic!("cannot eavesdrop: {e}"));
    seed.add(&torrent, &src, vec![]).await;
    seed.wait_seeding(ih, DL_TIMEOUT).await;
    let out = temp_dir("out");
    let mut leech = TestSession::start_with(config(policy)).await;
    leech.add(&torrent, out.path(), vec![seed.addr()]).await;
    let encrypted = first_peer_encrypted(&mut leech, ih).await;
    assert_eq!(encrypted, policy == Encryption::Required);
    leech.wait_completed(ih, DL_TIMEOUT).await;
    compare_files(&src.join("canary.bin"), &out.path().join("canary.bin"))
        .unwrap_or_else(|e| panic!("{e}"));
    leech.shutdown().await;
    seed.shutdown().await;
    let pcap = capture.finish();
    // A 4 MiB transfer; the canary is in every 4 KiB, so even a capture that dropped
    // packets under load holds hundreds of chances to see it.
    assert!(
        pcap.len() > 2 << 20,
        "the capture missed the transfer: {} bytes",
        pcap.len()
    );
    pcap
}

/// An eavesdropper on `lo` sees the canary phrase in a plaintext transfer (the control,
/// so this test can fail) and never in an RC4 one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eavesdropper_cannot_read_an_encrypted_transfer() {
    hard_timeout(TEST_TIMEOUT, "eavesdropper", async {
        let plain = captured_transfer(Encryption::Disabled).await;
        assert!(
            contains(&plain, PATTERN),
            "control: the canary must be visible in a plaintext capture"
        );
        let rc4 = captured_transfer(Encryption::Required).await;
        assert!(
            !contains(&rc4, PATTERN),
            "the canary leaked through an encrypted transfer"
        );
        // Nor the BitTorrent handshake's protocol string.
        assert!(contains(&plain, b"\x13BitTorrent protocol"));
        assert!(!contains(&rc4, b"BitTorrent protocol"));
    })
    .await
}
