//! One torrent: header with actions, then tabs for files, peers, trackers, pieces and info.
//! The summary is the live store's row; files, peers and trackers are re-read when a
//! progress event for this torrent arrives (at most every two seconds), so nothing polls.

mod goals;
mod labels;
mod limits;
mod player;
mod public;
mod sections;
mod tracker_card;

pub use sections::{http_link, magnet_link};

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::actions::{self, Action};
use crate::client::{self, ApiResult};
use crate::components::chart::LineChart;
use crate::components::rates::{rate_series, sample_rates};
use crate::components::{Failure, ProgressBar, StateBadge, WithTorrents};
use crate::format;
use crate::live::{js_now_ms, use_live};
use crate::pages::torrents::PrioritySelect;
use crate::types::{
    PeerEndInfo, PeerInfo, PiecesInfo, TorrentDetail, TorrentState, TorrentSummary,
};

/// Least time between two re-reads of files, peers and trackers.
const REFRESH_MS: f64 = 2000.0;

const TABS: [(&str, &str); 5] = [
    ("files", "Files"),
    ("peers", "Peers"),
    ("trackers", "Trackers"),
    ("pieces", "Pieces"),
    ("info", "Info"),
];

#[component]
pub fn DetailPage() -> impl IntoView {
    let params = use_params_map();
    let hash =
        Memo::new(move |_| params.with(|p| p.get("hash").unwrap_or_default().to_lowercase()));
    view! {
        <WithTorrents>
            // try_: the router's params change before this page is torn down.
            {move || hash.try_get().map(|hash| {
                // A malformed address is an error for the page's error boundary.
                valid_hash(&hash).map(|()| view! { <Detail hash /> })
            })}
        </WithTorrents>
    }
}

/// v1 info-hashes are 40 hex digits.
fn valid_hash(hash: &str) -> Result<(), crate::client::ApiFailure> {
    if hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(crate::client::ApiFailure {
            status: 400,
            error: "invalid_info_hash".into(),
            message: format!("{hash:?} is not an info-hash (40 hexadecimal digits)"),
        })
    }
}

#[component]
fn Detail(hash: String) -> impl IntoView {
    let live = use_live();
    let Some(row) = live.torrents.row(&hash) else {
        return view! {
            <section class="card narrow" role="alert" id="not-found">
                <h1>"Torrent not found"</h1>
                <p>"It was removed, or it is not yours."</p>
                <a href="/torrents">"All torrents"</a>
            </section>
        }
        .into_any();
    };
    let base = format!("/api/torrents/{hash}");
    let version = RwSignal::new(0u64);
    let detail: Resource<ApiResult<TorrentDetail>> = {
        let url = base.clone();
        Resource::new(move || version.get(), move |_| client::get(url.clone()))
    };
    let peers: Resource<ApiResult<Vec<PeerInfo>>> = {
        let url = format!("{base}/peers");
        Resource::new(move || version.get(), move |_| client::get(url.clone()))
    };
    let ends: Resource<ApiResult<Vec<PeerEndInfo>>> = {
        let url = format!("{base}/peers/ended");
        Resource::new(move || version.get(), move |_| client::get(url.clone()))
    };
    let pieces: Resource<ApiResult<PiecesInfo>> = {
        let url = format!("{base}/pieces");
        Resource::new(move || version.get(), move |_| client::get(url.clone()))
    };

    // Re-read on progress, at most every REFRESH_MS.
    let last = StoredValue::new(js_now_ms());
    Effect::new(move |prev: Option<(u64, usize, TorrentState)>| {
        let now = row.with(|t| (t.bytes_done, t.peers, t.state));
        // try_: a row update can race this page's disposal.
        let due = last
            .try_get_value()
            .is_some_and(|t| js_now_ms() - t >= REFRESH_MS);
        if prev.is_some_and(|p| p != now) && due {
            last.try_set_value(js_now_ms());
            version.try_update(|v| *v += 1);
        }
        now
    });
    live.torrents.watch_pieces(Some(hash.clone()));
    on_cleanup(move || live.torrents.watch_pieces(None));

    let samples = sample_rates(move || row.with(|t| (t.download_rate, t.upload_rate)));
    let series = Signal::derive(move || samples.with(|s| rate_series(s)));

    // The tab is local state seeded from `?tab=` (so links work without JavaScript); a click
    // switches it without a router navigation, whose new location would re-run this page's
    // effects during teardown.
    let tab = RwSignal::new(
        use_query_map()
            .with_untracked(|q| q.get("tab"))
            .filter(|t| TABS.iter().any(|(k, _)| k == t))
            .unwrap_or_else(|| "files".into()),
    );

    // What plays: outside the tabs, which re-render on progress, so playback goes on.
    let playing = RwSignal::new(None);

    view! {
        <Header row />
        <section class="card">
            <LineChart series title="Speed" format=|v| format::rate(v as u64) />
        </section>
        <player::Player hash=hash.clone() playing />
        <nav class="tabs" aria-label="Torrent details">
            {TABS
                .into_iter()
                .map(|(key, label)| {
                    view! {
                        <a
                            href=format!("?tab={key}")
                            id=format!("tab-{key}")
                            aria-current=move || (tab.get() == key).then_some("page")
                            on:click=move |ev| {
                                ev.prevent_default();
                                tab.set(key.to_string());
                                replace_query(&format!("?tab={key}"));
                            }
                        >
                            {label}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        <section class="card tab-body">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || match tab.get().as_str() {
                    "peers" => peers.get().map(|r| match r {
                        Ok(list) => {
                            let ended = ends.get().and_then(Result::ok).unwrap_or_default();
                            view! {
                                <sections::Peers peers=list />
                                <sections::PeerEnds ends=ended />
                            }
                            .into_any()
                        }
                        Err(error) => view! { <Failure error /> }.into_any(),
                    }),
                    "pieces" => pieces.get().map(|r| match r {
                        Ok(info) => view! { <sections::Pieces info /> }.into_any(),
                        Err(error) => view! { <Failure error /> }.into_any(),
                    }),
                    other => {
                        let other = other.to_string();
                        let hash = hash.clone();
                        detail.get().map(move |r| match r {
                            Ok(d) => match other.as_str() {
                                "trackers" => view! {
                                    <tracker_card::BuiltInTracker counts=d.built_in_tracker />
                                    <sections::Trackers trackers=d.trackers />
                                    <sections::WebSeeds seeds=d.web_seed_status />
                                }
                                .into_any(),
                                "info" => view! { <sections::Info detail=d /> }.into_any(),
                                _ => view! { <sections::Files hash=hash.clone() files=d.files playing /> }.into_any(),
                            },
                            Err(error) => view! { <Failure error /> }.into_any(),
                        })
                    }
                }}
            </Transition>
        </section>
    }
    .into_any()
}

/// Name, state, progress, rates and the actions.
#[component]
fn Header(row: RwSignal<TorrentSummary>) -> impl IntoView {
    let live = use_live();
    let navigate = use_navigate();
    let hash = row.with_untracked(|t| t.info_hash.clone());
    let name = move || row.with(|t| t.name.clone());
    let state = move || row.with(|t| t.state);
    let (h1, h2, h3) = (hash.clone(), hash.clone(), hash.clone());
    let delete_files = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    view! {
        <section class="card detail-head">
            <h1 id="detail-name">{name}</h1>
            <div class="facts-row">
                <StateBadge state />
                <ProgressBar fraction=move || row.with(|t| t.progress) label="Progress" />
                <span>
                    {move || row.with(|t| format!("{} of {}", format::bytes(t.bytes_done), format::bytes(t.total_bytes)))}
                </span>
                <span class="down">"↓ " {move || row.with(|t| format::rate(t.download_rate))}</span>
                <span class="up">"↑ " {move || row.with(|t| format::rate(t.upload_rate))}</span>
                <span>{move || row.with(|t| format!("{} peers, {} seeds", t.peers, t.seeds))}</span>
                <span>"Ratio " {move || row.with(|t| format::ratio(t.ratio))}</span>
                <span>"ETA " {move || row.with(|t| if t.progress >= 1.0 { "–".into() } else { format::eta(t.eta_secs) })}</span>
            </div>
            <Show when=move || row.with(|t| t.error.is_some())>
                <p class="error" role="alert">{move || row.with(|t| t.error.clone())}</p>
            </Show>
            <div class="row actions">
                <button
                    type="button"
                    id="toggle-pause"
                    on:click=move |_| actions::run(live, h1.clone(), actions::toggle_for(row.with_untracked(|t| t.state)))
                >
                    {move || if state() == TorrentState::Paused { "Resume" } else { "Pause" }}
                </button>
                <PrioritySelect
                    value=move || row.with(|t| t.priority)
                    label="Priority".to_string()
                    on_change=move |p| actions::run(live, h2.clone(), Action::Priority(p))
                />
                <button type="button" class="danger" id="remove" on:click=move |_| confirming.set(true)>
                    "Remove"
                </button>
            </div>
            <labels::LabelsEditor row />
            <limits::LimitsEditor row />
            <goals::GoalsEditor row />
            <public::PublicToggle row />
            <Show when=move || confirming.get()>
                <div class="confirm" role="group" aria-label="Confirm removal">
                    <label class="check">
                        <input type="checkbox" id="delete-files" bind:checked=delete_files />
                        " Also delete the downloaded files"
                    </label>
                    <button type="button" class="ghost" on:click=move |_| confirming.set(false)>"Cancel"</button>
                    <button
                        type="button"
                        class="danger"
                        id="confirm-remove"
                        on:click={
                            let h3 = h3.clone();
                            let navigate = navigate.clone();
                            move |_| {
                                actions::run(live, h3.clone(), Action::Remove { delete_files: delete_files.get_untracked() });
                                navigate("/torrents", Default::default());
                            }
                        }
                    >
                        "Remove"
                    </button>
                </div>
            </Show>
        </section>
    }
}

/// Puts `query` in the address bar without a navigation.
fn replace_query(query: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(query));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = query;
}
