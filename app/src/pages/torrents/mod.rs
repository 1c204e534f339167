//! The torrent list: filter, sort, add, and act on torrents.

mod add;
mod row;
mod view;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::WithTorrents;
use crate::live::use_live;
use crate::types::TorrentState;
pub use row::PrioritySelect;
use row::{RemoveDialog, TorrentRow};
pub use view::{ListView, SortKey, StateFilter};

/// How often a list sorted by a changing value (rate, progress) re-sorts.
#[cfg(feature = "hydrate")]
const RESORT: std::time::Duration = std::time::Duration::from_secs(1);

#[component]
pub fn TorrentsPage() -> impl IntoView {
    view! {
        <div class="row-between">
            <h1 class="page-title">"Torrents"</h1>
        </div>
        <add::AddPanel />
        <WithTorrents>
            <TorrentTable />
        </WithTorrents>
    }
}

#[component]
fn TorrentTable() -> impl IntoView {
    let live = use_live();
    let query = use_query_map();
    let navigate = use_navigate();
    // A local signal seeded from the URL, not a memo of the router's query: effects of a page
    // being navigated away from must not re-run on the router's new location (they would read
    // this page's disposed values).
    let list_view = RwSignal::new(query.with_untracked(|q| {
        ListView::from_query(q.get("q"), q.get("state"), q.get("sort"), q.get("dir"))
            .with_labels(q.get("category"), q.get("tag"))
    }));
    let set_view = move |v: ListView| {
        list_view.set(v.clone());
        navigate(
            &format!("/torrents{}", v.to_query()),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        )
    };
    // Re-sort ticks: a list sorted by a live value re-sorts every second instead of on every
    // progress event (hundreds per second with many torrents); rows update in place anyway.
    let tick = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    if let Ok(h) = set_interval_with_handle(
        move || {
            if list_view.with_untracked(|v| v.sort.is_live() || v.state != StateFilter::All) {
                tick.update(|t| *t += 1);
            }
        },
        RESORT,
    ) {
        on_cleanup(move || h.clear());
    }
    let visible = Memo::new(move |_| {
        tick.track();
        let v = list_view.get();
        let rows = live.torrents.all();
        let snapshot: Vec<_> = rows.iter().map(|r| r.get_untracked()).collect();
        let mut shown: Vec<_> = snapshot.iter().filter(|t| v.matches(t)).collect();
        v.sort(&mut shown);
        shown
            .into_iter()
            .map(|t| t.info_hash.clone())
            .collect::<Vec<_>>()
    });
    let remove = RwSignal::new(None::<(String, String)>);

    // The categories and tags of the listed torrents, for the filters.
    let labels = Memo::new(move |_| {
        let mut cats = std::collections::BTreeSet::new();
        let mut tags = std::collections::BTreeSet::new();
        for row in live.torrents.all() {
            row.with(|t| {
                cats.extend(t.category.clone());
                tags.extend(t.tags.iter().cloned());
            });
        }
        (
            cats.into_iter().collect::<Vec<_>>(),
            tags.into_iter().collect::<Vec<_>>(),
        )
    });
    let set_view_category = set_view.clone();
    let set_view_tag = set_view.clone();
    let set_view_text = set_view.clone();
    let set_view_state = set_view.clone();
    let set_view_sort = set_view.clone();
    let header = move |key: SortKey, label: &'static str| {
        let set_view = set_view.clone();
        let sorted = move || list_view.with(|v| v.sort == key);
        view! {
            <th
                scope="col"
                aria-sort=move || {
                    if !sorted() {
                        "none"
                    } else if list_view.with(|v| v.desc) {
                        "descending"
                    } else {
                        "ascending"
                    }
                }
            >
                <button
                    type="button"
                    class="th-sort"
                    on:click=move |_| {
                        let mut v = list_view.get_untracked();
                        v.desc = if v.sort == key { !v.desc } else { key.is_live() };
                        v.sort = key;
                        set_view(v);
                    }
                >
                    {label}
                    <span aria-hidden="true">
                        {move || match (sorted(), list_view.with(|v| v.desc)) {
                            (false, _) => "",
                            (true, false) => " ▲",
                            (true, true) => " ▼",
                        }}
                    </span>
                </button>
            </th>
        }
    };

    view! {
        <form class="toolbar" method="get" action="/torrents" on:submit=|ev| ev.prevent_default()>
            <label class="sr-only" for="filter-text">"Filter by name"</label>
            <input
                id="filter-text"
                name="q"
                type="search"
                placeholder="Filter by name or info-hash"
                prop:value=move || list_view.with(|v| v.text.clone())
                on:input=move |ev| {
                    let mut v = list_view.get_untracked();
                    v.text = event_target_value(&ev);
                    set_view_text(v);
                }
            />
            <label class="sr-only" for="filter-state">"Filter by state"</label>
            <select
                id="filter-state"
                name="state"
                on:change=move |ev| {
                    let mut v = list_view.get_untracked();
                    v.state = StateFilter::parse(&event_target_value(&ev));
                    set_view_state(v);
                }
            >
                {[("", "All states"), ("active", "Active"), ("completed", "Completed")]
                    .into_iter()
                    .chain(
                        TorrentState::ALL
                            .iter()
                            .map(|s| (s.as_str(), crate::components::state_label(*s))),
                    )
                    .map(|(value, label)| {
                        view! {
                            <option
                                value=value
                                selected=move || list_view.with(|v| v.state.as_str() == value)
                            >
                                {label}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <label class="sr-only" for="filter-category">"Filter by category"</label>
            <select
                id="filter-category"
                name="category"
                on:change=move |ev| {
                    let v = list_view.get_untracked();
                    let tag = v.tag.clone();
                    set_view_category(v.with_labels(Some(event_target_value(&ev)), tag));
                }
            >
                <option value="*" selected=move || list_view.with(|v| v.category.is_none())>
                    "All categories"
                </option>
                <option value="" selected=move || list_view.with(|v| v.category.as_deref() == Some(""))>
                    "No category"
                </option>
                {move || {
                    labels
                        .get()
                        .0
                        .into_iter()
                        .map(|c| {
                            let (selected, value) = (c.clone(), c.clone());
                            view! {
                                <option
                                    value=value
                                    selected=move || list_view.with(|v| v.category.as_deref() == Some(selected.as_str()))
                                >
                                    {c}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            <label class="sr-only" for="filter-tag">"Filter by tag"</label>
            <select
                id="filter-tag"
                name="tag"
                on:change=move |ev| {
                    let v = list_view.get_untracked();
                    let category = v.category.clone();
                    set_view_tag(v.with_labels(category, Some(event_target_value(&ev))));
                }
            >
                <option value="*" selected=move || list_view.with(|v| v.tag.is_none())>
                    "All tags"
                </option>
                <option value="" selected=move || list_view.with(|v| v.tag.as_deref() == Some(""))>
                    "Untagged"
                </option>
                {move || {
                    labels
                        .get()
                        .1
                        .into_iter()
                        .map(|t| {
                            let (selected, value, label) = (t.clone(), t.clone(), format!("#{t}"));
                            view! {
                                <option
                                    value=value
                                    selected=move || list_view.with(|v| v.tag.as_deref() == Some(selected.as_str()))
                                >
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
            <label class="sr-only" for="sort-key">"Sort by"</label>
            <select
                id="sort-key"
                name="sort"
                on:change=move |ev| {
                    let mut v = list_view.get_untracked();
                    if let Some(k) = SortKey::parse(&event_target_value(&ev)) {
                        v.sort = k;
                        set_view_sort(v);
                    }
                }
            >
                {SortKey::ALL
                    .into_iter()
                    .map(|(key, value, label)| {
                        view! {
                            <option value=value selected=move || list_view.with(|v| v.sort == key)>
                                {format!("Sort: {label}")}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <noscript>
                <button type="submit">"Apply"</button>
            </noscript>
            <span class="muted" id="torrent-count">
                {move || {
                    let (shown, all) = (visible.with(Vec::len), live.torrents.len());
                    if shown == all { plural(all) } else { format!("{shown} of {all} torrents") }
                }}
            </span>
        </form>
        <Show
            when=move || !live.torrents.is_empty()
            fallback=|| view! { <p class="empty" id="no-torrents">"No torrents yet. Add one above."</p> }
        >
            <div class="table-wrap">
                <table class="torrents" id="torrent-table">
                    <thead>
                        <tr>
                            {header(SortKey::Name, "Name")}
                            {header(SortKey::Size, "Size")}
                            {header(SortKey::Progress, "Progress")}
                            {header(SortKey::State, "State")}
                            {header(SortKey::Down, "Down")}
                            {header(SortKey::Up, "Up")}
                            {header(SortKey::Peers, "Peers")}
                            {header(SortKey::Ratio, "Ratio")}
                            {header(SortKey::Eta, "ETA")}
                            {header(SortKey::Priority, "Priority")}
                            <th scope="col">"Actions"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || visible.get() key=|id| id.clone() let:id>
                            {live.torrents.row(&id).map(|row| view! { <TorrentRow row remove /> })}
                        </For>
                    </tbody>
                </table>
            </div>
        </Show>
        <RemoveDialog target=remove />
    }
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 torrent".into()
    } else {
        format!("{n} torrents")
    }
}
