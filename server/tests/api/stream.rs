//! Streaming with `Range` (`GET /api/torrents/{infoHash}/files/{index}/stream`) while the file
//! downloads from a real libtorrent seeder (capped at 2 MiB/s, torrent set to sequential):
//! `curl -r` at the start, the middle and the end returns the right bytes, and the middle
//! arrives while most pieces before it are still missing. Signed links work without the
//! login; bad ranges get 416 or the whole file.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::lt::{lt_make_torrent, LtPeer};
use crate::support::*;

const PIECE: u32 = 256 * 1024;
const LEN: usize = 24 * 1024 * 1024 + 321;

/// `curl -r RANGE` with the Bearer token: (status, headers, body).
fn curl(url: &str, range: &str, token: Option<&str>) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (head, body) = (dir.path().join("head"), dir.path().join("body"));
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "120", "-r", range, "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code}"]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.arg(url).output().expect("run curl");
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    let head = std::fs::read_to_string(head).unwrap().to_ascii_lowercase();
    (code, head, std::fs::read(body).unwrap_or_default())
}

fn have(pieces: &Value, i: usize) -> bool {
    let hex = pieces["bitfield"].as_str().unwrap();
    let byte = u8::from_str_radix(&hex[i / 8 * 2..i / 8 * 2 + 2], 16).unwrap();
    byte & (0x80 >> (i % 8)) != 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_streams_with_range_while_it_downloads() {
    let srv = Server::start(Backend::Sqlite).await;
    let alice = srv.user("alice").await;
    let seed_dir = tempfile::tempdir().unwrap();
    let file = seed_dir.path().join("clip.webm");
    write_random(&file, LEN, 77);
    let src = std::fs::read(&file).unwrap();
    let torrent_path = seed_dir.path().join("clip.torrent");
    let ih = lt_make_torrent(&file, &torrent_path, PIECE);
    let seeder = LtPeer::seed_waiting(&torrent_path, seed_dir.path(), 2 << 20);
    let torrent = std::fs::read(&torrent_path).unwrap();
    let peer = format!("127.0.0.1:{}", seeder.port);
    let (s, body) = srv
        .upload(
            &alice,
            &torrent,
            &[("peers", &peer), ("sequential", "true")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let path = format!("/api/torrents/{ih}/files/0/stream");
    let url = srv.url(&path);

    let (code, head, bytes) = curl(&url, "0-99999", Some(&alice));
    assert_eq!(code, 206, "{head}");
    assert!(
        head.contains(&format!("content-range: bytes 0-99999/{LEN}")),
        "{head}"
    );
    assert!(head.contains("content-type: video/webm"), "{head}");
    assert!(head.contains("accept-ranges: bytes"), "{head}");
    assert_eq!(bytes, src[..100_000], "the start");

    let mid = LEN / 2;
    let (code, _, bytes) = curl(&url, &format!("{mid}-{}", mid + 299_999), Some(&alice));
    assert_eq!(code, 206);
    assert_eq!(bytes, src[mid..mid + 300_000], "the middle");
    let (_, pieces) = srv.get(&format!("/api/torrents/{ih}/pieces"), &alice).await;
    let p = PIECE as usize;
    let between = (8 * 1024 * 1024 / p + 1)..(mid / p - 1);
    let done = between.clone().filter(|&i| have(&pieces, i)).count();
    assert!(
        done * 2 < between.len(),
        "the middle arrived after {done} of the {} pieces before it",
        between.len()
    );

    let (code, _, bytes) = curl(&url, "-5000", Some(&alice));
    assert_eq!(code, 206);
    assert_eq!(bytes, src[LEN - 5000..], "the end");

    // A signed link streams without the login; it is bound to its file.
    let (s, link) = srv
        .post(
            &format!("/api/torrents/{ih}/files/0/link"),
            &alice,
            Value::Null,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{link}");
    let link_url = srv.url(link["url"].as_str().unwrap());
    let (code, _, bytes) = curl(&link_url, "100-199", None);
    assert_eq!((code, bytes.as_slice()), (206, &src[100..200]));
    let forged = link_url.replace("/files/0/", "/files/1/");
    assert_eq!(curl(&forged, "0-1", None).0, 401, "another file");
    assert_eq!(curl(&url, "0-1", None).0, 401, "no login, no link");
    let bob = srv.user("bob").await;
    assert_eq!(curl(&url, "0-1", Some(&bob)).0, 404, "not bob's torrent");

    srv.wait_torrent(&alice, &ih, 120, |t| t["state"] == "seeding")
        .await;
    let (code, head, _) = curl(&url, &format!("{LEN}-"), Some(&alice));
    assert_eq!(code, 416);
    assert!(
        head.contains(&format!("content-range: bytes */{LEN}")),
        "{head}"
    );
    // Several ranges, or a malformed one: the whole file.
    for range in ["0-1,5-6", "9-3"] {
        let res = srv
            .req(Method::GET, &path, Some(&alice))
            .header("range", format!("bytes={range}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{range}");
        assert_eq!(res.content_length(), Some(LEN as u64));
        assert_eq!(res.bytes().await.unwrap().as_ref(), src.as_slice());
    }
    let (s, _) = srv
        .get(&format!("/api/torrents/{ih}/files/9/stream"), &alice)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "no tenth file");
    let (s, _) = srv
        .get(&format!("/api/torrents/{ih}/files/x/stream"), &alice)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}
