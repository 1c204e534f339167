//! The torrent's own rate limits, editable in KiB/s (0 or empty = unlimited); the server's
//! limits apply as well.

use leptos::prelude::*;

use crate::actions;
use crate::format;
use crate::live::use_live;
use crate::types::TorrentSummary;

#[component]
pub fn LimitsEditor(row: RwSignal<TorrentSummary>) -> impl IntoView {
    let live = use_live();
    let hash = row.with_untracked(|t| t.info_hash.clone());
    let down = RwSignal::new(row.with_untracked(|t| format::kib(t.download_limit)));
    let up = RwSignal::new(row.with_untracked(|t| format::kib(t.upload_limit)));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = format::parse_kib(&down.get_untracked());
        let u = format::parse_kib(&up.get_untracked());
        match (d, u) {
            (Some(d), Some(u)) => actions::set_limits(live, hash.clone(), d, u),
            _ => live.toast("Limits are whole KiB/s (0 = unlimited)", true),
        }
    };
    view! {
        <form class="row limits-editor" id="limits-editor" on:submit=save>
            <span id="limits-now">
                {move || row.with(|t| format!(
                    "Limits: ↓ {}, ↑ {}",
                    format::limit(t.download_limit),
                    format::limit(t.upload_limit),
                ))}
            </span>
            <label>
                "Download KiB/s "
                <input
                    id="limit-down"
                    type="number"
                    min="0"
                    placeholder="unlimited"
                    value=down.get_untracked()
                    prop:value=move || down.get()
                    on:input=move |ev| down.set(event_target_value(&ev))
                />
            </label>
            <label>
                "Upload KiB/s "
                <input
                    id="limit-up"
                    type="number"
                    min="0"
                    placeholder="unlimited"
                    value=up.get_untracked()
                    prop:value=move || up.get()
                    on:input=move |ev| up.set(event_target_value(&ev))
                />
            </label>
            <button type="submit" id="save-limits">"Save limits"</button>
        </form>
    }
}
