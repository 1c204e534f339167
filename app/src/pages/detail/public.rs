//! Whether the torrent is public: listed in this server's search catalog, so users here and
//! on federated servers find it by name (`PATCH /api/torrents/{hash}` with `public`).

use leptos::prelude::*;

use crate::live::use_live;
use crate::types::TorrentSummary;

#[component]
pub fn PublicToggle(row: RwSignal<TorrentSummary>) -> impl IntoView {
    let live = use_live();
    let hash = row.with_untracked(|t| t.info_hash.clone());
    let busy = RwSignal::new(false);
    let toggle = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        busy.set(true);
        #[cfg(feature = "hydrate")]
        {
            let path = format!("/api/torrents/{hash}");
            leptos::task::spawn_local(async move {
                let body = crate::types::TorrentPatch {
                    public: Some(on),
                    ..Default::default()
                };
                let res = crate::client::browser::patch::<_, TorrentSummary>(path, &body).await;
                busy.set(false);
                match res {
                    Ok(summary) => {
                        live.torrents.upsert(summary);
                        let msg = if on {
                            "Public: found by search here and on federated servers"
                        } else {
                            "No longer public"
                        };
                        live.toast(msg, false);
                    }
                    Err(e) => live.toast(e.message, true),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&hash, on, live);
    };
    view! {
        <div class="row public-toggle">
            <label class="check" title="List it in this server's search catalog: users here and on federated servers find it by name and download it from this server">
                <input
                    id="public-toggle"
                    type="checkbox"
                    prop:checked=move || row.with(|t| t.public)
                    disabled=move || busy.get()
                    on:change=toggle
                />
                " Public (searchable across servers)"
            </label>
        </div>
    }
}
