//! Web seeds (BEP 19) as a client (issue 14), against Debian's nginx on loopback: a multi-file
//! and a single-file torrent download byte-exact from nginx alone (no peer at all), beside a
//! dead web seed that is backed off; one web seed plus a real libtorrent seeder both
//! contribute; a web seed serving corrupt bytes is dropped and a libtorrent seeder finishes
//! the download; and with local addresses not allowed, a web seed on 127.0.0.1 is never asked.
//!
//! `scripts/in-netns.sh cargo test -p engine --test web_seeds`

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use engine::session::AddTorrentOptions;
use engine::torrent::TorrentHandle;
use engine::webseed::{WebSeedState, WebSeedStatus};
use engine::InfoHash;
use support::*;

/// Adds `torrent` with `web_seeds` as its `url-list` (what a .torrent's `url-list` or a
/// magnet's `ws=` become), dialling `peers`.
async fn add(
    s: &TestSession,
    torrent: &Path,
    out: &Path,
    web_seeds: &[String],
    peers: Vec<SocketAddr>,
) -> TorrentHandle {
    let mut meta = load_metainfo(torrent);
    meta.web_seeds = web_seeds.to_vec();
    let opts = AddTorrentOptions {
        save_dir: out.to_path_buf(),
        peers,
        ..Default::default()
    };
    s.session
        .add_torrent(meta, opts)
        .await
        .expect("add torrent")
}

fn seed_status(h: &TorrentHandle, url: &str) -> WebSeedStatus {
    h.status()
        .web_seeds
        .into_iter()
        .find(|w| w.url == url)
        .unwrap_or_else(|| panic!("no web seed {url} in the status"))
}

/// 206 answers in nginx's access log (one per range request).
fn partial_answers(n: &Nginx) -> usize {
    n.requests()
        .iter()
        .filter(|l| l.contains("\" 206 "))
        .count()
}

/// A libtorrent seeder of `fx` uploading at most `rate` bytes/s (slow enough that other
/// sources matter).
fn capped_seeder(fx: &Fixture, rate: u64) -> LtPeer {
    LtPeer::seed(
        &fx.torrent,
        &fx.src,
        LtOpts {
            upload_limit: Some(rate),
            ..Default::default()
        },
    )
}

/// One file of `len` bytes in 256 KiB pieces, its torrent made by libtorrent.
fn single_file(name: &str, len: u64, seed: u64) -> Fixture {
    fixture(
        Layout::single(name, len, 256 * 1024),
        seed,
        Maker::Libtorrent,
        &[],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_file_torrent_downloads_from_nginx_alone() {
    hard_timeout(TEST_TIMEOUT, "web seed multi-file", async {
        // Odd sizes so pieces straddle files; a name and paths that need percent-encoding.
        let fx = fixture(
            Layout::multi(
                "Album é 1",
                &[
                    ("01 intro #1.flac", 700 * KIB + 5),
                    ("cd 2/02 ?.flac", 3 * MIB + 17),
                    ("empty.txt", 0),
                    ("z.nfo", 3000),
                ],
                64 * 1024,
            ),
            41,
            Maker::Engine,
            &[],
        );
        let nginx = Nginx::serve(&fx.src);
        let good = nginx.url("");
        let dead = format!("http://127.0.0.1:{}/", dead_port());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = add(
            &s,
            &fx.torrent,
            out.path(),
            &[dead.clone(), good.clone()],
            vec![],
        )
        .await;
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        s.wait_completed(ih, DL_TIMEOUT).await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let st = seed_status(&h, &good);
        assert!(st.downloaded >= fx.layout.total_len(), "{st:?}");
        assert_eq!(st.failures, 0, "{st:?}");
        assert!(h.status().peers == 0, "no peer took part");
        // Several requests per file (pieces are fetched in runs), each a 206 for its range.
        assert!(partial_answers(&nginx) >= 4, "{:?}", nginx.requests());
        let st = seed_status(&h, &dead);
        assert!(st.failures >= 1, "{st:?}");
        assert!(
            matches!(st.state, WebSeedState::BackingOff | WebSeedState::Idle),
            "{st:?}"
        );
        assert!(
            st.last_error.as_deref().unwrap_or("").contains("refused"),
            "{st:?}"
        );
        s.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_url_is_the_file_itself() {
    hard_timeout(TEST_TIMEOUT, "web seed single file", async {
        let fx = fixture(Layout::single_odd(), 42, Maker::Libtorrent, &[]);
        // Served under another name: a single-file URL names the file itself.
        let dir = temp_dir("www");
        std::fs::copy(fx.layout.root_in(&fx.src), dir.path().join("renamed.bin")).unwrap();
        let nginx = Nginx::serve(dir.path());
        let url = nginx.url("renamed.bin");
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = add(
            &s,
            &fx.torrent,
            out.path(),
            std::slice::from_ref(&url),
            vec![],
        )
        .await;
        s.wait_completed(InfoHash::from_hex(&fx.ih_hex).unwrap(), DL_TIMEOUT)
            .await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        assert!(seed_status(&h, &url).downloaded >= fx.layout.total_len());
        assert!(nginx
            .requests()
            .iter()
            .all(|l| l.contains("GET /renamed.bin ")));
        s.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_seed_and_a_libtorrent_seeder_share_the_download() {
    hard_timeout(TEST_TIMEOUT, "web seed + libtorrent", async {
        require_libtorrent();
        let fx = fixture(
            Layout::multi(
                "mix",
                &[("a.bin", 10 * MIB), ("b.bin", 6 * MIB + 1)],
                256 * 1024,
            ),
            43,
            Maker::Libtorrent,
            &[],
        );
        // Both sources slow enough that neither finishes alone before the other joins in.
        let mut lt = capped_seeder(&fx, 4 << 20);
        let nginx = Nginx::serve(&fx.src);
        let url = nginx.url("");
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        s.session.set_rate_limits(8 << 20, 0);
        let h = add(
            &s,
            &fx.torrent,
            out.path(),
            std::slice::from_ref(&url),
            vec![lt.addr()],
        )
        .await;
        s.wait_completed(InfoHash::from_hex(&fx.ih_hex).unwrap(), DL_TIMEOUT)
            .await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let from_http = seed_status(&h, &url).downloaded;
        let from_lt = lt.stop_and_uploaded();
        let total = fx.layout.total_len();
        // Each gave whole pieces. How much each gives swings with the machine's load (the
        // libtorrent peer connects after the web seed has started), so two pieces is the bar.
        let two_pieces = 2 * 256 * 1024;
        assert!(
            from_http >= two_pieces,
            "web seed gave {from_http} of {total}"
        );
        assert!(
            from_lt >= two_pieces,
            "libtorrent gave {from_lt} of {total}"
        );
        s.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_seed_serving_corrupt_data_is_dropped() {
    hard_timeout(TEST_TIMEOUT, "corrupt web seed", async {
        require_libtorrent();
        let fx = single_file("data.bin", 8 * MIB, 44);
        // nginx serves a copy with one byte changed in every piece.
        let bad = temp_dir("bad");
        let copy = bad.path().join("data.bin");
        std::fs::copy(fx.layout.root_in(&fx.src), &copy).unwrap();
        for piece in 0..fx.layout.num_pieces() as u64 {
            flip_byte(&copy, piece * 256 * 1024 + 777);
        }
        let nginx = Nginx::serve(bad.path());
        let url = nginx.url("data.bin");
        let lt = capped_seeder(&fx, 2 << 20);
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let h = add(
            &s,
            &fx.torrent,
            out.path(),
            std::slice::from_ref(&url),
            vec![lt.addr()],
        )
        .await;
        s.wait_completed(InfoHash::from_hex(&fx.ih_hex).unwrap(), DL_TIMEOUT)
            .await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let st = seed_status(&h, &url);
        assert_eq!(st.state, WebSeedState::Dropped, "{st:?}");
        assert!(
            st.last_error.as_deref().unwrap_or("").contains("hash"),
            "{st:?}"
        );
        assert!(
            st.downloaded > 0,
            "it was asked before it was caught: {st:?}"
        );
        assert!(
            s.session.bans().is_empty(),
            "the web seed is dropped, not banned, and the honest peer is not: {:?}",
            s.session.bans()
        );
        s.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_seed_on_a_local_address_is_refused_unless_allowed() {
    hard_timeout(TEST_TIMEOUT, "web seed ssrf", async {
        let fx = fixture(
            Layout::single("f.bin", 300 * KIB, 64 * 1024),
            45,
            Maker::Engine,
            &[],
        );
        let nginx = Nginx::serve(&fx.src);
        let url = nginx.url("f.bin");
        let out = temp_dir("out");
        let s = TestSession::start_with(engine::config::SessionConfig {
            allow_local_trackers: false,
            ..test_config()
        })
        .await;
        let h = add(
            &s,
            &fx.torrent,
            out.path(),
            std::slice::from_ref(&url),
            vec![],
        )
        .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let st = loop {
            let st = seed_status(&h, &url);
            if st.state == WebSeedState::Dropped || tokio::time::Instant::now() > deadline {
                break st;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(st.state, WebSeedState::Dropped, "{st:?}");
        assert!(
            st.last_error
                .as_deref()
                .unwrap_or("")
                .contains("local address"),
            "{st:?}"
        );
        assert!(nginx.requests().is_empty(), "{:?}", nginx.requests());
        assert_eq!(h.status().bytes_done, 0);
        s.shutdown().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnets_ws_web_seed_joins_once_the_metadata_arrives() {
    hard_timeout(TEST_TIMEOUT, "magnet ws=", async {
        require_libtorrent();
        let fx = single_file("clip.bin", 12 * MIB, 46);
        // The peer gives the metadata (web seeds cannot); a slow one, so the web seed matters.
        let lt = capped_seeder(&fx, 1 << 20);
        let nginx = Nginx::serve(&fx.src);
        let url = nginx.url("clip.bin");
        let uri = format!(
            "magnet:?xt=urn:btih:{}&ws={}&x.pe={}",
            fx.ih_hex,
            url.replace(':', "%3A").replace('/', "%2F"),
            lt.addr()
        );
        let m = engine::magnet::Magnet::parse(&uri).expect("magnet");
        assert_eq!(m.web_seeds, vec![url.clone()]);
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let opts = AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            ..Default::default()
        };
        let h = s.session.add_magnet(&m, opts).expect("add magnet");
        s.wait_completed(InfoHash::from_hex(&fx.ih_hex).unwrap(), DL_TIMEOUT)
            .await;
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        let st = seed_status(&h, &url);
        assert!(
            st.downloaded >= 6 * MIB,
            "the web seed did most of it: {st:?}"
        );
        s.shutdown().await;
    })
    .await;
}
