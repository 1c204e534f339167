//! The built-in tracker's card on the Statistics page (`GET /api/tracker`), shown only when
//! the server runs the tracker: swarms, peers, announces per second, the announce URLs.

use leptos::prelude::*;

use crate::client;
use crate::types::TrackerStatus;

#[component]
pub fn TrackerCard() -> impl IntoView {
    let status = Resource::new(
        || (),
        |_| client::get::<TrackerStatus>("/api/tracker".into()),
    );
    view! {
        <Transition fallback=|| ()>
            {move || {
                status.get().and_then(Result::ok).filter(|t| t.enabled).map(|t| {
                    let urls = [t.announce_url.clone(), t.udp_announce_url.clone()];
                    view! {
                        <section class="card" id="tracker-card" aria-label="Built-in tracker">
                            <h2>{format!("Built-in tracker ({})", t.mode)}</h2>
                            <section class="counts">
                                <div class="count-card">
                                    <span class="n" id="tracker-torrents">{t.torrents}</span>
                                    <span class="label">"Swarms"</span>
                                </div>
                                <div class="count-card">
                                    <span class="n" id="tracker-peers">{t.peers}</span>
                                    <span class="label">"Peers"</span>
                                </div>
                                <div class="count-card">
                                    <span class="n">{format!("{:.1}", t.announces_per_sec)}</span>
                                    <span class="label">"Announces/s"</span>
                                </div>
                            </section>
                            <ul class="plain">
                                {urls
                                    .into_iter()
                                    .flatten()
                                    .map(|u| view! { <li class="mono wrap">{u}</li> })
                                    .collect_view()}
                            </ul>
                        </section>
                    }
                })
            }}
        </Transition>
    }
}
