//! The storage interface's behaviour, the same checks for every store: SQLite always, and
//! MongoDB (the test server of `mongo::testing`) with the `mongo` feature. PostgreSQL runs
//! the same interface through the API suite.

use super::torrents::{Progress, TorrentRow};
use super::users::{Created, UserRow};
use super::{categories, labels, selection, settings, stats, torrents, users, Db};

/// Runs each `async fn(&Db)` on a fresh SQLite database and, with the feature, a fresh
/// MongoDB database.
macro_rules! every_store {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                let db = crate::db::Db::connect(&url).await.unwrap();
                super::$name(&db).await;
                db.close().await;
            }
            #[cfg(feature = "mongo")]
            #[tokio::test]
            async fn mongo() {
                let db = crate::db::mongo::testing::fresh_db().await;
                super::$name(&db).await;
                db.close().await;
            }
        }
    )*};
}
pub(crate) use every_store;

every_store!(
    users_are_unique_ignoring_case,
    torrents_round_trip,
    settings_and_limits,
    categories_and_tags,
    labels_follow_their_torrent,
    stats_keep_a_window,
    tracker_passkeys_one_per_user,
    selection_flags_and_seeding_time,
    public_flag_round_trips,
);

pub(crate) async fn user(db: &Db, name: &str) -> UserRow {
    match users::create(db, name, "hash", "user").await.unwrap() {
        Created::User(u) => u,
        Created::NameTaken => panic!("{name} taken"),
    }
}

async fn users_are_unique_ignoring_case(db: &Db) {
    assert_eq!(users::count(db).await.unwrap(), 0);
    let Created::User(alice) = users::create(db, "Alice", "h1", "admin").await.unwrap() else {
        panic!("taken")
    };
    assert_eq!(
        (alice.username.as_str(), alice.role.as_str()),
        ("Alice", "admin")
    );
    assert_eq!(alice.token_version, 0);
    assert!(alice.created_at > 1_600_000_000);
    for name in ["Alice", "alice", "ALICE"] {
        assert!(
            matches!(
                users::create(db, name, "h", "user").await.unwrap(),
                Created::NameTaken
            ),
            "{name}"
        );
    }
    let bob = user(db, "bob").await;
    assert!(
        bob.id > alice.id,
        "ids increase: {} then {}",
        alice.id,
        bob.id
    );
    assert_eq!(users::count(db).await.unwrap(), 2);

    let found = users::by_name(db, "Alice").await.unwrap().unwrap();
    assert_eq!((found.id, found.password_hash.as_str()), (alice.id, "h1"));
    assert!(
        users::by_name(db, "alice").await.unwrap().is_none(),
        "exact name"
    );
    assert_eq!(
        users::by_id(db, bob.id).await.unwrap().unwrap().username,
        "bob"
    );
    assert!(users::by_id(db, bob.id + 100).await.unwrap().is_none());

    let changed = users::set_password(db, alice.id, "h2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (changed.password_hash.as_str(), changed.token_version),
        ("h2", 1)
    );
    users::revoke_tokens(db, alice.id).await.unwrap();
    let again = users::by_id(db, alice.id).await.unwrap().unwrap();
    assert_eq!(
        (again.password_hash.as_str(), again.token_version),
        ("h2", 2)
    );
    assert_eq!(
        users::by_id(db, bob.id)
            .await
            .unwrap()
            .unwrap()
            .token_version,
        0
    );
    assert!(users::set_password(db, bob.id + 100, "x")
        .await
        .unwrap()
        .is_none());
}

fn torrent(owner_id: i64, i: u8, added_ms: i64) -> TorrentRow {
    TorrentRow {
        info_hash: format!("{i:02x}").repeat(20),
        owner_id,
        name: format!("t{i}"),
        metainfo: Some(vec![b'd', 0, 0xff, i, b'e']),
        magnet: None,
        save_path: format!("/dl/{i}"),
        state: "downloading".into(),
        paused: false,
        priority: "normal".into(),
        added_at: added_ms / 1000,
        added_ms,
        completed_at: None,
        uploaded: 0,
        downloaded: 0,
        bytes_done: 0,
        total_bytes: 1 << 40,
        error: None,
    }
}

async fn torrents_round_trip(db: &Db) {
    let owner = user(db, "owner").await.id;
    let (a, b, c) = (
        torrent(owner, 0xaa, 5_000),
        torrent(owner, 0x0b, 9_000),
        TorrentRow {
            metainfo: None,
            magnet: Some("magnet:?xt=urn:btih:cc".into()),
            ..torrent(owner, 0xcc, 5_000)
        },
    );
    for t in [&b, &c, &a] {
        assert!(torrents::insert(db, t).await.unwrap());
    }
    assert!(
        !torrents::insert(db, &a).await.unwrap(),
        "info-hash is unique"
    );
    // Queue order: added_ms, then info-hash.
    assert_eq!(
        torrents::all(db).await.unwrap(),
        vec![a.clone(), c.clone(), b.clone()]
    );

    torrents::set_metainfo(db, &c.info_hash, "named", b"d4:infoe", 77)
        .await
        .unwrap();
    torrents::set_paused(db, &a.info_hash, true).await.unwrap();
    torrents::set_priority(db, &b.info_hash, "high")
        .await
        .unwrap();
    let progress = |ih: &str, done: i64, completed_at: Option<i64>, error: Option<&str>| Progress {
        info_hash: ih.into(),
        state: if error.is_some() { "error" } else { "seeding" }.into(),
        uploaded: 3 * done,
        downloaded: 2 * done,
        bytes_done: done,
        total_bytes: 1 << 40,
        error: error.map(str::to_owned),
        completed_at,
        seconds_seeding: done,
    };
    torrents::save_progress(
        db,
        &[
            progress(&a.info_hash, 10, Some(111), None),
            progress(&b.info_hash, 20, None, Some("disk full")),
        ],
    )
    .await
    .unwrap();
    // A later completion time never replaces the first.
    torrents::save_progress(db, &[progress(&a.info_hash, 30, Some(222), None)])
        .await
        .unwrap();
    torrents::save_progress(db, &[]).await.unwrap();

    let all = torrents::all(db).await.unwrap();
    let get = |ih: &str| all.iter().find(|t| t.info_hash == ih).unwrap().clone();
    let (a2, b2, c2) = (get(&a.info_hash), get(&b.info_hash), get(&c.info_hash));
    assert!(a2.paused);
    assert_eq!(
        (a2.completed_at, a2.bytes_done, a2.uploaded),
        (Some(111), 30, 90)
    );
    assert_eq!(a2.state, "seeding");
    assert_eq!(a2.metainfo, a.metainfo, "binary metainfo round-trips");
    assert_eq!(
        (b2.priority.as_str(), b2.error.as_deref()),
        ("high", Some("disk full"))
    );
    assert_eq!(b2.completed_at, None);
    assert_eq!(c2.name, "named");
    assert_eq!(c2.metainfo.as_deref(), Some(&b"d4:infoe"[..]));
    assert_eq!(c2.total_bytes, 77);
    assert_eq!(c2.magnet, c.magnet);

    torrents::delete(db, &b.info_hash).await.unwrap();
    torrents::delete(db, &b.info_hash).await.unwrap();
    let left: Vec<String> = torrents::all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.info_hash)
        .collect();
    assert_eq!(left, vec![a.info_hash, c.info_hash]);
}

async fn settings_and_limits(db: &Db) {
    assert_eq!(settings::get(db, "speed").await.unwrap(), None);
    settings::put(db, "speed", r#"{"a":1}"#).await.unwrap();
    settings::put(db, "other", "x").await.unwrap();
    settings::put(db, "speed", r#"{"a":2}"#).await.unwrap();
    assert_eq!(
        settings::get(db, "speed").await.unwrap().as_deref(),
        Some(r#"{"a":2}"#)
    );
    assert_eq!(
        settings::get(db, "other").await.unwrap().as_deref(),
        Some("x")
    );

    let owner = user(db, "o").await.id;
    let (a, b, c) = (
        torrent(owner, 1, 1),
        torrent(owner, 2, 2),
        torrent(owner, 3, 3),
    );
    for t in [&a, &b, &c] {
        torrents::insert(db, t).await.unwrap();
    }
    assert!(settings::torrent_limits(db).await.unwrap().is_empty());
    settings::set_torrent_limits(db, &a.info_hash, 1000, 0)
        .await
        .unwrap();
    settings::set_torrent_limits(db, &b.info_hash, 0, 2000)
        .await
        .unwrap();
    settings::set_torrent_limits(db, &c.info_hash, 5, 5)
        .await
        .unwrap();
    settings::set_torrent_limits(db, &c.info_hash, 0, 0)
        .await
        .unwrap();
    let limits = settings::torrent_limits(db).await.unwrap();
    assert_eq!(limits.len(), 2, "{limits:?}");
    assert_eq!(limits[&a.info_hash], (1000, 0));
    assert_eq!(limits[&b.info_hash], (0, 2000));
    // Progress saves leave the limits alone.
    torrents::save_progress(
        db,
        &[Progress {
            info_hash: a.info_hash.clone(),
            state: "seeding".into(),
            uploaded: 1,
            downloaded: 1,
            bytes_done: 1,
            total_bytes: 1,
            error: None,
            completed_at: None,
            seconds_seeding: 0,
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        settings::torrent_limits(db).await.unwrap()[&a.info_hash],
        (1000, 0)
    );
}

async fn categories_and_tags(db: &Db) {
    let (u1, u2) = (user(db, "u1").await.id, user(db, "u2").await.id);
    categories::put_category(db, u2, "tv", "shows")
        .await
        .unwrap();
    categories::put_category(db, u1, "tv", "").await.unwrap();
    categories::put_category(db, u1, "movies", "films")
        .await
        .unwrap();
    categories::put_category(db, u1, "tv", "series")
        .await
        .unwrap();
    assert_eq!(
        categories::all_categories(db).await.unwrap(),
        vec![
            (u1, "movies".to_owned(), "films".to_owned()),
            (u1, "tv".to_owned(), "series".to_owned()),
            (u2, "tv".to_owned(), "shows".to_owned()),
        ]
    );
    categories::delete_category(db, u1, "tv").await.unwrap();
    assert_eq!(categories::all_categories(db).await.unwrap().len(), 2);

    for (u, t) in [(u1, "b"), (u1, "a"), (u2, "a"), (u1, "b")] {
        categories::insert_tag(db, u, t).await.unwrap();
    }
    assert_eq!(
        categories::all_tags(db).await.unwrap(),
        vec![
            (u1, "a".to_owned()),
            (u1, "b".to_owned()),
            (u2, "a".to_owned())
        ]
    );
    categories::delete_tag(db, u1, "a").await.unwrap();
    assert_eq!(
        categories::all_tags(db).await.unwrap(),
        vec![(u1, "b".to_owned()), (u2, "a".to_owned())]
    );
}

async fn labels_follow_their_torrent(db: &Db) {
    let owner = user(db, "o").await.id;
    let (a, b) = (torrent(owner, 1, 1), torrent(owner, 2, 2));
    let label = |id: i64, t: &TorrentRow, category: Option<&str>, tags: &[&str]| labels::LabelRow {
        id,
        info_hash: t.info_hash.clone(),
        category: category.map(str::to_owned),
        tags: tags.iter().map(|s| s.to_string()).collect(),
    };
    // Not stored yet: nothing is written.
    labels::save(db, &label(1, &a, None, &[])).await.unwrap();
    assert!(labels::all(db).await.unwrap().is_empty());

    torrents::insert(db, &a).await.unwrap();
    torrents::insert(db, &b).await.unwrap();
    labels::save(db, &label(2, &b, Some("tv"), &["x"]))
        .await
        .unwrap();
    labels::save(db, &label(1, &a, None, &[])).await.unwrap();
    // Saving again changes category and tags, never the id.
    labels::save(db, &label(9, &b, None, &["x", "y"]))
        .await
        .unwrap();
    assert_eq!(
        labels::all(db).await.unwrap(),
        vec![label(1, &a, None, &[]), label(2, &b, None, &["x", "y"])]
    );
    // A deleted torrent takes its labels along.
    torrents::delete(db, &b.info_hash).await.unwrap();
    assert_eq!(
        labels::all(db).await.unwrap(),
        vec![label(1, &a, None, &[])]
    );
    labels::delete(db, &a.info_hash).await.unwrap();
    assert!(labels::all(db).await.unwrap().is_empty());
}

async fn stats_keep_a_window(db: &Db) {
    let sample = |user_id: i64, at: i64| stats::Sample {
        user_id,
        at,
        download_rate: at * 10,
        upload_rate: at * 20,
        downloaded: at * 30,
        uploaded: at * 40,
        peers: 3,
        torrents: 2,
    };
    stats::record(db, &[sample(0, 100), sample(7, 100), sample(0, 110)], 0)
        .await
        .unwrap();
    stats::record(db, &[sample(0, 120), sample(0, 120)], 0)
        .await
        .unwrap();
    stats::record(db, &[], 0).await.unwrap();
    let all = stats::history(db, 0, 0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.at).collect::<Vec<_>>(),
        vec![100, 110, 120, 120]
    );
    assert_eq!(all[1], sample(0, 110));
    // The newest `limit`, oldest first.
    let last = stats::history(db, 0, 0, 2).await.unwrap();
    assert_eq!(
        last.iter().map(|s| s.at).collect::<Vec<_>>(),
        vec![120, 120]
    );
    assert_eq!(stats::history(db, 0, 111, 100).await.unwrap().len(), 2);
    assert_eq!(
        stats::history(db, 7, 0, 100).await.unwrap(),
        vec![sample(7, 100)]
    );
    // Older than `keep_after` goes, for every user.
    stats::record(db, &[sample(0, 130)], 110).await.unwrap();
    let kept = stats::history(db, 0, 0, 100).await.unwrap();
    assert_eq!(
        kept.iter().map(|s| s.at).collect::<Vec<_>>(),
        vec![110, 120, 120, 130]
    );
    assert!(stats::history(db, 7, 0, 100).await.unwrap().is_empty());
}

async fn tracker_passkeys_one_per_user(db: &Db) {
    use super::passkeys;
    let (a, b) = (user(db, "a").await, user(db, "b").await);
    assert_eq!(passkeys::get(db, a.id).await.unwrap(), None);
    passkeys::insert(db, a.id, "key-a").await.unwrap();
    // A second insert for the same user keeps the first key.
    passkeys::insert(db, a.id, "key-a2").await.unwrap();
    passkeys::insert(db, b.id, "key-b").await.unwrap();
    assert_eq!(
        passkeys::get(db, a.id).await.unwrap().as_deref(),
        Some("key-a")
    );
    let mut all = passkeys::all(db).await.unwrap();
    all.sort();
    assert_eq!(
        all,
        [(a.id, "key-a".to_owned()), (b.id, "key-b".to_owned())]
    );
}

async fn selection_flags_and_seeding_time(db: &Db) {
    use super::selection::Flag;
    let u = user(db, "flags").await;
    let (a, b) = (torrent(u.id, 0xa1, 1), torrent(u.id, 0xb1, 2));
    for t in [&a, &b] {
        assert!(torrents::insert(db, t).await.unwrap());
    }
    assert!(
        selection::all(db).await.unwrap().is_empty(),
        "defaults are not listed"
    );
    selection::set_flag(db, &a.info_hash, Flag::FirstLastPiece, true)
        .await
        .unwrap();
    selection::set_flag(db, &a.info_hash, Flag::SuperSeeding, true)
        .await
        .unwrap();
    selection::set_flag(db, &a.info_hash, Flag::Sequential, true)
        .await
        .unwrap();
    selection::set_flag(db, &a.info_hash, Flag::Sequential, false)
        .await
        .unwrap();
    let mut p = Progress {
        info_hash: b.info_hash.clone(),
        state: "seeding".into(),
        uploaded: 0,
        downloaded: 0,
        bytes_done: 0,
        total_bytes: 0,
        error: None,
        completed_at: None,
        seconds_seeding: 3_600,
    };
    torrents::save_progress(db, std::slice::from_ref(&p))
        .await
        .unwrap();
    let all = selection::all(db).await.unwrap();
    let a2 = &all[&a.info_hash];
    assert!(
        a2.first_last_piece && a2.super_seeding && !a2.sequential,
        "{a2:?}"
    );
    assert_eq!(a2.seconds_seeding, 0);
    assert_eq!(all[&b.info_hash].seconds_seeding, 3_600);
    assert!(!all[&b.info_hash].first_last_piece);
    p.seconds_seeding = 3_601;
    torrents::save_progress(db, &[p]).await.unwrap();
    assert_eq!(
        selection::all(db).await.unwrap()[&b.info_hash].seconds_seeding,
        3_601
    );
}

async fn public_flag_round_trips(db: &Db) {
    use super::public;
    let owner = user(db, "owner").await.id;
    let (a, b) = (torrent(owner, 0xaa, 1), torrent(owner, 0xbb, 2));
    for t in [&a, &b] {
        assert!(torrents::insert(db, t).await.unwrap());
    }
    assert!(
        public::all(db).await.unwrap().is_empty(),
        "private by default"
    );
    public::set(db, &b.info_hash, true).await.unwrap();
    public::set(db, &a.info_hash, true).await.unwrap();
    assert_eq!(
        public::all(db).await.unwrap(),
        vec![a.info_hash.clone(), b.info_hash.clone()]
    );
    public::set(db, &a.info_hash, false).await.unwrap();
    assert_eq!(public::all(db).await.unwrap(), vec![b.info_hash.clone()]);
    torrents::delete(db, &b.info_hash).await.unwrap();
    assert!(public::all(db).await.unwrap().is_empty());
}
