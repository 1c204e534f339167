//! Fast resume across restarts of a session (`engine::resume`): a record lets a start skip
//! hashing what was verified, files changed since are rechecked (only their pieces), and a
//! check cut short continues where it stopped. The proof that a piece was *not* hashed: its
//! bytes were corrupted behind the engine's back with the mtime put back, and it still
//! counts as verified. (The kill -9 test with a real seeder is `server/tests/crash.rs`.)
//!
//! `scripts/in-netns.sh cargo test -p engine --test resume`

mod support;

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use engine::config::SessionConfig;
use engine::resume::{ResumeState, ResumeStore};
use engine::session::AddTorrentOptions;
use engine::status::TorrentState;
use engine::{Bitfield, InfoHash};
use support::*;

const PIECE: u32 = 256 * 1024;

fn config(resume: &Path) -> SessionConfig {
    SessionConfig {
        resume_dir: Some(resume.to_path_buf()),
        ..test_config()
    }
}

/// Starts a session, adds the torrent over `src`, waits for its check; returns its pieces.
async fn start_and_check(resume: &Path, fx: &Fixture) -> Bitfield {
    start_created(resume, fx, None).await
}

/// The same, saying the metainfo was made from `src` starting at `created_at`.
async fn start_created(resume: &Path, fx: &Fixture, created_at: Option<SystemTime>) -> Bitfield {
    let ts = TestSession::start_with(config(resume)).await;
    let opts = AddTorrentOptions {
        save_dir: fx.src.clone(),
        created_at,
        ..Default::default()
    };
    let h = ts
        .session
        .add_torrent(load_metainfo(&fx.torrent), opts)
        .await
        .expect("add torrent");
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.status().state == TorrentState::Checking {
        assert!(
            Instant::now() < deadline,
            "still checking: {:?}",
            h.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pieces = h.pieces();
    ts.shutdown().await;
    pieces
}

/// Flips a byte of `path` and puts its mtime back: a change only hashing can see.
fn corrupt_quietly(path: &Path, offset: u64) {
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    flip_byte(path, offset);
    set_mtime(path, mtime);
}

fn set_mtime(path: &Path, t: SystemTime) {
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn missing(b: &Bitfield) -> Vec<usize> {
    (0..b.len()).filter(|&i| !b.get(i)).collect()
}

fn two_files() -> Fixture {
    // a.bin: pieces 0..=11 (3 MiB); b.bin: pieces 12..=19 (2 MiB).
    fixture(
        Layout::multi("r", &[("a.bin", 3 * MIB), ("b.bin", 2 * MIB)], PIECE),
        81,
        Maker::Engine,
        &[],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_trusts_the_record_and_rechecks_only_changed_files() {
    hard_timeout(TEST_TIMEOUT, "resume restart", async {
        let fx = two_files();
        let resume = temp_dir("resume");
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let a = fx.src.join("r/a.bin");
        let b = fx.src.join("r/b.bin");

        let first = start_and_check(resume.path(), &fx).await;
        assert!(first.is_full(), "the first start hashes everything");
        let record = ResumeStore::new(resume.path()).load(&ih).expect("a record");
        assert!(record.have.is_full() && record.checked.is_full());

        // Unchanged files: nothing is hashed, so a quiet corruption goes unseen.
        corrupt_quietly(&a, 5);
        let second = start_and_check(resume.path(), &fx).await;
        assert!(
            second.is_full(),
            "trusted from the record: {:?}",
            missing(&second)
        );

        // b changes visibly (mtime moves): its pieces are hashed, a's are still trusted.
        corrupt_quietly(&b, 3 * u64::from(PIECE) + 7);
        set_mtime(&b, SystemTime::now() + Duration::from_secs(5));
        let third = start_and_check(resume.path(), &fx).await;
        assert_eq!(missing(&third), vec![12 + 3], "only b was rechecked");
    })
    .await
}

/// A torrent this process just made is not hashed again (shared folders, `create`): its
/// files, unmodified since the hashing began, are trusted; one modified since is hashed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freshly_created_torrent_is_not_hashed_twice() {
    hard_timeout(TEST_TIMEOUT, "created torrent", async {
        let fx = two_files();
        let (a, b) = (fx.src.join("r/a.bin"), fx.src.join("r/b.bin"));
        let old = SystemTime::now() - Duration::from_secs(60);
        set_mtime(&a, old);
        set_mtime(&b, old);
        let created_at = SystemTime::now();
        // Quiet corruption of a (mtime kept): only a hash would see it.
        corrupt_quietly(&a, 5);
        // b is written during the "hashing": its mtime is after the start.
        corrupt_quietly(&b, 7);
        set_mtime(&b, created_at + Duration::from_millis(1));

        let resume = temp_dir("resume");
        let got = start_created(resume.path(), &fx, Some(created_at)).await;
        assert_eq!(missing(&got), vec![12], "a trusted, b hashed");

        // Without the hint, everything is hashed (both corruptions are seen).
        let plain = temp_dir("resume");
        let got = start_and_check(plain.path(), &fx).await;
        assert_eq!(missing(&got), vec![0, 12]);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_check_continues_where_it_stopped() {
    hard_timeout(TEST_TIMEOUT, "resume interrupted check", async {
        let fx = two_files();
        let resume = temp_dir("resume");
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        let a = fx.src.join("r/a.bin");
        let b = fx.src.join("r/b.bin");
        // Corrupt piece 2 (in the part the killed check had settled) and piece 15 (not yet
        // reached), both quietly.
        corrupt_quietly(&a, 2 * u64::from(PIECE));
        corrupt_quietly(&b, 3 * u64::from(PIECE));

        // The record a check killed after pieces 0..10 leaves behind (found good then).
        let first = start_and_check(resume.path(), &fx).await;
        assert_eq!(missing(&first), vec![2, 15], "a full check finds both");
        let store = ResumeStore::new(resume.path());
        let done = store.load(&ih).unwrap();
        let mut have = Bitfield::new(20);
        let mut checked = Bitfield::new(20);
        for i in 0..10 {
            have.set(i);
            checked.set(i);
        }
        store
            .save(&ResumeState {
                have,
                checked,
                ..done
            })
            .unwrap();

        let next = start_and_check(resume.path(), &fx).await;
        assert_eq!(
            missing(&next),
            vec![15],
            "pieces 0..10 were settled (piece 2 taken from the record), the rest hashed"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_record_falls_back_and_a_removed_torrent_forgets_it() {
    hard_timeout(TEST_TIMEOUT, "resume torn record", async {
        let fx = two_files();
        let resume = temp_dir("resume");
        let ih = InfoHash::from_hex(&fx.ih_hex).unwrap();
        start_and_check(resume.path(), &fx).await;
        start_and_check(resume.path(), &fx).await;
        let newest = resume.path().join(format!("{}.resume", fx.ih_hex));
        std::fs::write(&newest, b"d1:v").unwrap();
        corrupt_quietly(&fx.src.join("r/a.bin"), 1);
        let pieces = start_and_check(resume.path(), &fx).await;
        assert!(pieces.is_full(), "the previous generation was used");

        let ts = TestSession::start_with(config(resume.path())).await;
        ts.add(&fx.torrent, &fx.src, Vec::new()).await;
        ts.session.remove(&ih, false).await.unwrap();
        ts.shutdown().await;
        assert_eq!(ResumeStore::new(resume.path()).load(&ih), None);
    })
    .await
}
