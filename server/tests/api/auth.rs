//! Registration, login, tokens (missing, expired, forged, revoked), cookies with CSRF,
//! closed registration, the login rate limit, `/api/users/me`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both_backends;
use crate::support::*;

both_backends!(
    first_user_is_admin_and_login_works,
    bad_tokens_are_refused_everywhere,
    password_change_revokes_old_tokens,
);

fn forge(secret: &str, sub: &str, exp_offset: i64) -> String {
    let now = jsonwebtoken::get_current_timestamp() as i64;
    let claims = json!({ "sub": sub, "ver": 0, "csrf": "x", "iat": now, "exp": now + exp_offset });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode) {
    assert_eq!(status, want, "{body}");
    assert!(
        body["error"].is_string() && body["message"].is_string(),
        "error body: {body}"
    );
}

async fn first_user_is_admin_and_login_works(backend: Backend) {
    let srv = Server::start(backend).await;
    let (s, alice) = srv.register("alice").await;
    assert_eq!(s, StatusCode::CREATED, "{alice}");
    assert_eq!(alice["role"], "admin");
    let (s, bob) = srv.register("bob").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(bob["role"], "user");

    let (s, body) = srv.register("bob").await;
    assert_error(s, &body, StatusCode::CONFLICT);
    let (s, body) = srv
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "../x", "password": PASSWORD })),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);
    let (s, body) = srv
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "carol", "password": "short" })),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);
    let (s, body) = srv
        .call(
            Method::POST,
            "/api/auth/register",
            None,
            Some(json!({ "username": "carol" })),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);

    let (s, login) = srv.login("bob", PASSWORD).await;
    assert_eq!(s, StatusCode::OK, "{login}");
    assert_eq!(login["user"]["username"], "bob");
    assert!(login["expiresAt"].as_i64().unwrap() > 0);
    let token = login["token"].as_str().unwrap();
    let (s, me) = srv.get("/api/users/me", token).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["username"], "bob");
    assert_eq!(me["role"], "user");
    assert_eq!(me["id"], bob["id"]);

    let (s, body) = srv.login("bob", "wrong password").await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    let (s, body) = srv.login("nobody", PASSWORD).await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);

    // Passwords are stored as argon2id hashes.
    for hash in stored_hashes(&srv).await {
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(PASSWORD));
    }
}

async fn stored_hashes(srv: &Server) -> Vec<String> {
    let hashes = match srv.opts.backend {
        Backend::Sqlite | Backend::Postgres => sql_hashes(&srv.database_url).await,
        #[cfg(feature = "mongo")]
        Backend::Mongo => mongo_hashes(&srv.database_url).await,
        #[cfg(not(feature = "mongo"))]
        Backend::Mongo => unreachable!("MongoDB tests need --features mongo"),
    };
    assert_eq!(hashes.len(), 2);
    hashes
}

async fn sql_hashes(url: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT password_hash FROM users")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<String, _>("password_hash"))
        .collect()
}

/// The `users` collection, read with the driver (the server's own dependency).
#[cfg(feature = "mongo")]
async fn mongo_hashes(url: &str) -> Vec<String> {
    use futures_util::TryStreamExt;
    use mongodb::bson::{doc, Document};
    let client = mongodb::Client::with_uri_str(url).await.unwrap();
    let db = client
        .default_database()
        .expect("the test URL names a database");
    let users: Vec<Document> = db
        .collection::<Document>("users")
        .find(doc! {})
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    users
        .iter()
        .map(|u| u.get_str("password_hash").unwrap().to_owned())
        .collect()
}

/// Every route that needs a token, with a sample path.
pub const PROTECTED: &[(&str, &str)] = &[
    ("POST", "/api/auth/logout"),
    ("GET", "/api/users/me"),
    ("PUT", "/api/users/me"),
    ("GET", "/api/torrents"),
    ("POST", "/api/torrents"),
    ("POST", "/api/torrents/create"),
    (
        "GET",
        "/api/torrents/0000000000000000000000000000000000000000",
    ),
    (
        "DELETE",
        "/api/torrents/0000000000000000000000000000000000000000",
    ),
    (
        "POST",
        "/api/torrents/0000000000000000000000000000000000000000/pause",
    ),
    (
        "POST",
        "/api/torrents/0000000000000000000000000000000000000000/resume",
    ),
    (
        "PUT",
        "/api/torrents/0000000000000000000000000000000000000000/priority",
    ),
    (
        "GET",
        "/api/torrents/0000000000000000000000000000000000000000/files",
    ),
    (
        "GET",
        "/api/torrents/0000000000000000000000000000000000000000/peers",
    ),
    (
        "POST",
        "/api/torrents/0000000000000000000000000000000000000000/peers",
    ),
    (
        "GET",
        "/api/torrents/0000000000000000000000000000000000000000/pieces",
    ),
    ("GET", "/api/statistics"),
    ("GET", "/api/events"),
    ("GET", "/api/openapi.json"),
    ("GET", "/metrics"),
];

async fn bad_tokens_are_refused_everywhere(backend: Backend) {
    let srv = Server::start(backend).await;
    let good = srv.user("alice").await;
    let user_id = {
        let (_, me) = srv.get("/api/users/me", &good).await;
        me["id"].to_string()
    };
    let expired = forge(JWT_SECRET, &user_id, -3600);
    let forged = forge(
        "another-secret-another-secret-another-secret",
        &user_id,
        3600,
    );
    // alg "none": header {"alg":"none"}, no signature.
    let none = {
        let header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        let claims = forge(JWT_SECRET, &user_id, 3600);
        let body = claims.split('.').nth(1).unwrap().to_owned();
        format!("{header}.{body}.")
    };
    let unknown_user = forge(JWT_SECRET, "999999", 3600);
    for (method, path) in PROTECTED {
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let (s, body) = srv.call(m.clone(), path, None, None).await;
        assert_error(s, &body, StatusCode::UNAUTHORIZED);
        assert_eq!(body["message"], "missing token", "{method} {path}");
        for (bad, why) in [
            (expired.as_str(), "token expired"),
            (forged.as_str(), "invalid token"),
            (none.as_str(), "invalid token"),
            ("garbage", "invalid token"),
            (unknown_user.as_str(), "unknown user"),
        ] {
            let (s, body) = srv.call(m.clone(), path, Some(bad), None).await;
            assert_error(s, &body, StatusCode::UNAUTHORIZED);
            assert_eq!(body["message"], why, "{method} {path}");
        }
    }
    // A forged token whose signature is right is exactly what a real one is: sanity check
    // that the test's forging works.
    let (s, _) = srv
        .get("/api/users/me", &forge(JWT_SECRET, &user_id, 3600))
        .await;
    assert_eq!(s, StatusCode::OK);
    // Not a Bearer scheme.
    let (s, body) = send(
        srv.http
            .get(srv.url("/api/users/me"))
            .header("Authorization", format!("Basic {good}")),
    )
    .await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    // The public routes need nothing.
    let (s, _) = srv.call(Method::GET, "/api/health", None, None).await;
    assert_eq!(s, StatusCode::OK);
}

async fn password_change_revokes_old_tokens(backend: Backend) {
    let srv = Server::start(backend).await;
    let old = srv.user("alice").await;
    let (s, body) = srv
        .call(
            Method::PUT,
            "/api/users/me",
            Some(&old),
            Some(json!({ "currentPassword": "nope nope", "newPassword": "new password 1" })),
        )
        .await;
    assert_error(s, &body, StatusCode::FORBIDDEN);
    let (s, body) = srv
        .call(
            Method::PUT,
            "/api/users/me",
            Some(&old),
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "short" })),
        )
        .await;
    assert_error(s, &body, StatusCode::BAD_REQUEST);
    let (s, body) = srv
        .call(
            Method::PUT,
            "/api/users/me",
            Some(&old),
            Some(json!({ "currentPassword": PASSWORD, "newPassword": "new password 1" })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let new = body["token"].as_str().unwrap();
    let (s, body) = srv.get("/api/users/me", &old).await;
    assert_error(s, &body, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "token revoked");
    let (s, _) = srv.get("/api/users/me", new).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        srv.login("alice", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(srv.login("alice", "new password 1").await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_auth_needs_the_csrf_token_on_unsafe_methods() {
    let srv = Server::start(Backend::Sqlite).await;
    srv.user("alice").await;
    let res = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let body: Value = res.json().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("te_session="))
        .expect("session cookie");
    let csrf_cookie = cookies
        .iter()
        .find(|c| c.starts_with("te_csrf="))
        .expect("csrf cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Strict"),
        "{session}"
    );
    assert!(
        !csrf_cookie.contains("HttpOnly"),
        "the page must read the CSRF cookie"
    );
    let value = |c: &str| {
        c.split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    };
    let (jwt, csrf) = (value(session), value(csrf_cookie));
    assert_eq!(csrf, body["csrfToken"].as_str().unwrap());
    let cookie_header = format!("te_session={jwt}; te_csrf={csrf}");

    // Safe methods: the cookie is enough.
    let (s, me) = send(
        srv.http
            .get(srv.url("/api/users/me"))
            .header("Cookie", &cookie_header),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{me}");
    // Unsafe methods: the header must echo the cookie.
    let (torrent, _) = dummy_torrent(1);
    let form = || {
        reqwest::multipart::Form::new().part(
            "torrent",
            reqwest::multipart::Part::bytes(torrent.clone()).file_name("a.torrent"),
        )
    };
    let post = || {
        srv.http
            .post(srv.url("/api/torrents"))
            .header("Cookie", &cookie_header)
    };
    let (s, body) = send(post().multipart(form())).await;
    assert_eq!(
        (s, body["message"].as_str()),
        (StatusCode::FORBIDDEN, Some("missing CSRF token"))
    );
    let (s, body) = send(
        post()
            .header("X-CSRF-Token", "0".repeat(32))
            .multipart(form()),
    )
    .await;
    assert_eq!(
        (s, body["message"].as_str()),
        (StatusCode::FORBIDDEN, Some("CSRF token mismatch"))
    );
    // A CSRF cookie planted by someone else does not help without the session's token.
    let planted = format!("te_session={jwt}; te_csrf={}", "1".repeat(32));
    let (s, _) = send(
        srv.http
            .post(srv.url("/api/torrents"))
            .header("Cookie", planted)
            .header("X-CSRF-Token", "1".repeat(32))
            .multipart(form()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, body) = send(post().header("X-CSRF-Token", &csrf).multipart(form())).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    // Bearer requests need no CSRF token.
    let (s, _) = send(srv.http.get(srv.url("/api/users/me")).bearer_auth(&jwt)).await;
    assert_eq!(s, StatusCode::OK);
    // Logout clears the cookies and revokes the token (issue 11).
    let res = srv
        .http
        .post(srv.url("/api/auth/logout"))
        .header("Cookie", &cookie_header)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res
        .headers()
        .get_all("set-cookie")
        .iter()
        .all(|c| c.to_str().unwrap().contains("Max-Age=0")));
    let (s, body) = send(srv.http.post(srv.url("/api/auth/logout")).bearer_auth(&jwt)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["message"], "token revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_registration_lets_only_the_admin_add_users() {
    let srv =
        Server::start_with(Options::new(Backend::Sqlite).env("ALLOW_REGISTRATION", "false")).await;
    let admin = srv.user("admin").await;
    let (s, body) = srv.register("eve").await;
    assert_error(s, &body, StatusCode::FORBIDDEN);
    let (s, body) = srv
        .call(
            Method::POST,
            "/api/auth/register",
            Some(&admin),
            Some(json!({ "username": "bob", "password": PASSWORD })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["role"], "user");
    let (s, login) = srv.login("bob", PASSWORD).await;
    assert_eq!(s, StatusCode::OK);
    let bob = login["token"].as_str().unwrap();
    let (s, _) = srv
        .call(
            Method::POST,
            "/api/auth/register",
            Some(bob),
            Some(json!({ "username": "carol", "password": PASSWORD })),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an ordinary user cannot add users"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_attempts_are_rate_limited_per_address() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("LOGIN_RATE_LIMIT", "3")).await;
    srv.register("alice").await;
    for _ in 0..3 {
        assert_eq!(
            srv.login("alice", "wrong password").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = srv
        .http
        .post(srv.url("/api/auth/login"))
        .json(&json!({ "username": "alice", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests");
}
