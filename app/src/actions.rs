//! What the person can do to a torrent, from the list or the detail page: each call updates
//! the live store with the server's answer at once (the event that follows agrees) and shows
//! a toast when the server says no.

use crate::live::Live;
use crate::types::{Priority, TorrentState};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Priority(Priority),
    Remove { delete_files: bool },
}

/// Pause when it runs, resume when it is paused.
pub fn toggle_for(state: TorrentState) -> Action {
    match state {
        TorrentState::Paused => Action::Resume,
        _ => Action::Pause,
    }
}

/// Puts a torrent in `category` (creating it, with the user's folder as its save path, when
/// it does not exist; empty: none) and gives it `tags` (browser only).
pub fn set_labels(live: Live, info_hash: String, category: String, tags: Vec<String>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::{Category, SetCategory, SetTags, TorrentSummary};
        let category = category.trim().to_owned();
        let base = format!("/api/torrents/{info_hash}");
        let result = async {
            if !category.is_empty() {
                let known: Vec<Category> = browser::send(
                    gloo_net::http::Method::GET,
                    "/api/categories".into(),
                    browser::Body::None,
                )
                .await?;
                if !known.iter().any(|c| c.name == category) {
                    let new = Category {
                        name: category.clone(),
                        save_path: String::new(),
                    };
                    browser::post::<_, Category>("/api/categories".into(), &new).await?;
                }
            }
            let body = SetCategory {
                category: Some(category).filter(|c| !c.is_empty()),
            };
            browser::put::<_, TorrentSummary>(format!("{base}/category"), &body).await?;
            browser::put::<_, TorrentSummary>(format!("{base}/tags"), &SetTags { tags }).await
        }
        .await;
        match result {
            Ok(summary) => {
                live.torrents.upsert(summary);
                live.toast("Labels saved", false);
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, category, tags);
}

/// Sets a torrent's own limits, bytes per second, 0 = unlimited (browser only).
pub fn set_limits(live: Live, info_hash: String, download: u64, upload: u64) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::{TorrentPatch, TorrentSummary};
        let body = TorrentPatch {
            download_limit: Some(download),
            upload_limit: Some(upload),
            ..Default::default()
        };
        let path = format!("/api/torrents/{info_hash}");
        match browser::patch::<_, TorrentSummary>(path, &body).await {
            Ok(summary) => {
                live.torrents.upsert(summary);
                live.toast("Limits saved", false);
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, download, upload);
}

/// Changes the server's speed settings (admins; browser only); `done` gets what the server
/// now has.
pub fn set_speed(
    live: Live,
    patch: crate::types::SettingsPatch,
    done: impl Fn(crate::types::Settings) + 'static,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        match browser::patch::<_, crate::types::Settings>("/api/settings".into(), &patch).await {
            Ok(s) => done(s),
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, patch, done);
}

/// Sends `action` for `info_hash` (browser only; a no-op while rendering on the server).
pub fn run(live: Live, info_hash: String, action: Action) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::{PriorityRequest, TorrentSummary};
        let base = format!("/api/torrents/{info_hash}");
        let result = match action {
            Action::Pause => browser::post::<_, TorrentSummary>(format!("{base}/pause"), &())
                .await
                .map(Some),
            Action::Resume => browser::post::<_, TorrentSummary>(format!("{base}/resume"), &())
                .await
                .map(Some),
            Action::Priority(priority) => browser::put::<_, TorrentSummary>(
                format!("{base}/priority"),
                &PriorityRequest { priority },
            )
            .await
            .map(Some),
            Action::Remove { delete_files } => {
                browser::delete(format!("{base}?deleteFiles={delete_files}"))
                    .await
                    .map(|()| None)
            }
        };
        match result {
            Ok(Some(summary)) => live.torrents.upsert(summary),
            Ok(None) => live.torrents.remove(&info_hash),
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, action);
}

/// Bans `ip` for the session (admins; browser only), then `done`.
pub fn ban(live: Live, ip: String, done: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::{BanInfo, BanRequest};
        let body = BanRequest { ip: ip.clone() };
        match browser::post::<_, Vec<BanInfo>>("/api/bans".into(), &body).await {
            Ok(_) => {
                live.toast(format!("{ip} banned"), false);
                done();
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, ip, done);
}

/// Lifts the ban on `ip` (admins; browser only), then `done`.
pub fn unban(live: Live, ip: String, done: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        match browser::delete(format!("/api/bans/{}", crate::format::url_encode(&ip))).await {
            Ok(()) => {
                live.toast(format!("{ip} unbanned"), false);
                done();
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, ip, done);
}

/// Sets one file's priority (browser only); `done` gets the torrent's detail after it.
pub fn set_file_priority(
    live: Live,
    info_hash: String,
    index: usize,
    priority: crate::types::FilePriority,
    done: impl Fn(crate::types::TorrentDetail) + 'static,
) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::{FilePriorityChange, TorrentDetail};
        let body = [FilePriorityChange { index, priority }];
        let path = format!("/api/torrents/{info_hash}/files");
        match browser::patch::<_, TorrentDetail>(path, &body).await {
            Ok(d) => {
                live.torrents.upsert(d.summary.clone());
                live.toast("File priority saved", false);
                done(d);
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, index, priority, done);
}

/// Changes a torrent's sequential flag and seeding goals (browser only).
pub fn set_goals(live: Live, info_hash: String, patch: crate::types::TorrentPatch) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::TorrentSummary;
        let path = format!("/api/torrents/{info_hash}");
        match browser::patch::<_, TorrentSummary>(path, &patch).await {
            Ok(summary) => {
                live.torrents.upsert(summary);
                live.toast("Seeding goals saved", false);
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, patch);
}

/// Asks for a signed link to stream file `index` without the login (browser only), then
/// `done` with its absolute URL.
pub fn stream_link(live: Live, info_hash: String, index: usize, done: impl Fn(String) + 'static) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        use crate::client::browser;
        use crate::types::StreamLink;
        let path = format!("/api/torrents/{info_hash}/files/{index}/link");
        match browser::post::<_, StreamLink>(path, &serde_json::json!({})).await {
            Ok(link) => {
                let origin = web_sys::window()
                    .and_then(|w| w.location().origin().ok())
                    .unwrap_or_default();
                done(format!("{origin}{}", link.url));
            }
            Err(e) => live.toast(e.message, true),
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, info_hash, index, done);
}
