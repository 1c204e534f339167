//! Watch folders and shared folders against real libtorrent peers: dropped `.torrent` and
//! `.magnet` files download, a corrupt one ends in `failed/` with its reason; a shared
//! folder's files are seeded in place to a libtorrent leecher by the API's magnet links,
//! follow additions and deletions, and stay inside `SHARE_ROOTS`.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::lt::{free_port, lt_make_torrent, LtPeer};
use crate::support::*;

/// Polls until `pred` holds for the path, or panics after `secs`.
fn wait_path(path: &Path, secs: u64, srv: &Server) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared\n{}",
            path.display(),
            srv.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

both_backends!(watch_folder_adds_dropped_torrents_and_magnets);

async fn watch_folder_adds_dropped_torrents_and_magnets(backend: Backend) {
    let work = tempfile::tempdir().unwrap();
    let (movie_dir, clip_dir) = (work.path().join("s1"), work.path().join("s2"));
    write_random(&movie_dir.join("movie.bin"), 1 << 20, 7);
    write_random(&clip_dir.join("clip.bin"), 700_000, 8);
    let movie_torrent = work.path().join("movie.torrent");
    let movie_ih = lt_make_torrent(&movie_dir.join("movie.bin"), &movie_torrent, 65536);
    let clip_torrent = work.path().join("clip.torrent");
    let clip_ih = lt_make_torrent(&clip_dir.join("clip.bin"), &clip_torrent, 32768);

    let port = free_port();
    let mut opts = Options::new(backend).env("FOLDER_RESCAN", "2");
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    let admin = srv.user("admin").await;

    // A file already there when the folder is set up is picked up too.
    let watch = work.path().join("watch");
    std::fs::create_dir_all(&watch).unwrap();
    std::fs::write(watch.join("broken.torrent"), b"d4:infoi1ee").unwrap();
    let (s, f) = srv
        .post(
            "/api/folders",
            &admin,
            json!({ "kind": "watch", "path": watch, "savePath": "got" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    assert_eq!(f["kind"], "watch");
    assert_eq!(f["savePath"], "got");
    let (s, again) = srv
        .post(
            "/api/folders",
            &admin,
            json!({ "kind": "watch", "path": watch }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{again}");

    let failed = watch.join("failed");
    wait_path(&failed.join("broken.torrent.reason.txt"), 30, &srv);
    let reason = std::fs::read_to_string(failed.join("broken.torrent.reason.txt")).unwrap();
    assert!(reason.contains("invalid torrent"), "{reason}");
    assert!(failed.join("broken.torrent").exists());
    assert!(!watch.join("broken.torrent").exists());

    // A .torrent whose seeder dials us.
    let _movie_seed = LtPeer::seed(&movie_torrent, &movie_dir, 0, &format!("127.0.0.1:{port}"));
    std::fs::copy(&movie_torrent, watch.join("movie.torrent")).unwrap();
    wait_path(&watch.join("added/movie.torrent"), 30, &srv);
    assert!(!watch.join("movie.torrent").exists());
    srv.wait_torrent(&admin, &movie_ih, 120, |t| t["state"] == "seeding")
        .await;
    assert_eq!(
        std::fs::read(srv.downloads().join("got/movie.bin")).unwrap(),
        std::fs::read(movie_dir.join("movie.bin")).unwrap()
    );

    // A .magnet file naming a seeder that only waits to be dialled.
    let clip_seed = LtPeer::seed_waiting(&clip_torrent, &clip_dir, 0);
    let magnet = format!(
        "# dropped by a test\nmagnet:?xt=urn:btih:{clip_ih}&dn=clip&x.pe=127.0.0.1:{}\n",
        clip_seed.port
    );
    std::fs::write(watch.join("clip.magnet"), magnet).unwrap();
    wait_path(&watch.join("added/clip.magnet"), 30, &srv);
    srv.wait_torrent(&admin, &clip_ih, 120, |t| t["state"] == "seeding")
        .await;
    assert_eq!(
        std::fs::read(srv.downloads().join("got/clip.bin")).unwrap(),
        std::fs::read(clip_dir.join("clip.bin")).unwrap()
    );

    // The same torrent again: refused as a duplicate, with the reason.
    std::fs::copy(&movie_torrent, watch.join("movie.torrent")).unwrap();
    wait_path(&failed.join("movie.torrent.reason.txt"), 30, &srv);
    let reason = std::fs::read_to_string(failed.join("movie.torrent.reason.txt")).unwrap();
    assert!(reason.contains("already added"), "{reason}");

    // Another user does not see the admin's folder, and cannot delete it.
    let bob = srv.user("bob").await;
    let (_, list) = srv.get("/api/folders", &bob).await;
    assert_eq!(list, json!([]));
    let id = f["id"].as_i64().unwrap();
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/folders/{id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/folders/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = srv.get("/api/folders", &admin).await;
    assert_eq!(list, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_dir_is_the_admins_watch_folder() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("auto");
    let srv = Server::start_with(
        Options::new(Backend::Sqlite)
            .env("WATCH_DIR", dir.to_str().unwrap())
            .env("FOLDER_RESCAN", "1"),
    )
    .await;
    let admin = srv.user("admin").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let list = loop {
        let (s, list) = srv.get("/api/folders", &admin).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        if list.as_array().is_some_and(|l| !l.is_empty()) {
            break list;
        }
        assert!(Instant::now() < deadline, "no watch folder\n{}", srv.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(list[0]["kind"], "watch");
    assert_eq!(
        list[0]["path"],
        dir.canonicalize().unwrap().to_str().unwrap()
    );
    std::fs::write(dir.join("nonsense.magnet"), "not a magnet link\n").unwrap();
    wait_path(&dir.join("failed/nonsense.magnet.reason.txt"), 30, &srv);
    let reason = std::fs::read_to_string(dir.join("failed/nonsense.magnet.reason.txt")).unwrap();
    assert!(reason.contains("not a magnet link"), "{reason}");
    // A second user is not given one.
    let bob = srv.user("bob").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, list) = srv.get("/api/folders", &bob).await;
    assert_eq!(list, json!([]));
}

/// The folder's items by name, once `pred` holds for them (or panics after `secs`).
async fn wait_items(
    srv: &Server,
    token: &str,
    id: i64,
    secs: u64,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, f) = srv.get(&format!("/api/folders/{id}"), token).await;
        assert_eq!(s, StatusCode::OK, "{f}");
        let items = f["items"].as_array().cloned().unwrap_or_default();
        if pred(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the shared folder never got there: {f}\n{}",
            srv.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn item<'a>(items: &'a [Value], name: &str) -> Option<&'a Value> {
    items.iter().find(|i| i["name"] == name)
}

fn all_seeding(items: &[Value], names: &[&str]) -> bool {
    items.len() == names.len()
        && names
            .iter()
            .all(|n| item(items, n).is_some_and(|i| i["state"] == "seeding"))
}

/// Shares `path` (`mode`: `files`, `subfolders`, or `None` for the default) as `token`'s
/// user; returns the folder's id.
async fn share_folder(srv: &Server, token: &str, path: &Path, mode: Option<&str>) -> i64 {
    let mut body = json!({ "kind": "share", "path": path });
    if let Some(m) = mode {
        body["mode"] = json!(m);
    }
    let (s, f) = srv.post("/api/folders", token, body).await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    f["id"].as_i64().unwrap()
}

async fn share_server(roots: &Path, extra: &[(&str, &str)]) -> Server {
    let mut opts = Options::new(Backend::Sqlite)
        .env("SHARE_ROOTS", roots.to_str().unwrap())
        .env("FOLDER_RESCAN", "2");
    for (k, v) in extra {
        opts = opts.env(k, v);
    }
    Server::start_with(opts).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_folder_seeds_in_place_and_follows_changes() {
    let work = tempfile::tempdir().unwrap();
    let roots = work.path().join("roots");
    let share = roots.join("public");
    write_random(&share.join("alpha.bin"), 300_000, 1);
    write_random(&share.join("beta.bin"), 200_000, 2);
    write_random(&share.join("gamma.txt"), 5_000, 3);
    let srv = share_server(&roots, &[]).await;
    let _admin = srv.user("admin").await;
    let alice = srv.user("alice").await;

    // Outside the roots, by path, by `..` or by a link: refused.
    let outside = work.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, roots.join("link")).unwrap();
    for bad in [
        outside.clone(),
        share.join("../../outside"),
        roots.join("link"),
    ] {
        let (s, e) = srv
            .post(
                "/api/folders",
                &alice,
                json!({ "kind": "share", "path": bad }),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{}: {e}", bad.display());
        assert!(e["message"].as_str().unwrap().contains("outside"), "{e}");
    }

    let (s, f) = srv
        .post(
            "/api/folders",
            &alice,
            json!({ "kind": "share", "path": share, "mode": "files" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    assert_eq!(f["mode"], "files");
    let id = f["id"].as_i64().unwrap();
    let items = wait_items(&srv, &alice, id, 60, |i| {
        all_seeding(i, &["alpha.bin", "beta.bin", "gamma.txt"])
    })
    .await;
    let alpha = item(&items, "alpha.bin").unwrap().clone();
    assert_eq!(alpha["size"], 300_000);
    let magnet = alpha["magnet"].as_str().unwrap().to_owned();
    let alpha_ih = alpha["infoHash"].as_str().unwrap().to_owned();
    assert!(magnet.contains(&alpha_ih), "{magnet}");
    // Seeded where it lies: the torrent's save path is the shared folder.
    let (s, t) = srv.get(&format!("/api/torrents/{alpha_ih}"), &alice).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["state"], "seeding");

    // A libtorrent leecher gets it byte-exact by the magnet link, given our address.
    let (_, health) = srv
        .call(Method::GET, "/api/health", Some(&alice), None)
        .await;
    let peer = health["peerListener"]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = tempfile::tempdir().unwrap();
    assert!(
        crate::lt::lt_leech(magnet.as_ref(), out.path(), &peer, &["--timeout", "90"]),
        "the leecher did not finish\n{}",
        srv.logs()
    );
    assert_eq!(
        std::fs::read(out.path().join("alpha.bin")).unwrap(),
        std::fs::read(share.join("alpha.bin")).unwrap()
    );

    // A file added later is hashed and seeded; a deleted one leaves the library.
    write_random(&share.join("delta.bin"), 150_000, 4);
    let beta_ih = item(&items, "beta.bin").unwrap()["infoHash"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::remove_file(share.join("beta.bin")).unwrap();
    let items = wait_items(&srv, &alice, id, 60, |i| {
        all_seeding(i, &["alpha.bin", "delta.bin", "gamma.txt"])
    })
    .await;
    assert!(item(&items, "beta.bin").is_none());
    let (s, _) = srv.get(&format!("/api/torrents/{beta_ih}"), &alice).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the deleted file's torrent is gone"
    );

    // A changed file is made again: another info-hash.
    write_random(&share.join("gamma.txt"), 6_000, 5);
    let old_gamma = item(&items, "gamma.txt").unwrap()["infoHash"].clone();
    wait_items(&srv, &alice, id, 60, |i| {
        item(i, "gamma.txt").is_some_and(|g| g["state"] == "seeding" && g["infoHash"] != old_gamma)
    })
    .await;

    // Another user sees none of it; stopping the share removes the torrents, not the files.
    let bob = srv.user("bob").await;
    let (s, _) = srv.get(&format!("/api/folders/{id}"), &bob).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/folders/{id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = srv.get(&format!("/api/torrents/{alpha_ih}"), &alice).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(share.join("alpha.bin").exists());
    let (_, list) = srv.get("/api/torrents", &alice).await;
    assert_eq!(list, json!([]), "every shared torrent left the library");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shares_are_refused_without_share_roots_and_survive_a_restart() {
    let work = tempfile::tempdir().unwrap();
    let share = work.path().join("roots/music");
    write_random(&share.join("a/one.bin"), 100_000, 1);
    write_random(&share.join("a/two.bin"), 50_000, 2);
    write_random(&share.join("b/three.bin"), 80_000, 3);
    write_random(&share.join("loose.bin"), 10_000, 4);

    let plain = Server::start(Backend::Sqlite).await;
    let t = plain.user("admin").await;
    let (s, e) = plain
        .post(
            "/api/folders",
            &t,
            json!({ "kind": "share", "path": share }),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("SHARE_ROOTS"),
        "{e}"
    );
    drop(plain);

    let roots = work.path().join("roots");
    let srv = share_server(&roots, &[]).await;
    let admin = srv.user("admin").await;
    let id = share_folder(&srv, &admin, &share, Some("subfolders")).await;
    let items = wait_items(&srv, &admin, id, 60, |i| all_seeding(i, &["a", "b"])).await;
    assert_eq!(item(&items, "a").unwrap()["size"], 150_000);
    let a_ih = item(&items, "a").unwrap()["infoHash"].clone();
    let (_, t) = srv
        .get(&format!("/api/torrents/{}", a_ih.as_str().unwrap()), &admin)
        .await;
    assert_eq!(t["totalBytes"], 150_000);

    // After a restart the items come back with their torrents, not hashed again: the
    // first look already names the same info-hashes.
    let srv = srv.restart().await;
    let (s, f) = srv.get(&format!("/api/folders/{id}"), &admin).await;
    assert_eq!(s, StatusCode::OK, "{f}");
    assert_eq!(
        item(f["items"].as_array().unwrap(), "a").unwrap()["infoHash"],
        a_ih,
        "{f}"
    );
    wait_items(&srv, &admin, id, 60, |i| all_seeding(i, &["a", "b"])).await;
}

/// `TE_SHARED_FILES` small files (200 by default) shared at once; reports the time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_folder_of_many_small_files() {
    let n: usize = std::env::var("TE_SHARED_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let work = tempfile::tempdir().unwrap();
    let roots = work.path().join("roots");
    let share = roots.join("many");
    for i in 0..n {
        write_random(
            &share.join(format!("f{i:05}.dat")),
            1000 + i % 3000,
            i as u64,
        );
    }
    let srv = share_server(&roots, &[]).await;
    let admin = srv.user("admin").await;
    let started = Instant::now();
    let id = share_folder(&srv, &admin, &share, None).await;
    let secs = 120 + n as u64 / 5;
    let items = wait_items(&srv, &admin, id, secs, |i| {
        i.len() == n && i.iter().all(|x| x["state"] == "seeding")
    })
    .await;
    let elapsed = started.elapsed();
    let hashes: std::collections::HashSet<&str> = items
        .iter()
        .filter_map(|i| i["infoHash"].as_str())
        .collect();
    assert_eq!(hashes.len(), n, "one torrent per file");
    let (_, list) = srv.get("/api/torrents", &admin).await;
    assert_eq!(list.as_array().unwrap().len(), n);
    eprintln!(
        "shared {n} files in {:.1} s ({:.0} files/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
}

/// Two sparse files of `TE_SHARED_GIB` GiB each (10 by default), random blocks at the start,
/// the middle and the end: both are shared, seeding, and their `.torrent`s' piece hashes over
/// those blocks match the data. Reports the time (hashing 20 GiB once; the engine does not
/// hash a share a second time, see `engine/tests/resume.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_folder_of_large_files() {
    use std::io::{Read, Seek, SeekFrom, Write};
    let gib: u64 = std::env::var("TE_SHARED_GIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let len = gib << 30;
    let work = tempfile::tempdir().unwrap();
    let roots = work.path().join("roots");
    let share = roots.join("big");
    std::fs::create_dir_all(&share).unwrap();
    let names = ["one.img", "two.img"];
    let offsets = [0, len / 2 + 12_345, len - 65_536];
    for (i, name) in names.iter().enumerate() {
        let mut f = std::fs::File::create(share.join(name)).unwrap();
        f.set_len(len).unwrap();
        for (j, &off) in offsets.iter().enumerate() {
            let block = random_bytes(65_536, (i * 10 + j) as u64);
            f.seek(SeekFrom::Start(off)).unwrap();
            f.write_all(&block).unwrap();
        }
    }
    let srv = share_server(&roots, &[]).await;
    let admin = srv.user("admin").await;
    let started = Instant::now();
    let id = share_folder(&srv, &admin, &share, Some("files")).await;
    let items = wait_items(&srv, &admin, id, 900, |i| all_seeding(i, &names)).await;
    let elapsed = started.elapsed();
    for name in names {
        let ih = item(&items, name).unwrap()["infoHash"].as_str().unwrap();
        let res = srv
            .req(
                Method::GET,
                &format!("/api/torrents/{ih}/torrent"),
                Some(&admin),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let meta = engine::metainfo::Metainfo::from_bytes(&res.bytes().await.unwrap()).unwrap();
        assert_eq!(meta.total_length, len);
        let pl = u64::from(meta.piece_length);
        let mut file = std::fs::File::open(share.join(name)).unwrap();
        for off in offsets {
            let piece = off / pl;
            let mut data = vec![0u8; pl.min(len - piece * pl) as usize];
            file.seek(SeekFrom::Start(piece * pl)).unwrap();
            file.read_exact(&mut data).unwrap();
            assert_eq!(
                engine::storage::sha1_piece(&data),
                meta.piece_hashes[piece as usize],
                "{name}: piece {piece}"
            );
        }
    }
    eprintln!(
        "shared 2 x {gib} GiB in {:.1} s ({:.0} MiB/s)",
        elapsed.as_secs_f64(),
        (2 * len) as f64 / (1 << 20) as f64 / elapsed.as_secs_f64()
    );
}
