//! Folders: the user's watch folders (`.torrent` and `.magnet` files dropped there are
//! added) and shared folders (each file or subfolder seeded where it lies), a form to add
//! either, and each share's items with their state. The list refreshes every two seconds.

use leptos::prelude::*;

use crate::client;
use crate::components::{DataTable, Failure};
use crate::format;
use crate::live::use_live;
use crate::types::{FolderInfo, FolderKind, ShareItem, ShareItemState, ShareMode};

const FOLDER_HEADERS: &[(&str, &str)] = &[("Kind", ""), ("Path", ""), ("Options", ""), ("", "")];
const ITEM_HEADERS: &[(&str, &str)] = &[("Item", ""), ("Size", ""), ("State", ""), ("Magnet", "")];

#[component]
pub fn FoldersPage() -> impl IntoView {
    let version = RwSignal::new(0u64);
    let folders = Resource::new(
        move || version.get(),
        |_| client::get::<Vec<FolderInfo>>("/api/folders".into()),
    );
    let reload = move || version.update(|v| *v += 1);
    #[cfg(feature = "hydrate")]
    if let Ok(h) = set_interval_with_handle(reload, std::time::Duration::from_secs(2)) {
        on_cleanup(move || h.clear());
    }
    view! {
        <h1 class="page-title">"Folders"</h1>
        <FolderForm on_added=reload />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || folders.get().map(|r| match r {
                Ok(list) if list.is_empty() => view! {
                    <p class="muted" id="no-folders">"No watch or shared folders yet."</p>
                }
                .into_any(),
                Ok(list) => view! { <FolderList list on_change=reload /> }.into_any(),
                Err(error) => view! { <Failure error /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn FolderForm(on_added: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let live = use_live();
    let kind = RwSignal::new(FolderKind::Watch);
    let path = RwSignal::new(String::new());
    let save_path = RwSignal::new(String::new());
    let category = RwSignal::new(String::new());
    let paused = RwSignal::new(false);
    let mode = RwSignal::new(ShareMode::Files);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let opt = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_owned()).filter(|s| !s.is_empty())
        };
        let body = crate::types::NewFolder {
            kind: kind.get_untracked(),
            path: path.get_untracked().trim().to_owned(),
            category: opt(category),
            save_path: opt(save_path),
            paused: paused.get_untracked(),
            mode: (kind.get_untracked() == FolderKind::Share).then(|| mode.get_untracked()),
        };
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match client::browser::post::<_, FolderInfo>("/api/folders".into(), &body).await {
                Ok(f) => {
                    live.toast(format!("Folder {} added", f.path), false);
                    path.set(String::new());
                    on_added();
                }
                Err(e) => live.toast(e.message, true),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (body, live, on_added);
    };
    let share = move || kind.get() == FolderKind::Share;
    view! {
        <section class="card">
            <h2>"Add a folder"</h2>
            <form class="grid-form" id="folder-form" on:submit=submit>
                <fieldset class="span">
                    <legend>"Kind"</legend>
                    <label class="check">
                        <input
                            type="radio"
                            name="folder-kind"
                            id="folder-kind-watch"
                            checked=move || !share()
                            on:change=move |_| kind.set(FolderKind::Watch)
                        />
                        " Watch: add the .torrent and .magnet files dropped in it"
                    </label>
                    <label class="check">
                        <input
                            type="radio"
                            name="folder-kind"
                            id="folder-kind-share"
                            checked=share
                            on:change=move |_| kind.set(FolderKind::Share)
                        />
                        " Share: seed what it holds, where it lies"
                    </label>
                </fieldset>
                <label class="span">
                    "Folder on the server "
                    <input
                        id="folder-path"
                        type="text"
                        required=true
                        placeholder="/srv/share/music"
                        prop:value=move || path.get()
                        on:input=move |ev| path.set(event_target_value(&ev))
                    />
                </label>
                <Show
                    when=share
                    fallback=move || view! {
                        <label>
                            "Save to "
                            <input
                                id="folder-save-path"
                                type="text"
                                placeholder="(your download folder)"
                                prop:value=move || save_path.get()
                                on:input=move |ev| save_path.set(event_target_value(&ev))
                            />
                        </label>
                        <label>
                            "Category "
                            <input
                                id="folder-category"
                                type="text"
                                prop:value=move || category.get()
                                on:input=move |ev| category.set(event_target_value(&ev))
                            />
                        </label>
                        <label class="check">
                            <input
                                id="folder-paused"
                                type="checkbox"
                                prop:checked=move || paused.get()
                                on:change=move |ev| paused.set(event_target_checked(&ev))
                            />
                            " Add paused"
                        </label>
                    }
                >
                    <label>
                        "Each "
                        <select
                            id="folder-mode"
                            on:change=move |ev| {
                                mode.set(ShareMode::parse(&event_target_value(&ev)).unwrap_or_default())
                            }
                        >
                            <option value="files" selected=move || mode.get() == ShareMode::Files>
                                "file is a torrent"
                            </option>
                            <option
                                value="subfolders"
                                selected=move || mode.get() == ShareMode::Subfolders
                            >
                                "subfolder is a torrent"
                            </option>
                        </select>
                    </label>
                </Show>
                <button type="submit" id="folder-add">"Add folder"</button>
            </form>
        </section>
    }
}

#[component]
fn FolderList(
    list: Vec<FolderInfo>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let live = use_live();
    let shares: Vec<FolderInfo> = list
        .iter()
        .filter(|f| f.kind == FolderKind::Share)
        .cloned()
        .collect();
    view! {
        <section class="card">
            <h2>"Your folders"</h2>
            <DataTable id="folder-list" class="folders" headers=FOLDER_HEADERS>
                {list
                    .into_iter()
                    .map(|f| {
                        let id = f.id;
                        let remove = move |_| {
                            #[cfg(feature = "hydrate")]
                            leptos::task::spawn_local(async move {
                                match client::browser::delete(format!("/api/folders/{id}")).await {
                                    Ok(()) => {
                                        live.toast("Folder removed", false);
                                        on_change();
                                    }
                                    Err(e) => live.toast(e.message, true),
                                }
                            });
                            #[cfg(not(feature = "hydrate"))]
                            let _ = (id, live, on_change);
                        };
                        view! {
                            <tr class="folder" data-id=id.to_string() data-kind=f.kind.as_str()>
                                <td data-label="Kind">{f.kind.as_str()}</td>
                                <th scope="row" class="mono folder-path">{f.path.clone()}</th>
                                <td data-label="Options">
                                    {options(&f)}
                                    {f.error.clone().map(|e| view! { <span class="error folder-error">" " {e}</span> })}
                                </td>
                                <td>
                                    <button type="button" class="folder-remove" on:click=remove>
                                        "Remove"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </DataTable>
        </section>
        {shares
            .into_iter()
            .map(|f| view! { <ShareItems folder=f /> })
            .collect_view()}
    }
}

fn options(f: &FolderInfo) -> String {
    match f.kind {
        FolderKind::Share => format!(
            "each {} · {} items",
            match f.mode.unwrap_or_default() {
                ShareMode::Files => "file",
                ShareMode::Subfolders => "subfolder",
            },
            f.items.len()
        ),
        FolderKind::Watch => {
            let mut parts = vec![format!(
                "to {}",
                f.save_path.as_deref().unwrap_or("the download folder")
            )];
            if let Some(c) = &f.category {
                parts.push(format!("category {c}"));
            }
            if f.paused {
                parts.push("paused".into());
            }
            parts.join(" · ")
        }
    }
}

#[component]
fn ShareItems(folder: FolderInfo) -> impl IntoView {
    let id = folder.id.to_string();
    view! {
        <section class="card share" data-folder=id>
            <h2>"Shared: " <span class="mono">{folder.path.clone()}</span></h2>
            {if folder.items.is_empty() {
                view! { <p class="muted">"Nothing to share yet."</p> }.into_any()
            } else {
                view! {
                    <DataTable id="share-items" class="share-items" headers=ITEM_HEADERS>
                        {folder.items.into_iter().map(|i| view! { <ItemRow item=i /> }).collect_view()}
                    </DataTable>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn ItemRow(item: ShareItem) -> impl IntoView {
    let state = match item.state {
        ShareItemState::Hashing => format!("hashing {}", format::percent(item.progress)),
        ShareItemState::Seeding => "seeding".to_owned(),
        ShareItemState::Error => format!("error: {}", item.error.clone().unwrap_or_default()),
    };
    view! {
        <tr class="share-item" data-state=item.state.as_str() data-name=item.name.clone()>
            <th scope="row" class="mono">{item.name.clone()}</th>
            <td data-label="Size">{format::bytes(item.size)}</td>
            <td data-label="State" class="item-state">{state}</td>
            <td data-label="Magnet">
                {item.magnet.map(|m| view! { <a class="item-magnet" href=m>"magnet"</a> })}
            </td>
        </tr>
    }
}
