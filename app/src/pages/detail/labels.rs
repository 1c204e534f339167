//! The torrent's category and tags, editable: a category name (one of the user's, offered in
//! a list, or a new one, created on save) and comma-separated tags.

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::live::use_live;
use crate::types::{Category, TorrentSummary};

#[component]
pub fn LabelsEditor(row: RwSignal<TorrentSummary>) -> impl IntoView {
    let live = use_live();
    let hash = row.with_untracked(|t| t.info_hash.clone());
    let category = RwSignal::new(row.with_untracked(|t| t.category.clone().unwrap_or_default()));
    let tags = RwSignal::new(row.with_untracked(|t| t.tags.join(", ")));
    let known = Resource::new(
        || (),
        |_| client::get::<Vec<Category>>("/api/categories".into()),
    );
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let list: Vec<String> = tags
            .get_untracked()
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        actions::set_labels(live, hash.clone(), category.get_untracked(), list);
    };
    view! {
        <form class="row labels-editor" id="labels-editor" on:submit=save>
            <label>
                "Category "
                <input
                    id="label-category"
                    list="known-categories"
                    placeholder="none"
                    prop:value=move || category.get()
                    on:input=move |ev| category.set(event_target_value(&ev))
                />
            </label>
            <datalist id="known-categories">
                <Transition>
                    {move || {
                        known
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|c| view! { <option value=c.name>{c.save_path}</option> })
                            .collect_view()
                    }}
                </Transition>
            </datalist>
            <label>
                "Tags "
                <input
                    id="label-tags"
                    placeholder="comma, separated"
                    prop:value=move || tags.get()
                    on:input=move |ev| tags.set(event_target_value(&ev))
                />
            </label>
            <button type="submit" id="save-labels">"Save labels"</button>
        </form>
    }
}
