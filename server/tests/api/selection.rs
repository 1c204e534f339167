//! File selection and seeding goals over the REST API: `PATCH /api/torrents/{infoHash}/files`,
//! the add options `onlyFiles`/`files`/`sequential`, `POST /api/torrents/preview`, a torrent's
//! order flags, super-seeding, goals and goal action in `PATCH /api/torrents/{infoHash}`, the
//! server's goals in `/api/settings`; all kept across a restart. A ratio goal pausing a torrent
//! once a real libtorrent leecher has taken a full copy from us; the time seeding kept across
//! restarts and meeting a torrent's own seeding-time goal with its own action.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::*;

both_backends!(file_priorities_goals_and_settings_round_trip);

async fn patch(srv: &Server, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    srv.call(Method::PATCH, path, Some(token), Some(body)).await
}

fn priorities(detail: &Value) -> Vec<String> {
    detail["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["priority"].as_str().unwrap().to_owned())
        .collect()
}

async fn file_priorities_goals_and_settings_round_trip(backend: Backend) {
    let srv = Server::start(backend).await;
    let admin = srv.user("admin").await;
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in ["a.bin", "b.bin", "c.bin"].iter().enumerate() {
        write_random(&dir.path().join("trio").join(name), 40_000, 90 + i as u64);
    }
    let (torrent, ih) = make_torrent(&dir.path().join("trio"), Some(16384));

    // The file list of a .torrent before adding it.
    let form = reqwest::multipart::Form::new().part(
        "torrent",
        reqwest::multipart::Part::bytes(torrent.clone()).file_name("trio.torrent"),
    );
    let (s, preview) = send(
        srv.req(Method::POST, "/api/torrents/preview", Some(&admin))
            .multipart(form),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{preview}");
    assert_eq!(preview["infoHash"], ih.as_str());
    let paths: Vec<&str> = preview["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["trio/a.bin", "trio/b.bin", "trio/c.bin"]);
    assert_eq!(
        srv.get("/api/torrents", &admin).await.1,
        json!([]),
        "nothing added"
    );

    // Added with only files 0 and 2 (0-based, as the file list shows them).
    let (s, body) = srv
        .upload(
            &admin,
            &torrent,
            &[("onlyFiles", "0,2"), ("sequential", "true")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["sequential"], true, "{body}");
    let t = format!("/api/torrents/{ih}");
    let (_, detail) = srv.get(&t, &admin).await;
    assert_eq!(
        priorities(&detail),
        ["normal", "skip", "normal"],
        "{detail}"
    );
    let (_, files) = srv.get(&format!("{t}/files"), &admin).await;
    assert_eq!(files[1]["priority"], "skip", "{files}");

    // Changing them: the answer is the detail after the change; bad input changes nothing.
    let files_path = format!("{t}/files");
    let (s, detail) = patch(
        &srv,
        &files_path,
        &admin,
        json!([{ "index": 1, "priority": "high" }, { "index": 0, "priority": "low" }]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{detail}");
    assert_eq!(priorities(&detail), ["low", "high", "normal"]);
    for bad in [
        json!([{ "index": 0, "priority": "urgent" }]),
        json!([{ "index": 3, "priority": "skip" }]),
        json!({ "index": 0, "priority": "skip" }),
    ] {
        let (s, body) = patch(&srv, &files_path, &admin, bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    assert_eq!(
        priorities(&srv.get(&t, &admin).await.1),
        ["low", "high", "normal"]
    );

    // A torrent's order and seeding flags, goals and goal action.
    let (s, body) = patch(
        &srv,
        &t,
        &admin,
        json!({ "sequential": false, "firstLastPiece": true, "superSeeding": true,
                "ratioLimit": 1.5, "seedingTimeLimit": 30, "goalAction": "pause" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["sequential"], false, "{body}");
    assert_eq!(body["firstLastPiece"], true, "{body}");
    assert_eq!(body["superSeeding"], true, "{body}");
    assert_eq!(body["goals"]["action"], "pause", "{body}");
    assert_eq!(body["goals"]["ratioLimit"], 1.5, "{body}");
    assert_eq!(body["goals"]["seedingTimeLimit"], 30, "{body}");
    assert_eq!(body["goals"]["inactiveSeedingTimeLimit"], -1, "{body}");
    let (s, body) = patch(&srv, &t, &admin, json!({ "goalAction": "later" })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    let (s, body) = patch(&srv, &t, &admin, json!({ "ratioLimit": -3 })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // The server's goals, in /api/settings; only admins change them.
    let alice = srv.user("alice").await;
    let (s, _) = patch(
        &srv,
        "/api/settings",
        &alice,
        json!({ "seeding": { "ratioLimit": 2 } }),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = patch(
        &srv,
        "/api/settings",
        &admin,
        json!({ "seeding": { "ratioLimit": 2.5, "inactiveSeedingTimeLimit": 90, "action": "remove" } }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["seeding"],
        json!({ "ratioLimit": 2.5, "seedingTimeLimit": 0, "inactiveSeedingTimeLimit": 90, "action": "remove" })
    );
    let (s, body) = patch(
        &srv,
        "/api/settings",
        &admin,
        json!({ "seeding": { "ratioLimit": -1 } }),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // Everything survives a restart.
    let srv = srv.restart().await;
    let admin = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, detail) = srv.get(&t, &admin).await;
    assert_eq!(priorities(&detail), ["low", "high", "normal"], "{detail}");
    assert_eq!(detail["sequential"], false);
    assert_eq!(detail["firstLastPiece"], true, "{detail}");
    assert_eq!(detail["superSeeding"], true, "{detail}");
    assert_eq!(detail["goals"]["ratioLimit"], 1.5, "{detail}");
    assert_eq!(detail["goals"]["action"], "pause", "{detail}");
    let (_, settings) = srv.get("/api/settings", &admin).await;
    assert_eq!(settings["seeding"]["ratioLimit"], 2.5, "{settings}");
    assert_eq!(settings["seeding"]["action"], "remove", "{settings}");
}

/// A seeding torrent with a ratio goal of 1 is paused once a libtorrent leecher has
/// downloaded a whole copy from it, and not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ratio_goal_pauses_the_torrent() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let data = srv.downloads().join("share.bin");
    write_random(&data, 2 << 20, 17);
    let (torrent, ih) = make_torrent(&data, Some(32768));
    let torrent_path = srv.data_dir().join("share.torrent");
    std::fs::write(&torrent_path, &torrent).unwrap();
    assert_eq!(
        srv.upload(&admin, &torrent, &[]).await.0,
        StatusCode::CREATED
    );
    srv.wait_torrent(&admin, &ih, 30, |t| t["state"] == "seeding")
        .await;
    let t = format!("/api/torrents/{ih}");
    let (s, body) = patch(&srv, &t, &admin, json!({ "ratioLimit": 1 })).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["state"], "seeding",
        "ratio 0 is below the goal: {body}"
    );

    let (_, health) = srv
        .call(Method::GET, "/api/health", Some(&admin), None)
        .await;
    let peer = health["peerListener"]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = tempfile::tempdir().unwrap();
    assert!(
        crate::lt::lt_leech(
            torrent_path.as_os_str(),
            out.path(),
            &peer,
            &["--no-recheck", "--timeout", "60"]
        ),
        "the leecher did not finish"
    );
    let paused = srv
        .wait_torrent(&admin, &ih, 15, |t| t["state"] == "paused")
        .await;
    assert!(paused["ratio"].as_f64().unwrap() >= 1.0, "{paused}");
}

/// The time seeding is saved at shutdown and comes back; a torrent's own seeding-time goal
/// counts it over the torrent's whole life and acts with the torrent's own action (remove,
/// keeping the files), whatever the server's is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_time_survives_restarts_and_meets_the_goal() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let data = srv.downloads().join("kept.bin");
    write_random(&data, 1 << 20, 23);
    let (torrent, ih) = make_torrent(&data, Some(32768));
    assert_eq!(
        srv.upload(&admin, &torrent, &[]).await.0,
        StatusCode::CREATED
    );
    let t = format!("/api/torrents/{ih}");
    let seeded = srv
        .wait_torrent(&admin, &ih, 30, |t| t["secondsSeeding"].as_u64() >= Some(2))
        .await;
    assert_eq!(seeded["state"], "seeding", "{seeded}");

    // A restart keeps it (it may only grow).
    let (s, body) = srv
        .call(Method::POST, &format!("{t}/pause"), Some(&admin), None)
        .await;
    assert!(s.is_success(), "{body}");
    let before = srv.get(&t, &admin).await.1["secondsSeeding"]
        .as_u64()
        .unwrap();
    assert!(before >= 2);
    let mut srv = srv.restart().await;
    let admin = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(srv.get(&t, &admin).await.1["secondsSeeding"], before);

    // Earlier runs seeded it for almost an hour (written while the server is down).
    srv.stop();
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&srv.database_url)
            .await
            .unwrap();
        sqlx::query("UPDATE torrents SET seconds_seeding = 3595 WHERE info_hash = $1")
            .bind(&ih)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let srv = srv.restart().await;
    let admin = srv.login("admin", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(srv.get(&t, &admin).await.1["secondsSeeding"], 3595);
    // The server pauses at goals; this torrent is removed at its own goal of an hour.
    let (s, body) = patch(
        &srv,
        "/api/settings",
        &admin,
        json!({ "seeding": { "action": "pause" } }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = patch(
        &srv,
        &t,
        &admin,
        json!({ "seedingTimeLimit": 60, "goalAction": "remove" }),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = srv
        .call(Method::POST, &format!("{t}/resume"), Some(&admin), None)
        .await;
    assert!(s.is_success(), "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while srv.get(&t, &admin).await.0 != StatusCode::NOT_FOUND {
        assert!(
            std::time::Instant::now() < deadline,
            "never removed at its goal"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(data.exists(), "removed by a goal, its data stays");
}
