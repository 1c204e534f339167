//! qBittorrent's WebUI API v2 at `/api/v2/`: its login and refusals, answers for features
//! TorrentEdge lacks, `sync/maindata` deltas that add up to `torrents/info`, and the PyPI
//! `qbittorrent-api` client running what Sonarr does against a real libtorrent seeder.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::lt::{free_port, LtPeer, SeedData};
use crate::support::*;

/// A qBittorrent client: the SID cookie from `auth/login`.
pub(crate) struct Qbit<'a> {
    srv: &'a Server,
    sid: String,
}

impl<'a> Qbit<'a> {
    pub(crate) async fn login(srv: &'a Server, user: &str) -> Qbit<'a> {
        let res = srv
            .http
            .post(srv.url("/api/v2/auth/login"))
            .form(&[("username", user), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let sid = res
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.strip_prefix("SID="))
            .and_then(|c| c.split(';').next())
            .expect("SID cookie")
            .to_owned();
        assert_eq!(res.text().await.unwrap(), "Ok.");
        Qbit { srv, sid }
    }

    /// The `Cookie` header this client sends.
    pub(crate) fn cookie(&self) -> String {
        format!("SID={}", self.sid)
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let res = self
            .srv
            .http
            .post(self.srv.url(&format!("/api/v2/{path}")))
            .header("Cookie", format!("SID={}", self.sid))
            .form(form)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }

    pub(crate) async fn json(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (s, body) = self.post(path, form).await;
        assert_eq!(s, StatusCode::OK, "{path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }

    async fn add(&self, torrent: &[u8], fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form = reqwest::multipart::Form::new().part(
            "torrents",
            reqwest::multipart::Part::bytes(torrent.to_vec()).file_name("x.torrent"),
        );
        for (k, v) in fields {
            form = form.text(k.to_string(), v.to_string());
        }
        let res = self
            .srv
            .http
            .post(self.srv.url("/api/v2/torrents/add"))
            .header("Cookie", format!("SID={}", self.sid))
            .multipart(form)
            .send()
            .await
            .unwrap();
        (res.status(), res.text().await.unwrap())
    }
}

/// Polls `torrents/info` until the torrent is in `state` (a new torrent is checked first);
/// returns its object.
async fn wait_state(q: &Qbit<'_>, ih: &str, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info = q.json("torrents/info", &[("hashes", ih)]).await;
        if info[0]["state"] == state {
            return info[0].clone();
        }
        assert!(Instant::now() < deadline, "never {state}: {info}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn raw(
    srv: &Server,
    path: &str,
    headers: &[(&str, &str)],
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut r = srv.http.post(srv.url(path)).form(form);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let res = r.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qbit_login_and_refusals() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("LOGIN_RATE_LIMIT", "6")).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    let (bt, bobs) = dummy_torrent(7);
    srv.upload(&bob, &bt, &[]).await;

    // Wrong password: 200 "Fails." and no cookie; no cookie or a made-up one: 403.
    let res = srv
        .http
        .post(srv.url("/api/v2/auth/login"))
        .form(&[("username", "alice"), ("password", "wrong password")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("set-cookie").is_none());
    assert_eq!(res.text().await.unwrap(), "Fails.");
    assert_eq!(
        raw(&srv, "/api/v2/torrents/info", &[], &[]).await,
        (StatusCode::FORBIDDEN, "Forbidden".into())
    );
    assert_eq!(
        raw(&srv, "/api/v2/app/version", &[("Cookie", "SID=0123")], &[])
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // The cookie works; so does a TorrentEdge bearer token; a forged one does not.
    let q = Qbit::login(&srv, "alice").await;
    assert_eq!(
        q.post("app/webapiVersion", &[]).await,
        (StatusCode::OK, "2.9.3".into())
    );
    let bearer = format!("Bearer {alice}");
    assert_eq!(
        raw(
            &srv,
            "/api/v2/app/version",
            &[("Authorization", &bearer)],
            &[]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        raw(
            &srv,
            "/api/v2/app/version",
            &[("Authorization", "Bearer x.y.z")],
            &[]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // Another user's torrent: not listed, 404 to read, ignored by actions.
    assert_eq!(q.json("torrents/info", &[]).await, json!([]));
    assert_eq!(
        q.post("torrents/properties", &[("hash", &bobs)]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        q.post("torrents/files", &[("hash", &bobs)]).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        q.post(
            "torrents/delete",
            &[("hashes", &bobs), ("deleteFiles", "true")]
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, still) = srv.get(&format!("/api/torrents/{bobs}"), &bob).await;
    assert_eq!(still["infoHash"], bobs.as_str());

    // Logging out ends the session.
    assert_eq!(q.post("auth/logout", &[]).await.0, StatusCode::OK);
    assert_eq!(q.post("app/version", &[]).await.0, StatusCode::FORBIDDEN);

    // The REST login's per-address limit counts these logins too: banned with 403.
    let mut answers = Vec::new();
    for _ in 0..8 {
        answers.push(
            raw(
                &srv,
                "/api/v2/auth/login",
                &[],
                &[("username", "alice"), ("password", "nope nope")],
            )
            .await,
        );
    }
    assert_eq!(
        answers.last().unwrap().0,
        StatusCode::FORBIDDEN,
        "{answers:?}"
    );
    assert!(answers.last().unwrap().1.contains("banned"));
}

/// Piece order and share limits given at add time show in `torrents/info`, and the toggles
/// flip them (what Sonarr's and the WebUI's "download in sequential order" do).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qbit_add_options_and_order_toggles() {
    let srv = Server::start(Backend::Sqlite).await;
    let admin = srv.user("admin").await;
    let q = Qbit::login(&srv, "admin").await;
    let (t, ih) = dummy_torrent(12);
    let fields = [
        ("sequentialDownload", "true"),
        ("firstLastPiecePrio", "true"),
        ("ratioLimit", "1.5"),
        ("seedingTimeLimit", "90"),
        ("paused", "true"),
    ];
    assert_eq!(q.add(&t, &fields).await, (StatusCode::OK, "Ok.".into()));
    async fn info(q: &Qbit<'_>, ih: &str) -> Value {
        q.json("torrents/info", &[("hashes", ih)]).await[0].clone()
    }
    let i = info(&q, &ih).await;
    assert_eq!(
        (
            &i["seq_dl"],
            &i["f_l_piece_prio"],
            &i["ratio_limit"],
            &i["seeding_time_limit"]
        ),
        (&json!(true), &json!(true), &json!(1.5), &json!(90)),
        "{i}"
    );
    assert_eq!(i["inactive_seeding_time_limit"], json!(-2), "the server's");
    let (code, _) = q
        .post("torrents/toggleSequentialDownload", &[("hashes", &ih)])
        .await;
    assert_eq!(code, StatusCode::OK);
    let i = info(&q, &ih).await;
    assert_eq!(
        (&i["seq_dl"], &i["f_l_piece_prio"]),
        (&json!(false), &json!(true))
    );
    let (code, _) = q
        .post("torrents/toggleFirstLastPiecePrio", &[("hashes", "all")])
        .await;
    assert_eq!(code, StatusCode::OK);
    let i = info(&q, &ih).await;
    assert_eq!(
        (&i["seq_dl"], &i["f_l_piece_prio"]),
        (&json!(false), &json!(false))
    );
    // The REST view agrees.
    let (_, s) = srv.get(&format!("/api/torrents/{ih}"), &admin).await;
    assert_eq!(
        (&s["sequential"], &s["firstLastPiece"]),
        (&json!(false), &json!(false))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qbit_answers_for_missing_features_and_labels() {
    // Queueing off (qBittorrent's answers to queue calls differ then).
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("MAX_CONCURRENT_TORRENTS", "0")).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let q = Qbit::login(&srv, "alice").await;
    let (t, ih) = dummy_torrent(11);
    assert_eq!(
        q.add(&t, &[("autoTMM", "true")]).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        q.add(b"not a torrent", &[]).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        q.add(
            &t,
            &[("category", "new-cat"), ("tags", "a,b"), ("paused", "true")]
        )
        .await,
        (StatusCode::OK, "Ok.".into())
    );
    assert_eq!(
        q.add(&t, &[]).await,
        (StatusCode::OK, "Fails.".into()),
        "a duplicate"
    );
    let cats = q.json("torrents/categories", &[]).await;
    assert_eq!(
        std::path::Path::new(cats["new-cat"]["savePath"].as_str().unwrap()),
        srv.user_dir(&alice).await,
        "created on add: {cats}"
    );
    let info = wait_state(&q, &ih, "pausedDL").await;
    assert_eq!(
        q.json("torrents/info", &[("category", "new-cat")]).await[0]["hash"],
        ih.as_str()
    );
    assert_eq!(info["tags"], "a, b");

    // A magnet is accepted and waits for metadata.
    let magnet = format!("magnet:?xt=urn:btih:{}&dn=m", "ab".repeat(20));
    let (s, body) = raw(
        &srv,
        "/api/v2/torrents/add",
        &[("Cookie", &format!("SID={}", q.sid))],
        &[("urls", &magnet)],
    )
    .await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "Ok."));
    let m = q
        .json("torrents/info", &[("hashes", &"ab".repeat(20))])
        .await;
    assert_eq!(m[0]["state"], "metaDL");

    let h = [("hashes", ih.as_str())];
    for (path, form) in [
        ("torrents/recheck", h.to_vec()),
        ("torrents/reannounce", h.to_vec()),
        (
            "torrents/setLocation",
            vec![("hashes", ih.as_str()), ("location", "elsewhere")],
        ),
    ] {
        let (s, body) = q.post(path, &form).await;
        assert_eq!(s, StatusCode::CONFLICT, "{path}: {body}");
        assert!(
            body.contains("TorrentEdge does not support"),
            "{path}: {body}"
        );
    }
    for (path, form) in [
        (
            "torrents/setShareLimits",
            vec![
                ("hashes", ih.as_str()),
                ("ratioLimit", "-2"),
                ("seedingTimeLimit", "-2"),
            ],
        ),
        (
            "torrents/setShareLimits",
            vec![
                ("hashes", ih.as_str()),
                ("ratioLimit", "2"),
                ("seedingTimeLimit", "-1"),
            ],
        ),
        (
            "torrents/setDownloadLimit",
            vec![("hashes", ih.as_str()), ("limit", "0")],
        ),
        (
            "torrents/filePrio",
            vec![("hash", ih.as_str()), ("id", "0"), ("priority", "1")],
        ),
        (
            "torrents/filePrio",
            vec![("hash", ih.as_str()), ("id", "0"), ("priority", "0")],
        ),
    ] {
        assert_eq!(q.post(path, &form).await.0, StatusCode::OK, "{path}");
    }
    // Rate limits: per torrent for its owner, server-wide for admins only.
    for (path, form) in [
        (
            "torrents/setDownloadLimit",
            vec![("hashes", ih.as_str()), ("limit", "1000")],
        ),
        (
            "torrents/setUploadLimit",
            vec![("hashes", ih.as_str()), ("limit", "2048")],
        ),
    ] {
        assert_eq!(q.post(path, &form).await.0, StatusCode::OK, "{path}");
    }
    assert_eq!(q.json("torrents/downloadLimit", &h).await[&ih], 1000);
    assert_eq!(q.json("torrents/uploadLimit", &h).await[&ih], 2048);
    let info = q.json("torrents/info", &h).await;
    assert_eq!(
        (info[0]["dl_limit"].clone(), info[0]["up_limit"].clone()),
        (1000.into(), 2048.into()),
        "{info}"
    );
    assert_eq!(
        q.post(
            "torrents/setDownloadLimit",
            &[("hashes", ih.as_str()), ("limit", "lots")]
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        q.post("transfer/toggleSpeedLimitsMode", &[]).await.0,
        StatusCode::FORBIDDEN,
        "server-wide: admins only"
    );
    assert_eq!(
        q.post("transfer/setDownloadLimit", &[("limit", "5000")])
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let admin = Qbit::login(&srv, "admin").await;
    assert_eq!(admin.post("transfer/speedLimitsMode", &[]).await.1, "0");
    assert_eq!(
        admin
            .post("transfer/setDownloadLimit", &[("limit", "5000")])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(admin.post("transfer/downloadLimit", &[]).await.1, "5000");
    assert_eq!(
        admin.json("transfer/info", &[]).await["dl_rate_limit"],
        5000,
        "the limit in force"
    );
    assert_eq!(
        admin
            .post(
                "app/setPreferences",
                &[("json", r#"{"alt_dl_limit": 700, "alt_up_limit": 800}"#)]
            )
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        admin.post("transfer/toggleSpeedLimitsMode", &[]).await.0,
        StatusCode::OK
    );
    assert_eq!(admin.post("transfer/speedLimitsMode", &[]).await.1, "1");
    assert_eq!(admin.post("transfer/downloadLimit", &[]).await.1, "700");
    let prefs = admin.json("app/preferences", &[]).await;
    assert_eq!(
        (prefs["dl_limit"].clone(), prefs["alt_up_limit"].clone()),
        (5000.into(), 800.into())
    );
    assert_eq!(
        admin
            .post("transfer/setSpeedLimitsMode", &[("mode", "0")])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(admin.post("transfer/uploadLimit", &[]).await.1, "0");

    assert_eq!(
        q.post("torrents/topPrio", &h).await,
        (
            StatusCode::CONFLICT,
            "Torrent queueing must be enabled".into()
        )
    );
    assert_eq!(
        q.post(
            "torrents/setCategory",
            &[("hashes", ih.as_str()), ("category", "ghost")]
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        q.post("torrents/createCategory", &[("category", "new-cat")])
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        q.post(
            "torrents/editCategory",
            &[("category", "ghost"), ("savePath", "x")]
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        q.post(
            "torrents/createCategory",
            &[("category", "tv"), ("savePath", "tv")]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        q.post(
            "torrents/setCategory",
            &[("hashes", ih.as_str()), ("category", "tv")]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        q.post(
            "torrents/removeTags",
            &[("hashes", ih.as_str()), ("tags", "a")]
        )
        .await
        .0,
        StatusCode::OK
    );
    let info = q.json("torrents/info", &[("tag", "b")]).await;
    assert_eq!(
        (info[0]["category"].clone(), info[0]["tags"].clone()),
        (json!("tv"), json!("b"))
    );
    assert_eq!(q.post("torrents/resume", &h).await.0, StatusCode::OK);
    let (_, rest) = srv.get(&format!("/api/torrents/{ih}"), &alice).await;
    assert_ne!(rest["state"], "paused");
    let prefs = q.json("app/preferences", &[]).await;
    assert_eq!(prefs["queueing_enabled"], false);
    let (s, body) = q
        .post("app/setPreferences", &[("json", r#"{"dht": true}"#)])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        q.post(
            "app/setPreferences",
            &[("json", r#"{"dht": false, "unknown_key": 1}"#)]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        q.post(
            "app/setPreferences",
            &[(
                "json",
                r#"{"queueing_enabled": true, "max_active_downloads": 2}"#
            )]
        )
        .await
        .0,
        StatusCode::FORBIDDEN,
        "server-wide: admins only"
    );
}

/// Applies `sync/maindata` answers the way web UIs do.
#[derive(Default)]
struct Mirror {
    rid: u64,
    torrents: BTreeMap<String, Map<String, Value>>,
    categories: BTreeMap<String, Value>,
    tags: Vec<String>,
}

impl Mirror {
    /// Applies one answer; returns whether it changed any torrent.
    fn apply(&mut self, d: &Value) -> bool {
        self.rid = d["rid"].as_u64().unwrap();
        if d["full_update"] == true {
            self.torrents.clear();
            self.categories.clear();
            self.tags.clear();
        }
        let mut changed = false;
        if let Some(ts) = d["torrents"].as_object() {
            for (h, fields) in ts {
                let t = self.torrents.entry(h.clone()).or_default();
                for (k, v) in fields.as_object().unwrap() {
                    t.insert(k.clone(), v.clone());
                }
                changed = true;
            }
        }
        for h in d["torrents_removed"].as_array().into_iter().flatten() {
            self.torrents.remove(h.as_str().unwrap());
            changed = true;
        }
        for (k, v) in d["categories"].as_object().into_iter().flatten() {
            self.categories.insert(k.clone(), v.clone());
        }
        for c in d["categories_removed"].as_array().into_iter().flatten() {
            self.categories.remove(c.as_str().unwrap());
        }
        for t in d["tags"].as_array().into_iter().flatten() {
            self.tags.push(t.as_str().unwrap().to_owned());
        }
        for t in d["tags_removed"].as_array().into_iter().flatten() {
            self.tags.retain(|x| x != t.as_str().unwrap());
        }
        changed
    }

    async fn poll(&mut self, q: &Qbit<'_>) -> bool {
        let d = q
            .json("sync/maindata", &[("rid", &self.rid.to_string())])
            .await;
        self.apply(&d)
    }

    /// Checks the mirror against `torrents/info`, `categories` and `tags`, taken between two
    /// polls that saw no torrent change (so all three describe the same moment).
    async fn check(&mut self, q: &Qbit<'_>) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.poll(q).await;
            let info = q.json("torrents/info", &[]).await;
            let cats = q.json("torrents/categories", &[]).await;
            let mut tags: Vec<String> =
                serde_json::from_value(q.json("torrents/tags", &[]).await).unwrap();
            if !self.poll(q).await {
                let listed: BTreeMap<String, Map<String, Value>> = info
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        (
                            t["hash"].as_str().unwrap().to_owned(),
                            t.as_object().unwrap().clone(),
                        )
                    })
                    .collect();
                assert_eq!(self.torrents, listed);
                let cats: BTreeMap<String, Value> =
                    cats.as_object().unwrap().clone().into_iter().collect();
                assert_eq!(self.categories, cats);
                let mut mine = self.tags.clone();
                mine.sort();
                tags.sort();
                assert_eq!(mine, tags);
                return;
            }
            assert!(Instant::now() < deadline, "torrents never held still");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_maindata_deltas_add_up_to_torrents_info() {
    const SIZE: usize = 3 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 99), 32768);
    let port = free_port();
    let mut opts = Options::new(Backend::Sqlite);
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    srv.user("alice").await;
    let q = Qbit::login(&srv, "alice").await;
    let mut m = Mirror::default();
    m.check(&q).await;
    assert!(m.torrents.is_empty());

    // Adds (one paused), a category and tags.
    let (other, other_ih) = dummy_torrent(21);
    q.add(&other, &[("paused", "true"), ("tags", "x,y")]).await;
    q.post("torrents/createCategory", &[("category", "tv")])
        .await;
    wait_state(&q, &other_ih, "pausedDL").await;
    m.check(&q).await;
    assert_eq!(m.torrents[&other_ih]["state"], "pausedDL");

    // Progress from a real seeder, applied delta by delta.
    let (s, body) = q
        .add(
            &std::fs::read(&seed.torrent_path).unwrap(),
            &[("category", "tv")],
        )
        .await;
    assert_eq!((s, body.as_str()), (StatusCode::OK, "Ok."));
    let seeder = LtPeer::seed(
        &seed.torrent_path,
        &seed.seed_dir,
        2 << 20,
        &format!("127.0.0.1:{port}"),
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut progress_seen = Vec::new();
    loop {
        m.poll(&q).await;
        if let Some(t) = m.torrents.get(&seed.ih) {
            progress_seen.push(t["progress"].as_f64().unwrap());
            if t["progress"] == 1.0 && t["state"] != "checkingUP" {
                break;
            }
        }
        assert!(Instant::now() < deadline, "download did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        progress_seen.iter().any(|p| *p > 0.0 && *p < 1.0),
        "partial progress arrived as deltas: {progress_seen:?}"
    );
    drop(seeder);
    q.post("torrents/pause", &[("hashes", &seed.ih)]).await;
    m.check(&q).await;
    assert_eq!(m.torrents[&seed.ih]["state"], "pausedUP");
    assert_eq!(m.torrents[&seed.ih]["category"], "tv");

    // Removals of a torrent, a category and a tag.
    q.post(
        "torrents/delete",
        &[("hashes", &other_ih), ("deleteFiles", "false")],
    )
    .await;
    q.post("torrents/removeCategories", &[("categories", "tv")])
        .await;
    q.post("torrents/deleteTags", &[("tags", "x")]).await;
    m.check(&q).await;
    assert!(!m.torrents.contains_key(&other_ih));
    assert_eq!(m.torrents[&seed.ih]["category"], "");
    assert_eq!(m.tags, vec!["y".to_owned()]);

    // An unknown rid gets the full state again.
    let full = q.json("sync/maindata", &[("rid", "999999")]).await;
    assert_eq!(full["full_update"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sonarr_through_qbittorrent_api() {
    const SIZE: usize = 2 << 20;
    let seed = SeedData::new("payload.bin", &random_bytes(SIZE, 5150), 32768);
    let port = free_port();
    let mut opts = Options::new(Backend::Sqlite);
    opts.peer_port = port;
    let srv = Server::start_with(opts).await;
    srv.user("admin").await;
    let alice = srv.user("alice").await;
    let args: Vec<String> = vec![
        srv.base.clone(),
        "alice".into(),
        PASSWORD.into(),
        seed.torrent_path.display().to_string(),
        seed.ih.clone(),
        SIZE.to_string(),
    ];
    let script = tokio::task::spawn_blocking(move || python("sonarr_qbittorrent.py", &args));
    let _seeder = seed_once_added(
        &srv,
        &alice,
        &seed.ih,
        &seed.torrent_path,
        &seed.seed_dir,
        port,
    )
    .await;
    let out = script.await.unwrap();
    assert!(out.contains("OK"), "{out}\n{}", srv.logs());
    let tv = srv.user_dir(&alice).await.join("tv");
    assert!(tv.is_dir(), "the category's folder was used");
    assert!(!tv.join("payload.bin").exists(), "deleted with its files");
}

/// A libtorrent seeder dialling the server's peer `port`, started once the torrent `ih`
/// exists for `token`'s user (added by a client under test): libtorrent waits a minute before
/// dialling again a peer that did not know the torrent yet.
pub async fn seed_once_added(
    srv: &Server,
    token: &str,
    ih: &str,
    torrent: &std::path::Path,
    dir: &std::path::Path,
    port: u16,
) -> LtPeer {
    let deadline = Instant::now() + Duration::from_secs(60);
    while srv.get(&format!("/api/torrents/{ih}"), token).await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "the client never added {ih}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (torrent, dir) = (torrent.to_path_buf(), dir.to_path_buf());
    tokio::task::spawn_blocking(move || {
        LtPeer::seed(&torrent, &dir, 0, &format!("127.0.0.1:{port}"))
    })
    .await
    .unwrap()
}

/// Runs a script of `server/tests/compat/` with Debian's python3; its stdout and stderr.
pub fn python<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compat")
        .join(script);
    let o = Command::new("/usr/bin/python3")
        .arg(path)
        .args(args)
        .output()
        .expect("run python3");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{script} failed:\n{text}");
    text
}
