//! A real qBittorrent (`qbittorrent-nox` 4.5, Debian) for the API tests: DHT, LSD, PEX and
//! UPnP off and bound to 127.0.0.1 (its live preferences are checked), driven through its
//! Web API.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lt::free_port;

/// A real qBittorrent (`qbittorrent-nox` 4.5) on loopback: DHT, LSD, PEX and UPnP off (its
/// live preferences are checked), driven through its Web API.
pub struct Qbt {
    /// Its peer port.
    pub port: u16,
    child: Child,
    web: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Qbt {
    pub async fn start() -> Qbt {
        Qbt::start_with("").await
    }

    /// With `session` added to the `[BitTorrent]` section (`Session\Encryption=1`, ...).
    pub async fn start_with(session: &str) -> Qbt {
        let profile = tempfile::tempdir().unwrap();
        let conf = profile.path().join("qBittorrent/config");
        std::fs::create_dir_all(&conf).unwrap();
        let (port, web) = (free_port(), free_port());
        std::fs::write(
            conf.join("qBittorrent.conf"),
            format!(
                "[LegalNotice]\nAccepted=true\n\n[BitTorrent]\nSession\\DHTEnabled=false\n\
                 Session\\LSDEnabled=false\nSession\\PeXEnabled=false\nSession\\Port={port}\n\
                 Session\\Interface=lo\nSession\\InterfaceName=lo\n\
                 Session\\InterfaceAddress=127.0.0.1\nSession\\MultiConnectionsPerIp=true\n\
                 Session\\QueueingSystemEnabled=false\n{session}\n[Preferences]\nConnection\\UPnP=false\n\
                 WebUI\\Address=127.0.0.1\nWebUI\\Port={web}\nWebUI\\LocalHostAuth=false\n\
                 WebUI\\CSRFProtection=false\nWebUI\\HostHeaderValidation=false\n"
            ),
        )
        .unwrap();
        let child = Command::new("qbittorrent-nox")
            .arg(format!("--profile={}", profile.path().display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("qbittorrent-nox (Debian package qbittorrent-nox)");
        let q = Qbt {
            port,
            child,
            web: format!("http://127.0.0.1:{web}"),
            http: reqwest::Client::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let prefs: Value = loop {
            if let Ok(r) = q.http.get(q.url("/api/v2/app/preferences")).send().await {
                if let Ok(v) = r.json().await {
                    break v;
                }
            }
            assert!(Instant::now() < deadline, "qbittorrent-nox did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        for k in ["dht", "lsd", "pex", "upnp"] {
            assert_eq!(prefs[k], false, "qBittorrent {k} must be off: {prefs}");
        }
        assert_eq!(prefs["current_interface_address"], "127.0.0.1", "{prefs}");
        q
    }

    pub async fn prefs(&self) -> Value {
        let r = self.http.get(self.url("/api/v2/app/preferences")).send();
        r.await.unwrap().json().await.unwrap()
    }

    /// qBittorrent's own log (`<profile>/qBittorrent/data/logs/qbittorrent.log`), for failure
    /// messages: it says which peers it tried and why a connection ended.
    pub fn log(&self) -> String {
        let path = self
            ._profile
            .path()
            .join("qBittorrent/data/logs/qbittorrent.log");
        std::fs::read_to_string(&path).unwrap_or_else(|e| format!("({}: {e})", path.display()))
    }

    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.web)
    }

    pub async fn add(&self, torrent: &[u8], save: &Path) {
        let form = reqwest::multipart::Form::new()
            .part(
                "torrents",
                reqwest::multipart::Part::bytes(torrent.to_vec()).file_name("t.torrent"),
            )
            .text("savepath", save.display().to_string());
        let r = self
            .http
            .post(self.url("/api/v2/torrents/add"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "qBittorrent add: {}", r.status());
    }

    /// Tells qBittorrent about `peer` for the torrent `ih` (already added): repeats
    /// `addPeers` only until qBittorrent says it took the peer (it refuses peers for a torrent
    /// it has not finished adding), then never again. qBittorrent tries uTP first and falls
    /// back to TCP about 3 s later against a peer that does not answer uTP; with an
    /// `addPeers` every second its peer list showed only uTP attempts and it never connected.
    pub async fn add_peer(&self, ih: &str, peer: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self
                .http
                .post(self.url("/api/v2/torrents/addPeers"))
                .form(&[("hashes", ih), ("peers", peer)])
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            if status.is_success() && body[ih]["added"].as_u64().unwrap_or(0) >= 1 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "qBittorrent never took peer {peer} for {ih}: {status} {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until qBittorrent holds every byte of every torrent; panics after `secs`.
    pub async fn wait_done(&self, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let info: Value = self
                .http
                .get(self.url("/api/v2/torrents/info"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let all = info.as_array().is_some_and(|a| {
                !a.is_empty() && a.iter().all(|t| t["progress"].as_f64() == Some(1.0))
            });
            if all {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "qBittorrent never completed: {info}\n--- its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

impl Drop for Qbt {
    fn drop(&mut self) {
        crate::lt::stop(&mut self.child);
    }
}
