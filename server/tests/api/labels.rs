//! Categories, tags and numeric ids in the REST API: a category's folder is where a torrent
//! added to it is saved; lists filter by category and tag; changes are events
//! (`torrent:labels`); all of it survives a restart; each user has their own.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::sse::Reader;
use crate::support::*;

both_backends!(categories_tags_and_ids);

async fn categories_tags_and_ids(backend: Backend) {
    let srv = Server::start(backend).await;
    let admin = srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;

    // Categories: create, refuse duplicates, bad names and folders outside the user's.
    let (s, c) = srv
        .post(
            "/api/categories",
            &alice,
            json!({ "name": "tv", "savePath": "shows/tv" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c, json!({ "name": "tv", "savePath": "shows/tv" }));
    let (s, _) = srv
        .post(
            "/api/categories",
            &alice,
            json!({ "name": "tv", "savePath": "" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    for bad in [
        json!({ "name": "", "savePath": "" }),
        json!({ "name": "a//b" }),
        json!({ "name": "x", "savePath": "../bob" }),
    ] {
        let (s, b) = srv.post("/api/categories", &alice, bad.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad} {b}");
    }
    srv.post("/api/categories", &alice, json!({ "name": "movies" }))
        .await;
    let (_, list) = srv.get("/api/categories", &alice).await;
    assert_eq!(
        list,
        json!([{ "name": "movies", "savePath": "" }, { "name": "tv", "savePath": "shows/tv" }])
    );
    let (_, list) = srv.get("/api/categories", &bob).await;
    assert_eq!(list, json!([]), "categories are per user");

    // Adding into a category saves in its folder; tags join the user's list.
    let mut events = Reader::open(&srv.base, &alice, None).await;
    let (t1, ih1) = dummy_torrent(1);
    let (s, a) = srv
        .upload(&alice, &t1, &[("category", "tv"), ("tags", "hd, new")])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["category"], "tv");
    assert_eq!(a["tags"], json!(["hd", "new"]));
    let tv_dir = srv
        .user_dir(&alice)
        .await
        .join("shows/tv")
        .canonicalize()
        .unwrap();
    assert_eq!(a["savePath"], tv_dir.display().to_string());
    let id1 = a["id"].as_u64().unwrap();
    assert!(id1 > 0);
    let (t2, ih2) = dummy_torrent(2);
    let (s, b) = srv.upload(&alice, &t2, &[]).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let id2 = b["id"].as_u64().unwrap();
    assert_ne!(id1, id2);
    let (s, e) = srv
        .upload(&alice, &dummy_torrent(3).0, &[("category", "nope")])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "unknown category: {e}");
    let (_, tags) = srv.get("/api/tags", &alice).await;
    assert_eq!(tags, json!(["hd", "new"]));
    let added = events.until("torrent:added", Duration::from_secs(10)).await;
    assert_eq!(added.last().unwrap().data["category"], "tv");

    // Filters.
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t["infoHash"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, l) = srv.get("/api/torrents?category=tv", &alice).await;
    assert_eq!(names(&l), vec![ih1.clone()]);
    let (_, l) = srv.get("/api/torrents?category=", &alice).await;
    assert_eq!(names(&l), vec![ih2.clone()]);
    let (_, l) = srv.get("/api/torrents?tag=hd", &alice).await;
    assert_eq!(names(&l), vec![ih1.clone()]);
    let (_, l) = srv.get("/api/torrents?tag=", &alice).await;
    assert_eq!(names(&l), vec![ih2.clone()]);

    // Setting category and tags; events carry them.
    let (s, b2) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/category"),
            Some(&alice),
            Some(json!({ "category": "movies" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b2}");
    assert_eq!(b2["category"], "movies");
    let seen = events
        .until("torrent:labels", Duration::from_secs(10))
        .await;
    assert_eq!(
        seen.last().unwrap().data,
        json!({ "infoHash": ih2, "category": "movies", "tags": [] })
    );
    let (s, b2) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/tags"),
            Some(&alice),
            Some(json!({ "tags": ["x", "hd"] })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b2["tags"], json!(["hd", "x"]));
    let (s, _) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/category"),
            Some(&alice),
            Some(json!({ "category": "ghost" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/tags"),
            Some(&alice),
            Some(json!({ "tags": ["a,b"] })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Someone else's torrent is not found; an admin may label it.
    let (s, _) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/tags"),
            Some(&bob),
            Some(json!({ "tags": ["mine"] })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = srv
        .call(
            Method::PUT,
            &format!("/api/torrents/{ih2}/category"),
            Some(&admin),
            Some(json!({ "category": null })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Deleting a tag removes it from torrents; deleting a category uncategorizes them.
    let (s, _) = srv
        .call(Method::DELETE, "/api/tags/hd", Some(&alice), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = srv
        .call(Method::DELETE, "/api/categories/tv", Some(&alice), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = srv
        .call(Method::DELETE, "/api/categories/tv", Some(&alice), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, d1) = srv.get(&format!("/api/torrents/{ih1}"), &alice).await;
    assert_eq!(
        (d1["category"].clone(), d1["tags"].clone()),
        (json!(null), json!(["new"]))
    );
    let (s, _) = srv
        .call(
            Method::PUT,
            "/api/categories/movies",
            Some(&alice),
            Some(json!({ "savePath": "films" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    srv.call(
        Method::PUT,
        &format!("/api/torrents/{ih1}/category"),
        Some(&alice),
        Some(json!({ "category": "movies" })),
    )
    .await;

    // Everything survives a restart, ids included.
    let srv = srv.restart().await;
    let (_, l) = srv.get("/api/torrents", &alice).await;
    let by_hash = |ih: &str| {
        l.as_array()
            .unwrap()
            .iter()
            .find(|t| t["infoHash"] == ih)
            .unwrap()
            .clone()
    };
    let (r1, r2) = (by_hash(&ih1), by_hash(&ih2));
    assert_eq!(
        (r1["id"].as_u64(), r2["id"].as_u64()),
        (Some(id1), Some(id2))
    );
    assert_eq!(
        (r1["category"].clone(), r1["tags"].clone()),
        (json!("movies"), json!(["new"]))
    );
    assert_eq!(
        (r2["category"].clone(), r2["tags"].clone()),
        (json!(null), json!(["x"]))
    );
    let (_, cats) = srv.get("/api/categories", &alice).await;
    assert_eq!(cats, json!([{ "name": "movies", "savePath": "films" }]));
    let (_, tags) = srv.get("/api/tags", &alice).await;
    assert_eq!(tags, json!(["new", "x"]));
    // A removed torrent's id is not given to the next one.
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/torrents/{ih1}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, c) = srv.upload(&alice, &dummy_torrent(4).0, &[]).await;
    assert!(c["id"].as_u64().unwrap() > id2, "{c}");
}
