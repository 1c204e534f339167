//! File selection against a real libtorrent 2.0.8 seeder (tests/peers/lt_peer.py) on
//! 127.0.0.1: skipped files are neither downloaded nor created, the torrent completes on its
//! wanted files, and un-skipping one later downloads it too.
//!
//! Run inside a private network namespace:
//! `scripts/in-netns.sh cargo test -p engine --test file_selection`

mod support;

use std::time::Duration;

use engine::events::Event;
use engine::selection::{FilePriority, SelectionState};
use engine::session::AddTorrentOptions;
use engine::status::TorrentState;
use engine::InfoHash;
use support::*;

/// `multi_mixed`'s `big/spanning.bin` and `deep/er/x.dat`: both share their first and last
/// pieces with wanted files.
const SKIPPED: [&str; 2] = ["big/spanning.bin", "deep/er/x.dat"];

/// Index of `rel` in the torrent's own file list (libtorrent may add pad files).
fn index_of(meta: &engine::metainfo::Metainfo, name: &str, rel: &str) -> usize {
    let want = std::path::Path::new(name).join(rel);
    meta.files
        .iter()
        .position(|f| f.path == want)
        .unwrap_or_else(|| panic!("{want:?} not in {:?}", meta.files))
}

async fn wait_completed(s: &mut TestSession, ih: InfoHash) {
    let ev = s
        .wait_for("Completed", DL_TIMEOUT, |e| {
            matches!(e, Event::Completed { info_hash } if *info_hash == ih)
                || matches!(e, Event::Error { info_hash, .. } if *info_hash == ih)
        })
        .await;
    assert!(matches!(ev, Event::Completed { .. }), "{ev:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_files_are_not_downloaded_and_unskipping_resumes() {
    hard_timeout(TEST_TIMEOUT, "file selection", async {
        let fx = fixture(Layout::multi_mixed(), 31, Maker::Libtorrent, &[]);
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let meta = load_metainfo(&fx.torrent);
        let skipped: Vec<usize> = SKIPPED
            .iter()
            .map(|r| index_of(&meta, &fx.layout.name, r))
            .collect();
        let mut priorities = vec![FilePriority::Normal; meta.files.len()];
        for &i in &skipped {
            priorities[i] = FilePriority::Skip;
        }
        let opts = AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            peers: vec![seeder.addr()],
            selection: SelectionState {
                priorities,
                ..Default::default()
            },
            ..Default::default()
        };
        let h = s
            .session
            .add_torrent(meta.clone(), opts)
            .await
            .expect("add");
        wait_completed(&mut s, h.info_hash()).await;

        let st = h.status();
        assert_eq!(st.state, TorrentState::Seeding, "{st:?}");
        assert_eq!(st.wanted_done, st.wanted_bytes, "{st:?}");
        let brief = h.brief();
        assert_eq!(brief.state, st.state);
        assert!(brief.wanted_complete && !brief.failed, "{brief:?}");
        let skipped_len: u64 = skipped.iter().map(|&i| meta.files[i].length).sum();
        assert_eq!(st.wanted_bytes, meta.total_length - skipped_len);
        assert!(
            st.bytes_done < st.total_bytes,
            "skipped pieces were fetched"
        );
        let src = fx.layout.root_in(&fx.src);
        let dst = fx.layout.root_in(out.path());
        for (rel, _) in &fx.layout.files {
            let i = index_of(&meta, &fx.layout.name, rel.to_str().unwrap());
            if skipped.contains(&i) {
                assert!(!dst.join(rel).exists(), "skipped {rel:?} was created");
                assert_eq!(st.files[i].priority, FilePriority::Skip);
            } else {
                compare_files(&src.join(rel), &dst.join(rel)).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        // The boundary bytes of skipped files went to the hidden parts file.
        assert!(out.path().join(format!(".{}.parts", fx.ih_hex)).exists());

        // Un-skip one: the torrent downloads again and completes with it byte-exact.
        h.set_selection(&[(skipped[1], FilePriority::High)], None);
        wait_completed(&mut s, h.info_hash()).await;
        assert!(!dst.join(SKIPPED[0]).exists());
        let st = h.status();
        assert_eq!(st.files[skipped[1]].priority, FilePriority::High);
        assert_eq!(st.wanted_done, st.wanted_bytes, "{st:?}");
        // Every wanted file is right, the one whose bytes moved out of the parts file too.
        for (rel, _) in &fx.layout.files {
            if rel.to_str() != Some(SKIPPED[0]) {
                compare_files(&src.join(rel), &dst.join(rel)).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        s.shutdown().await;
    })
    .await
}

/// Sequential order completes too; after a restart the check hashes the boundary pieces
/// with their skipped bytes read from the parts file, so none is lost, and the skipped file
/// is still not created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rechecks_boundary_pieces_through_the_parts_file() {
    hard_timeout(TEST_TIMEOUT, "serving boundary pieces", async {
        let fx = fixture(Layout::multi_mixed(), 32, Maker::Libtorrent, &[]);
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let mid = temp_dir("mid");
        let mut s = TestSession::start().await;
        let meta = load_metainfo(&fx.torrent);
        let mut priorities = vec![FilePriority::Normal; meta.files.len()];
        priorities[index_of(&meta, &fx.layout.name, SKIPPED[0])] = FilePriority::Skip;
        let opts = AddTorrentOptions {
            save_dir: mid.path().to_path_buf(),
            peers: vec![seeder.addr()],
            selection: SelectionState {
                priorities: priorities.clone(),
                sequential: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let h = s.session.add_torrent(meta.clone(), opts).await.expect("add");
        wait_completed(&mut s, h.info_hash()).await;
        assert!(h.status().sequential);
        drop(seeder);
        let before = h.status().pieces_done;
        s.shutdown().await;
        let mut s = TestSession::start().await;
        let opts = AddTorrentOptions {
            save_dir: mid.path().to_path_buf(),
            selection: SelectionState {
                priorities,
                ..Default::default()
            },
            ..Default::default()
        };
        let h = s.session.add_torrent(meta, opts).await.expect("re-add");
        let ih = h.info_hash();
        s.seen_or_wait("Seeding after the check", Duration::from_secs(30), |e| {
            matches!(e, Event::StateChanged { info_hash, state: TorrentState::Seeding } if *info_hash == ih)
        })
        .await;
        assert_eq!(h.status().pieces_done, before, "boundary pieces lost");
        assert!(!fx.layout.root_in(mid.path()).join(SKIPPED[0]).exists());
        s.shutdown().await;
    })
    .await
}

/// With first-and-last-piece order, the first and the last piece of each file are among the
/// first to verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_and_last_pieces_come_first() {
    hard_timeout(TEST_TIMEOUT, "first and last pieces", async {
        let piece = 256 * 1024u64;
        let files = [("a.bin", 2 * MIB + 5), ("b.bin", 3 * MIB + 11)];
        let fx = fixture(
            Layout::multi("fl", &files, piece as u32),
            33,
            Maker::Engine,
            &[],
        );
        let seeder = LtPeer::seed(&fx.torrent, &fx.src, LtOpts::default());
        let out = temp_dir("out");
        let mut s = TestSession::start().await;
        let meta = load_metainfo(&fx.torrent);
        let mut ends = std::collections::BTreeSet::new();
        let mut offset = 0;
        for (_, len) in files {
            ends.insert((offset / piece) as u32);
            ends.insert(((offset + len - 1) / piece) as u32);
            offset += len;
        }
        let opts = AddTorrentOptions {
            save_dir: out.path().to_path_buf(),
            peers: vec![seeder.addr()],
            selection: SelectionState {
                first_last: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let h = s.session.add_torrent(meta, opts).await.expect("add");
        let ih = h.info_hash();
        assert!(h.status().first_last_piece);
        wait_completed(&mut s, ih).await;
        let order: Vec<u32> = s
            .seen
            .iter()
            .filter_map(|e| match e {
                Event::PieceVerified { info_hash, piece } if *info_hash == ih => Some(*piece),
                _ => None,
            })
            .collect();
        assert_eq!(order.len() as u32, h.status().num_pieces, "{order:?}");
        // Hashing runs in parallel and one seeder's disk reads may finish out of order, so a
        // piece requested later can verify a little earlier: every end is among the first few.
        // (Without the flag all three land there by chance about once in 70 runs.)
        let first = &order[..ends.len() + 3];
        assert!(
            ends.iter().all(|p| first.contains(p)),
            "ends {ends:?} not first; verification order {order:?}"
        );
        assert_same_tree(&fx.layout.root_in(&fx.src), &fx.layout.root_in(out.path()));
        s.shutdown().await;
    })
    .await
}
