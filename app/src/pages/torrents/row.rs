//! One row of the torrent list, and the remove confirmation.

use leptos::prelude::*;

use crate::actions::{self, Action};
use crate::components::{ProgressBar, StateBadge};
use crate::format;
use crate::live::use_live;
use crate::types::{Priority, TorrentSummary};

/// Every field reads its own slice of the row's signal, so an update touches a few text
/// nodes.
#[component]
pub fn TorrentRow(
    row: RwSignal<TorrentSummary>,
    remove: RwSignal<Option<(String, String)>>,
) -> impl IntoView {
    let live = use_live();
    let (hash, name) = row.with_untracked(|t| (t.info_hash.clone(), t.name.clone()));
    let field = move |f: fn(&TorrentSummary) -> String| move || row.with(f);
    let state = move || row.with(|t| t.state);
    let progress = move || row.with(|t| t.progress);
    let toggle_hash = hash.clone();
    let prio_hash = hash.clone();
    let remove_hash = hash.clone();
    view! {
        <tr class="torrent" data-hash=hash.clone()>
            <th scope="row" class="name">
                <a href=format!("/torrents/{hash}") title=name.clone()>
                    {move || row.with(|t| t.name.clone())}
                </a>
                <Show when=move || row.with(|t| t.category.is_some() || !t.tags.is_empty())>
                    <span class="labels small muted">{move || row.with(labels_text)}</span>
                </Show>
                <Show when=move || row.with(|t| t.error.is_some())>
                    <span class="error small">{move || row.with(|t| t.error.clone())}</span>
                </Show>
            </th>
            <td class="num" data-label="Size">{field(|t| format::bytes(t.total_bytes))}</td>
            <td data-label="Progress">
                <ProgressBar fraction=progress label=format!("{name} progress") />
            </td>
            <td data-label="State">
                <StateBadge state />
            </td>
            <td class="num down" data-label="Down">{field(|t| format::rate(t.download_rate))}</td>
            <td class="num up" data-label="Up">{field(|t| format::rate(t.upload_rate))}</td>
            <td class="num" data-label="Peers">{field(|t| format!("{} ({})", t.peers, t.seeds))}</td>
            <td class="num" data-label="Ratio">{field(|t| format::ratio(t.ratio))}</td>
            <td class="num" data-label="ETA">
                {field(|t| if t.progress >= 1.0 { "–".into() } else { format::eta(t.eta_secs) })}
            </td>
            <td data-label="Priority">
                <PrioritySelect
                    value=move || row.with(|t| t.priority)
                    label=format!("Priority of {name}")
                    on_change=move |p| actions::run(live, prio_hash.clone(), Action::Priority(p))
                />
            </td>
            <td class="actions" data-label="Actions">
                <button
                    type="button"
                    class="small toggle"
                    aria-label=move || {
                        let verb = if state() == crate::types::TorrentState::Paused { "Resume" } else { "Pause" };
                        format!("{verb} {}", row.with(|t| t.name.clone()))
                    }
                    on:click=move |_| actions::run(live, toggle_hash.clone(), actions::toggle_for(row.with_untracked(|t| t.state)))
                >
                    {move || if state() == crate::types::TorrentState::Paused { "Resume" } else { "Pause" }}
                </button>
                <button
                    type="button"
                    class="small danger"
                    aria-label=move || format!("Remove {}", row.with(|t| t.name.clone()))
                    on:click=move |_| remove.set(Some((remove_hash.clone(), row.with_untracked(|t| t.name.clone()))))
                >
                    "Remove"
                </button>
            </td>
        </tr>
    }
}

#[component]
pub fn PrioritySelect(
    value: impl Fn() -> Priority + Copy + Send + Sync + 'static,
    label: String,
    on_change: impl Fn(Priority) + 'static,
) -> impl IntoView {
    view! {
        <select
            class="priority"
            aria-label=label
            on:change=move |ev| {
                if let Some(p) = Priority::parse(&event_target_value(&ev)) {
                    on_change(p);
                }
            }
        >
            {[Priority::High, Priority::Normal, Priority::Low]
                .into_iter()
                .map(|p| {
                    view! {
                        <option value=p.as_str() selected=move || value() == p>
                            {match p {
                                Priority::High => "High",
                                Priority::Normal => "Normal",
                                Priority::Low => "Low",
                            }}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// Asks before removing; "delete files" is off unless ticked.
#[component]
pub fn RemoveDialog(target: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let live = use_live();
    let delete_files = RwSignal::new(false);
    let confirm = move |_| {
        if let Some((hash, _)) = target.get_untracked() {
            actions::run(
                live,
                hash,
                Action::Remove {
                    delete_files: delete_files.get_untracked(),
                },
            );
        }
        target.set(None);
        delete_files.set(false);
    };
    view! {
        <Show when=move || target.with(Option::is_some)>
            <div class="modal-backdrop">
                <div class="modal card" role="dialog" aria-modal="true" aria-labelledby="remove-title" id="remove-dialog">
                    <h2 id="remove-title">"Remove torrent?"</h2>
                    <p>{move || target.get().map(|(_, name)| name)}</p>
                    <label class="check">
                        <input type="checkbox" id="delete-files" bind:checked=delete_files />
                        " Also delete the downloaded files"
                    </label>
                    <div class="row-end">
                        <button type="button" class="ghost" on:click=move |_| target.set(None)>
                            "Cancel"
                        </button>
                        <button type="button" class="danger" id="confirm-remove" on:click=confirm>
                            "Remove"
                        </button>
                    </div>
                </div>
            </div>
        </Show>
    }
}

/// "category · #tag #tag" for the name cell.
pub fn labels_text(t: &TorrentSummary) -> String {
    let tags = t
        .tags
        .iter()
        .map(|x| format!("#{x}"))
        .collect::<Vec<_>>()
        .join(" ");
    match (&t.category, tags.is_empty()) {
        (Some(c), true) => c.clone(),
        (Some(c), false) => format!("{c} · {tags}"),
        (None, _) => tags,
    }
}
