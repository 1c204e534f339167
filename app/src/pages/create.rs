//! Create a torrent from uploaded files or from a path in the user's folder; download the
//! `.torrent` and seed it.

use leptos::prelude::*;

use crate::live::use_live;
#[cfg(feature = "hydrate")]
use crate::pages::detail::{http_link, magnet_link};

/// Piece sizes offered; empty is automatic.
const PIECE_SIZES: [(&str, &str); 9] = [
    ("", "Automatic"),
    ("16384", "16 KiB"),
    ("65536", "64 KiB"),
    ("262144", "256 KiB"),
    ("524288", "512 KiB"),
    ("1048576", "1 MiB"),
    ("2097152", "2 MiB"),
    ("4194304", "4 MiB"),
    ("16777216", "16 MiB"),
];

/// What a finished creation offers.
#[derive(Clone, PartialEq)]
struct Created {
    /// `blob:` URL of the .torrent file.
    url: String,
    file_name: String,
    info_hash: String,
    magnet: String,
    /// The file over plain HTTP from this server's web seed (single-file torrents).
    http: Option<String>,
}

#[component]
pub fn CreatePage() -> impl IntoView {
    let live = use_live();
    let from_server = RwSignal::new(false);
    let path = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let trackers = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let piece_length = RwSignal::new(String::new());
    let private = RwSignal::new(false);
    let web_seed = RwSignal::new(true);
    let own_tracker = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<Created>);
    let files_ref = NodeRef::<leptos::html::Input>::new();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        #[cfg(feature = "hydrate")]
        {
            let Ok(form) = web_sys::FormData::new() else {
                error.set(Some("This browser cannot build a form.".into()));
                return;
            };
            if from_server.get_untracked() {
                let p = path.get_untracked();
                if p.trim().is_empty() {
                    error.set(Some("Give a path inside your folder.".into()));
                    return;
                }
                let _ = form.append_with_str("path", p.trim());
            } else {
                let files = files_ref.get_untracked().and_then(|i| i.files());
                let n = files.as_ref().map_or(0, |f| f.length());
                if n == 0 {
                    error.set(Some("Choose at least one file.".into()));
                    return;
                }
                if let Some(files) = files {
                    for f in (0..n).filter_map(|i| files.get(i)) {
                        let _ = form.append_with_blob_and_filename("files", &f, &f.name());
                    }
                }
                let n = name.get_untracked();
                if !n.trim().is_empty() {
                    let _ = form.append_with_str("name", n.trim());
                }
            }
            let _ = form.append_with_str("trackers", &trackers.get_untracked());
            let c = comment.get_untracked();
            if !c.trim().is_empty() {
                let _ = form.append_with_str("comment", c.trim());
            }
            let pl = piece_length.get_untracked();
            if !pl.is_empty() {
                let _ = form.append_with_str("pieceLength", &pl);
            }
            let _ = form.append_with_str(
                "private",
                if private.get_untracked() {
                    "true"
                } else {
                    "false"
                },
            );
            if web_seed.get_untracked() {
                let _ = form.append_with_str("webSeed", "true");
            }
            if own_tracker.get_untracked() {
                let _ = form.append_with_str("builtInTracker", "true");
            }
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result =
                    crate::client::browser::post_form_file("/api/torrents/create".into(), form)
                        .await;
                busy.set(false);
                match result {
                    Ok((blob, headers)) => {
                        let info_hash = headers.get("x-info-hash").unwrap_or_default();
                        let file_name = headers
                            .get("content-disposition")
                            .and_then(|d| {
                                d.split("filename=\"")
                                    .nth(1)
                                    .map(|s| s.trim_end_matches('"').to_owned())
                            })
                            .unwrap_or_else(|| "created.torrent".into());
                        let url =
                            web_sys::Url::create_object_url_with_blob(&blob).unwrap_or_default();
                        // The new torrent in the store now, whatever the event stream is doing.
                        let api = format!("/api/torrents/{info_hash}");
                        let detail: Option<crate::types::TorrentDetail> =
                            crate::client::get(api).await.ok();
                        if let Some(d) = &detail {
                            live.torrents.upsert(d.summary.clone());
                        }
                        live.toast(format!("Created {file_name}; seeding"), false);
                        let origin = web_sys::window()
                            .and_then(|w| w.location().origin().ok())
                            .unwrap_or_default();
                        created.set(Some(Created {
                            url,
                            file_name,
                            info_hash,
                            magnet: detail.as_ref().map(magnet_link).unwrap_or_default(),
                            http: detail.as_ref().and_then(http_link).map(|l| {
                                if l.starts_with('/') {
                                    format!("{origin}{l}")
                                } else {
                                    l
                                }
                            }),
                        }));
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (
            live,
            from_server,
            path,
            name,
            trackers,
            comment,
            piece_length,
            private,
            web_seed,
            own_tracker,
            files_ref,
            busy,
            created,
        );
    };

    view! {
        <h1 class="page-title">"Create a torrent"</h1>
        <section class="card">
            <form class="grid-form" id="create-form" on:submit=submit>
                <fieldset class="span">
                    <legend>"Content"</legend>
                    <label class="check">
                        <input
                            type="radio"
                            name="source"
                            checked=move || !from_server.get()
                            on:change=move |_| from_server.set(false)
                        />
                        " Upload files"
                    </label>
                    <label class="check">
                        <input
                            type="radio"
                            name="source"
                            checked=move || from_server.get()
                            on:change=move |_| from_server.set(true)
                        />
                        " A file or folder already on the server"
                    </label>
                </fieldset>
                <Show
                    when=move || from_server.get()
                    fallback=move || view! {
                        <label for="create-files">"Files"</label>
                        <input id="create-files" type="file" multiple node_ref=files_ref />
                        <label for="create-name">"Name (for several files: the folder name)"</label>
                        <input id="create-name" type="text" placeholder="from the file" bind:value=name />
                    }
                >
                    <label for="create-path">"Path inside your download folder"</label>
                    <input id="create-path" type="text" placeholder="my-folder/file.iso" bind:value=path />
                </Show>
                <label for="create-trackers">"Trackers (one URL per line)"</label>
                <textarea
                    id="create-trackers"
                    rows="3"
                    placeholder="udp://tracker.example:6969/announce"
                    prop:value=move || trackers.get()
                    on:input=move |ev| trackers.set(event_target_value(&ev))
                ></textarea>
                <label for="create-piece">"Piece size"</label>
                <select id="create-piece" on:change=move |ev| piece_length.set(event_target_value(&ev))>
                    {PIECE_SIZES
                        .into_iter()
                        .map(|(v, l)| view! { <option value=v>{l}</option> })
                        .collect_view()}
                </select>
                <label for="create-comment">"Comment"</label>
                <input id="create-comment" type="text" bind:value=comment />
                <label class="check span" for="create-private">
                    <input id="create-private" type="checkbox" bind:checked=private />
                    " Private (trackers only: no DHT, no peer exchange)"
                </label>
                <label class="check span" for="create-web-seed">
                    <input id="create-web-seed" type="checkbox" bind:checked=web_seed />
                    " Serve it over HTTP from this server too (web seed: downloads work with no peer online)"
                </label>
                <label class="check span" for="create-own-tracker">
                    <input id="create-own-tracker" type="checkbox" bind:checked=own_tracker />
                    " Announce to this server's built-in tracker (serve --tracker)"
                </label>
                <div class="span">
                    <button type="submit" id="create-submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Creating…" } else { "Create and seed" }}
                    </button>
                </div>
            </form>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert" id="create-error">{move || error.get()}</p>
            </Show>
            {move || created.get().map(|c| view! {
                <div class="created" id="created" role="status">
                    <p>"Created and seeding."</p>
                    <a class="button" href=c.url download=c.file_name.clone()>
                        {format!("Download {}", c.file_name)}
                    </a>
                    " "
                    <a href=format!("/torrents/{}", c.info_hash)>"Open the torrent"</a>
                    <label for="created-magnet">"Magnet link"</label>
                    <input id="created-magnet" readonly=true value=c.magnet.clone() />
                    {c.http.clone().map(|h| view! {
                        <label for="created-http">"Plain HTTP link"</label>
                        <input id="created-http" readonly=true value=h />
                    })}
                </div>
            })}
        </section>
    }
}
