//! A magnet added through the API: fetching metadata from a real libtorrent seeder, then
//! downloading; the metainfo is stored (the `.torrent` downloads, a restart needs no peer).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::lt::{free_port, LtPeer, SeedData};
use crate::sse::Reader;
use crate::support::*;

both_backends!(magnet_fetches_metadata_then_downloads_and_survives_restart);

async fn magnet_fetches_metadata_then_downloads_and_survives_restart(backend: Backend) {
    const SIZE: usize = 3 << 20;
    let seed = SeedData::new("movie.bin", &random_bytes(SIZE, 99), 65536);
    let ih = &seed.ih;

    let port = free_port();
    let mut opts = Options::new(backend);
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    let _admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let mut events = Reader::open(&srv.base, &alice, None).await;
    let seeder = LtPeer::seed(
        &seed.torrent_path,
        &seed.seed_dir,
        0,
        &format!("127.0.0.1:{port}"),
    );
    let magnet = format!(
        "magnet:?xt=urn:btih:{ih}&dn=not+yet+known&x.pe=127.0.0.1:{}",
        seeder.port
    );
    let (s, t) = srv
        .post("/api/torrents", &alice, json!({ "magnetURI": magnet }))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["name"], "not yet known");
    assert!(
        ["fetchingMetadata", "checking", "downloading", "seeding"]
            .contains(&t["state"].as_str().unwrap()),
        "{t}"
    );

    let done = srv
        .wait_torrent(&alice, &seed.ih, 120, |t| t["state"] == "seeding")
        .await;
    assert_eq!(done["name"], "movie.bin", "the metadata's name replaces dn");
    assert_eq!(done["totalBytes"], SIZE as u64);
    assert_eq!(
        std::fs::read(srv.user_dir(&alice).await.join("movie.bin")).unwrap(),
        std::fs::read(&seed.source).unwrap()
    );
    // The live list learned the real name (a torrent:added upsert after the metadata).
    let seen = events.drain(Duration::from_millis(500)).await;
    assert!(
        seen.iter()
            .any(|m| m.event == "torrent:added" && m.data["name"] == "movie.bin"),
        "{seen:?}"
    );
    let (s, peers) = srv.get(&format!("/api/torrents/{ih}/peers"), &alice).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        peers
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["source"].is_string()),
        "{peers}"
    );

    // The .torrent file is the seeder's metainfo (same info-hash, same info dictionary).
    let resp = srv
        .req(
            Method::GET,
            &format!("/api/torrents/{ih}/torrent"),
            Some(&alice),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/x-bittorrent");
    let bytes = resp.bytes().await.unwrap();
    let (s, again) = srv.upload(&alice, &bytes, &[]).await;
    assert_eq!(s, StatusCode::CONFLICT, "same info-hash: {again}");

    // Restart with the seeder gone: the stored metainfo is enough to check and seed.
    drop(seeder);
    let srv = srv.restart().await;
    let alice = srv.login("alice", PASSWORD).await.1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = srv
        .wait_torrent(&alice, &seed.ih, 60, |t| t["state"] == "seeding")
        .await;
    assert_eq!(back["name"], "movie.bin");
    assert_eq!(back["bytesDone"], SIZE as u64);
}
