//! Adding torrents: a magnet link, `.torrent` files chosen or dropped, with options. One
//! chosen `.torrent` of several files first shows its file list (read by the server,
//! `POST /api/torrents/preview`) to pick which files to download.

use leptos::prelude::*;

use crate::format;
use crate::live::use_live;
use crate::types::{Priority, TorrentPreview};

/// Options sent with every added torrent.
#[derive(Clone, Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Options {
    save_path: String,
    peers: String,
    paused: bool,
    priority: Priority,
    /// `onlyFiles` (0-based indices, comma separated), when some files are left out.
    only_files: Option<String>,
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
    // The chosen multi-file .torrent waiting for its file choice, and which files are ticked.
    let preview = RwSignal::new(None::<TorrentPreview>);
    let wanted = RwSignal::new(Vec::<bool>::new());
    #[cfg(feature = "hydrate")]
    let pending = StoredValue::new_local(None::<web_sys::File>);
    let options = move || Options {
        save_path: save_path.get_untracked(),
        peers: peers.get_untracked(),
        paused: paused.get_untracked(),
        priority: priority.get_untracked(),
        only_files: None,
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
            match files.as_slice() {
                [] => {}
                [Item::File(f)] => {
                    let f = f.clone();
                    leptos::task::spawn_local(async move {
                        match preview_of(&f).await {
                            Ok(p) if p.files.len() > 1 => {
                                pending.set_value(Some(f));
                                wanted.set(vec![true; p.files.len()]);
                                preview.set(Some(p));
                            }
                            // One file, or a file the server cannot read (its add says why).
                            _ => send(vec![Item::File(f)], options()),
                        }
                    });
                }
                _ => send(files, options()),
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

    let on_add_selected = move |_| {
        let chosen: Vec<String> = wanted.with_untracked(|w| {
            w.iter()
                .enumerate()
                .filter(|(_, on)| **on)
                .map(|(i, _)| i.to_string())
                .collect()
        });
        if chosen.is_empty() {
            error.set(Some("Tick at least one file.".into()));
            return;
        }
        let all = wanted.with_untracked(|w| w.iter().all(|on| *on));
        let opts = Options {
            only_files: (!all).then(|| chosen.join(",")),
            ..options()
        };
        preview.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(f) = pending.try_update_value(|p| p.take()).flatten() {
            send(vec![Item::File(f)], opts);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = opts;
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
            <Show when=move || preview.with(Option::is_some)>
                <div class="add-file-list" id="add-file-list" role="group" aria-label="Files to download">
                    <p>
                        <strong>{move || preview.with(|p| p.as_ref().map(|p| p.name.clone()))}</strong>
                        " — choose the files to download"
                    </p>
                    {move || {
                        preview
                            .get()
                            .map(|p| {
                                p.files
                                    .into_iter()
                                    .map(|f| {
                                        let i = f.index;
                                        view! {
                                            <label class="check">
                                                <input
                                                    type="checkbox"
                                                    id=format!("add-file-{i}")
                                                    prop:checked=move || wanted.with(|w| w.get(i).copied().unwrap_or(true))
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        wanted.update(|w| {
                                                            if let Some(x) = w.get_mut(i) {
                                                                *x = on;
                                                            }
                                                        });
                                                    }
                                                />
                                                " " {f.path} " (" {format::bytes(f.length)} ")"
                                            </label>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                    <div class="row">
                        <button type="button" id="add-selected" on:click=on_add_selected>
                            "Add selected files"
                        </button>
                        <button type="button" class="ghost" on:click=move |_| preview.set(None)>
                            "Cancel"
                        </button>
                    </div>
                </div>
            </Show>
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
    if let Some(only) = &opts.only_files {
        let _ = form.append_with_str("onlyFiles", only);
    }
    browser::post_form("/api/torrents".into(), form).await
}

/// The file list of a `.torrent` (the server parses it; nothing is added).
#[cfg(feature = "hydrate")]
async fn preview_of(f: &web_sys::File) -> crate::client::ApiResult<TorrentPreview> {
    use crate::client::{browser, ApiFailure};
    let form = web_sys::FormData::new().map_err(|_| ApiFailure {
        status: 0,
        error: "browser".into(),
        message: "this browser cannot build a form".into(),
    })?;
    let _ = form.append_with_blob_and_filename("torrent", f, &f.name());
    browser::post_form("/api/torrents/preview".into(), form).await
}
