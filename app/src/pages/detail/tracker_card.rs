//! The counts of this server's built-in tracker for the torrent (trackers tab), when the
//! server runs one.

use leptos::prelude::*;

use crate::types::SwarmCounts;

#[component]
pub fn BuiltInTracker(counts: Option<SwarmCounts>) -> impl IntoView {
    counts.map(|c| {
        view! {
            <section class="built-in-tracker" id="built-in-tracker" aria-label="Built-in tracker">
                <h3>"This server's tracker"</h3>
                <dl class="facts">
                    <dt>"Seeders"</dt>
                    <dd class="num" data-field="seeders">{c.seeders}</dd>
                    <dt>"Leechers"</dt>
                    <dd class="num" data-field="leechers">{c.leechers}</dd>
                    <dt>"Completed"</dt>
                    <dd class="num" data-field="completed">{c.completed}</dd>
                </dl>
            </section>
        }
    })
}
