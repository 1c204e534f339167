//! The landing page: proves server rendering, hydration and a server-function round trip.

use crate::{api::server_info, types::format_duration};
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let info = Resource::new(move || refreshes.get(), |_| server_info());
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, so this flips once the WASM bundle has taken over.
    Effect::new(move |_| hydrated.set(true));

    view! {
        <section class="card" data-hydrated=move || hydrated.get().to_string()>
            <h1>"TorrentEdge"</h1>
            <Suspense fallback=|| view! { <p>"Loading server status…"</p> }>
                {move || {
                    info.get()
                        .map(|r| match r {
                            Ok(i) => view! {
                                <dl class="facts">
                                    <dt>"Version"</dt>
                                    <dd id="server-version">{i.version}</dd>
                                    <dt>"Uptime"</dt>
                                    <dd id="server-uptime">{format_duration(i.uptime_secs)}</dd>
                                </dl>
                            }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        })
                }}
            </Suspense>
            <button
                id="refresh"
                type="button"
                on:click=move |_| refreshes.update(|n| *n += 1)
                disabled=move || !hydrated.get()
            >
                "Refresh"
            </button>
            <p class="muted">
                "Refreshed " <span id="refresh-count">{move || refreshes.get()}</span> " times"
            </p>
        </section>
    }
}
