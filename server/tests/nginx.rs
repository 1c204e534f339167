//! The real Debian nginx with deploy/nginx's config (the one docker-compose.yml runs, started by
//! the same entrypoint, which generates the certificate) in front of the real `torrentedge
//! serve`, all on loopback, driven by the real curl: TLS, redirects, security headers, login,
//! .torrent upload and download, upload limits, and live server-sent events through the proxy.

#[path = "api/support.rs"]
mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// nginx started by deploy/nginx/entrypoint.sh with files copied from deploy/nginx.
struct Nginx {
    child: Option<Child>,
    dir: tempfile::TempDir,
    http: u16,
    https: u16,
}

impl Nginx {
    fn start(upstream: &str) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        // nginx's workers run as nobody when the test runs as root.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let conf = dir.path().join("conf");
        std::fs::create_dir_all(conf.join("templates")).unwrap();
        let src = repo_root().join("deploy/nginx");
        std::fs::copy(src.join("nginx.conf"), conf.join("nginx.conf")).unwrap();
        for entry in std::fs::read_dir(src.join("templates")).unwrap() {
            let p = entry.unwrap().path();
            std::fs::copy(&p, conf.join("templates").join(p.file_name().unwrap())).unwrap();
        }
        let (http, https) = (free_port(), free_port());
        let child = Command::new("sh")
            .arg(src.join("entrypoint.sh"))
            .env("NGINX_CONF_DIR", &conf)
            .env("NGINX_PREFIX", dir.path().join("prefix"))
            .env("TLS_DIR", dir.path().join("tls"))
            .env("TE_UPSTREAM", upstream)
            .env("LISTEN_ADDR", "127.0.0.1")
            .env("HTTP_PORT", http.to_string())
            .env("HTTPS_PORT", https.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("run deploy/nginx/entrypoint.sh (is nginx-light installed?)");
        let nginx = Nginx {
            child: Some(child),
            dir,
            http,
            https,
        };
        // Ready when TLS answers on the port (a bare connect could reach another process that
        // briefly held the port `free_port` picked).
        let deadline = Instant::now() + Duration::from_secs(20);
        let probe = format!("https://127.0.0.1:{https}/");
        while !Command::new("curl")
            .args(["-sSk", "-o", "/dev/null", "--max-time", "2", &probe])
            .status()
            .is_ok_and(|s| s.success())
        {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        nginx
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // TERM lets the master stop its workers.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

/// Runs curl; returns (status, headers, body). `-k`: the certificate is the generated one,
/// checked separately below.
fn curl(args: &[&str]) -> (u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (head, body) = (dir.path().join("h"), dir.path().join("b"));
    let out = Command::new("curl")
        .args(["-sS", "-k", "--max-time", "60", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(["-w", "%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    (
        status,
        std::fs::read_to_string(&head).unwrap_or_default(),
        std::fs::read(&body).unwrap_or_default(),
    )
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

fn post_json(url: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let mut args = vec![
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        body,
    ];
    if let Some(a) = &auth {
        args.extend(["-H", a.as_str()]);
    }
    args.push(url);
    let (s, _, b) = curl(&args);
    (s, json(&b))
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_the_api_over_tls_with_uploads_downloads_and_live_events() {
    let srv = Server::start_with(Options::new(Backend::Sqlite).env("CHAT_RATE_LIMIT", "0")).await;
    let upstream = srv.base.trim_start_matches("http://").to_owned();
    let ngx = Nginx::start(&upstream);

    // The certificate the entrypoint generated is what nginx presents.
    let pem = std::fs::read_to_string(ngx.dir.path().join("tls/tls.crt")).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let cert = ngx.dir.path().join("tls/tls.crt");
    let (s, _, _) = curl(&["--cacert", cert.to_str().unwrap(), &ngx.url("/api/health")]);
    assert_eq!(s, 200, "TLS with the generated certificate");

    // Plain HTTP redirects to HTTPS.
    let (s, head, _) = curl(&[&format!("http://127.0.0.1:{}/api/health?x=1", ngx.http)]);
    assert_eq!(s, 308);
    assert_eq!(
        header(&head, "location"),
        Some(format!("https://127.0.0.1:{}/api/health?x=1", ngx.https).as_str())
    );

    // Security headers on pages and API answers.
    let (s, head, body) = curl(&[&ngx.url("/")]);
    assert_eq!(s, 200, "dashboard through nginx");
    assert!(String::from_utf8_lossy(&body).contains("<html"), "a page");
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&head, "x-frame-options"), Some("DENY"));
    assert!(header(&head, "strict-transport-security").is_some());
    assert_eq!(header(&head, "server"), Some("nginx"), "no version shown");

    // Register and log in through the proxy.
    let creds = format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#);
    let (s, b) = post_json(&ngx.url("/api/auth/register"), None, &creds);
    assert_eq!(s, 201, "{b}");
    let (s, b) = post_json(&ngx.url("/api/auth/login"), None, &creds);
    assert_eq!(s, 200, "{b}");
    let token = b["token"].as_str().unwrap().to_owned();
    let auth = format!("Authorization: Bearer {token}");

    // The event stream, through nginx, read as it arrives.
    let mut sse = Command::new("curl")
        .args(["-sS", "-k", "-N", "-H", &auth, &ngx.url("/api/events")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    let stdout = sse.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    // Until the stream is open, a posted message would not be on it: wait for the upstream
    // connection (the hub counts streams).
    srv.wait_event_streams(&token, 1, Duration::from_secs(10))
        .await;
    let next_event = |name: &str, within: Duration| -> (Instant, Value) {
        let deadline = Instant::now() + within;
        let mut wanted = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, line) = rx
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no {name} event through nginx within {within:?}"));
            if let Some(ev) = line.strip_prefix("event: ") {
                wanted = ev == name;
            } else if let (true, Some(data)) = (wanted, line.strip_prefix("data: ")) {
                return (at, serde_json::from_str(data).unwrap());
            }
        }
    };
    for i in 0..3 {
        let sent = Instant::now();
        let (s, b) = post_json(
            &ngx.url("/api/chat"),
            Some(&token),
            &format!(r#"{{"body":"through nginx {i}"}}"#),
        );
        assert_eq!(s, 201, "{b}");
        let (at, data) = next_event("chat:message", Duration::from_secs(5));
        assert_eq!(data["body"], format!("through nginx {i}"));
        assert!(
            at.duration_since(sent) < Duration::from_secs(2),
            "event {i} took {:?}: buffered by the proxy?",
            at.duration_since(sent)
        );
        assert!(sse.try_wait().unwrap().is_none(), "the stream stays open");
    }

    // Upload a .torrent (multipart) through nginx; its event arrives live too.
    let dir = tempfile::tempdir().unwrap();
    let (bytes, ih) = dummy_torrent(7);
    let file = dir.path().join("a.torrent");
    std::fs::write(&file, &bytes).unwrap();
    let part = format!("torrent=@{};type=application/x-bittorrent", file.display());
    let (s, _, b) = curl(&[
        "-H",
        &auth,
        "-F",
        &part,
        "-F",
        "paused=true",
        &ngx.url("/api/torrents"),
    ]);
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&b));
    assert_eq!(json(&b)["infoHash"], ih.as_str());
    let (_, added) = next_event("torrent:added", Duration::from_secs(5));
    assert_eq!(added["infoHash"], ih.as_str());

    // Create a torrent from uploaded data and download its .torrent through nginx.
    let data = dir.path().join("made.bin");
    write_random(&data, 3 << 20, 11);
    let files = format!("files=@{}", data.display());
    let (s, head, torrent) = curl(&["-H", &auth, "-F", &files, &ngx.url("/api/torrents/create")]);
    assert!(
        s == 200 || s == 201,
        "create: {s} {}",
        String::from_utf8_lossy(&torrent)
    );
    assert_eq!(
        header(&head, "content-type"),
        Some("application/x-bittorrent")
    );
    let meta = engine::metainfo::Metainfo::from_bytes(&torrent).expect("a valid .torrent");
    let made = meta.info_hash.to_hex();
    let (s, _, b) = curl(&["-H", &auth, &ngx.url(&format!("/api/torrents/{made}"))]);
    assert_eq!(s, 200);
    assert_eq!(json(&b)["name"], "made.bin");

    // Over the API's limit for .torrent uploads: refused by nginx before the server.
    let big = dir.path().join("big.torrent");
    write_random(&big, 10 << 20, 3);
    let part = format!("torrent=@{}", big.display());
    let (s, _, _) = curl(&["-H", &auth, "-F", &part, &ngx.url("/api/torrents")]);
    assert_eq!(s, 413);

    assert!(
        sse.try_wait().unwrap().is_none(),
        "the stream is still open"
    );
    let _ = sse.kill();
    let _ = sse.wait();
}
