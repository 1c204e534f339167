//! Adding torrents: a magnet link, `.torrent` files chosen or dropped, with options.

use leptos::prelude::*;

use crate::live::use_live;
use crate::types::Priority;

/// Options sent with every added torrent.
#[derive(Clone, Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Options {
    save_path: String,
    peers: String,
    paused: bool,
    priority: Priority,
}

#[component]
pub fn AddPanel() -> impl IntoView {
    let live = use_live();
    let magnet = RwSignal::new(String::new());
    let save_path = RwSignal::new(String::new());
    let peers = RwSignal::new(String::new());
    let paused = RwSignal::new(false);
    let priority = RwSignal::new(Priority::Normal);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let options = move || Options {
        save_path: save_path.get_untracked(),
        peers: peers.get_untracked(),
        paused: paused.get_untracked(),
        priority: priority.get_untracked(),
    };

    #[cfg(not(feature = "hydrate"))]
    let _ = live;
    #[cfg(feature = "hydrate")]
    let send = move |items: Vec<Item>, opts: Options| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let mut failures = Vec::new();
            for item in items {
                match upload(&item, &opts).await {
                    Ok(summary) => {
                        live.toast(format!("Added {}", summary.name), false);
                        live.torrents.upsert(summary);
                        if matches!(item, Item::Magnet(_)) {
                            magnet.set(String::new());
                        }
                    }
                    Err(e) => failures.push(format!("{}: {}", item.label(), e.message)),
                }
            }
            busy.set(false);
            if !failures.is_empty() {
                error.set(Some(failures.join("; ")));
            }
        });
    };

    let on_magnet = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let uri = magnet.get_untracked().trim().to_string();
        if uri.is_empty() {
            error.set(Some("Paste a magnet link first.".into()));
            return;
        }
        #[cfg(feature = "hydrate")]
        send(vec![Item::Magnet(uri)], options());
        #[cfg(not(feature = "hydrate"))]
        let _ = (uri, options());
    };
    let on_files = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(target) = ev.target() else { return };
            let input: web_sys::HtmlInputElement = target.unchecked_into();
            let files = input.files().map(files_of).unwrap_or_default();
            input.set_value("");
            if !files.is_empty() {
                send(files, options());
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        {
            let files = ev
                .data_transfer()
                .and_then(|d| d.files())
                .map(files_of)
                .unwrap_or_default();
            if files.is_empty() {
                error.set(Some("Drop .torrent files here.".into()));
            } else {
                send(files, options());
            }
        }
    };

    view! {
        <section
            class=move || if dragging.get() { "card add dragging" } else { "card add" }
            id="add-panel"
            on:dragover=move |ev: leptos::ev::DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
        >
            <h2>"Add torrents"</h2>
            <form class="add-magnet" on:submit=on_magnet>
                <label for="magnet">"Magnet link"</label>
                <div class="row">
                    <input
                        id="magnet"
                        name="magnetURI"
                        type="text"
                        inputmode="url"
                        placeholder="magnet:?xt=urn:btih:…"
                        bind:value=magnet
                    />
                    <button type="submit" id="add-magnet" disabled=move || busy.get()>
                        "Add magnet"
                    </button>
                </div>
            </form>
            <div class="add-file">
                <label for="torrent-file" class="button">"Choose .torrent files"</label>
                <input
                    id="torrent-file"
                    class="visually-hidden-file"
                    type="file"
                    accept=".torrent,application/x-bittorrent"
                    multiple
                    on:change=on_files
                />
                <span class="muted">" or drop them on this box"</span>
            </div>
            <details class="add-options">
                <summary>"Options"</summary>
                <div class="grid-form">
                    <label for="save-path">"Save in (inside your folder)"</label>
                    <input id="save-path" type="text" placeholder="default" bind:value=save_path />
                    <label for="add-peers">"Connect to peers (host:port, comma separated)"</label>
                    <input id="add-peers" type="text" placeholder="optional" bind:value=peers />
                    <label for="add-priority">"Priority"</label>
                    <select
                        id="add-priority"
                        on:change=move |ev| {
                            if let Some(p) = Priority::parse(&event_target_value(&ev)) {
                                priority.set(p);
                            }
                        }
                    >
                        <option value="high">"High"</option>
                        <option value="normal" selected>"Normal"</option>
                        <option value="low">"Low"</option>
                    </select>
                    <label class="check" for="add-paused">
                        <input id="add-paused" type="checkbox" bind:checked=paused />
                        " Add paused"
                    </label>
                </div>
            </details>
            <Show when=move || busy.get()>
                <p class="muted" role="status">"Adding…"</p>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert" id="add-error">{move || error.get()}</p>
            </Show>
        </section>
    }
}

#[cfg(feature = "hydrate")]
enum Item {
    Magnet(String),
    File(web_sys::File),
}

#[cfg(feature = "hydrate")]
impl Item {
    fn label(&self) -> String {
        match self {
            Item::Magnet(_) => "Magnet link".into(),
            Item::File(f) => f.name(),
        }
    }
}

#[cfg(feature = "hydrate")]
fn files_of(list: web_sys::FileList) -> Vec<Item> {
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(Item::File)
        .collect()
}

/// One `POST /api/torrents` (multipart, which takes both files and magnets).
#[cfg(feature = "hydrate")]
async fn upload(
    item: &Item,
    opts: &Options,
) -> crate::client::ApiResult<crate::types::TorrentSummary> {
    use crate::client::{browser, ApiFailure};
    let form = web_sys::FormData::new().map_err(|_| ApiFailure {
        status: 0,
        error: "browser".into(),
        message: "this browser cannot build a form".into(),
    })?;
    let _ = match item {
        Item::Magnet(uri) => form.append_with_str("magnetURI", uri),
        Item::File(f) => form.append_with_blob_and_filename("torrent", f, &f.name()),
    };
    if !opts.save_path.trim().is_empty() {
        let _ = form.append_with_str("savePath", opts.save_path.trim());
    }
    if !opts.peers.trim().is_empty() {
        let _ = form.append_with_str("peers", opts.peers.trim());
    }
    let _ = form.append_with_str("paused", if opts.paused { "true" } else { "false" });
    let _ = form.append_with_str("priority", opts.priority.as_str());
    browser::post_form("/api/torrents".into(), form).await
}
