//! Search across servers: this server's public catalog, its federated servers' and its Nostr
//! relays' by name. A search made on the page is live (`/api/search/stream`): this server's
//! results show at once and each other source's as it answers (each bounded by the server's
//! `FEDERATION_TIMEOUT_MS`), with how each answered (a relay as `nostr <URL>`); "Add"
//! downloads a result from all its holders at once (a Nostr entry's trackers go into the
//! magnet). The query lives in the URL (`/search?q=`): a page loaded with one renders the
//! whole answer on the server, so the page also works as a plain form without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::client;
use crate::components::Failure;
use crate::format;
use crate::live::use_live;
use crate::types::{SearchResponse, SearchResult, SourceState, SourceStatus};

mod live_stream;

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let live_state = use_live();
    // Seeded from the URL once (see the torrents page on why not a memo of the router's).
    let initial = query.with_untracked(|q| q.get("q").unwrap_or_default());
    let text = RwSignal::new(initial.clone());
    // The page as loaded: the whole answer, rendered on the server.
    let answer = Resource::new(
        || (),
        move |_| {
            let q = initial.clone();
            async move {
                if q.trim().is_empty() {
                    return None;
                }
                let path = format!("/api/search?q={}", format::url_encode(q.trim()));
                Some(client::get::<SearchResponse>(path).await)
            }
        },
    );
    // Searches made on the page: snapshots from the live stream.
    let live = RwSignal::new(None::<SearchResponse>);
    let is_live = Memo::new(move |_| live.with(Option::is_some));
    let stream = live_stream::Handle::default();
    on_cleanup(move || stream.close());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        if q.trim().is_empty() {
            return;
        }
        stream.open(q.trim(), live, move |m| live_state.toast(m, true));
        navigate(
            &format!("/search?q={}", format::url_encode(q.trim())),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <h1 class="page-title">"Search"</h1>
        <form class="row search-form" id="search-form" method="get" action="/search" on:submit=submit>
            <input
                id="search-query"
                name="q"
                type="search"
                placeholder="Words of the name, any order"
                aria-label="Search"
                value=text.get_untracked()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button type="submit" id="search-submit">"Search"</button>
        </form>
        <p class="muted">
            "Searches the torrents marked public on this server, on the servers it is federated with and on its Nostr relays."
        </p>
        {move || {
            if is_live.get() {
                let answer = Signal::derive(move || live.get().unwrap_or_default());
                view! { <Results answer /> }.into_any()
            } else {
                view! {
                    <Transition fallback=|| view! { <p class="muted">"Asking the servers…"</p> }>
                        {move || {
                            answer.get().map(|r| match r {
                                None => ().into_any(),
                                Some(Ok(a)) => view! { <Results answer=Signal::stored(a) /> }.into_any(),
                                Some(Err(error)) => view! { <Failure error /> }.into_any(),
                            })
                        }}
                    </Transition>
                }
                .into_any()
            }
        }}
    }
}

fn status_text(s: &SourceStatus) -> String {
    let what = match s.status {
        SourceState::Ok => format!("{} found", s.results),
        SourceState::Pending => return "asking…".into(),
        SourceState::Timeout => "timed out".into(),
        SourceState::Error => "error".into(),
    };
    match &s.message {
        Some(m) => format!("{what}: {m}"),
        None => format!("{what} in {} ms", s.elapsed_ms),
    }
}

fn status_class(s: SourceState) -> &'static str {
    match s {
        SourceState::Ok => "ok",
        SourceState::Pending => "pending",
        SourceState::Timeout => "timeout",
        SourceState::Error => "error",
    }
}

/// The sources' states and the results; rows are kept by info-hash and holder count, so a
/// row being added keeps its state while other sources answer.
#[component]
fn Results(answer: Signal<SearchResponse>) -> impl IntoView {
    let servers = move || {
        answer.with(|a| {
            a.servers
                .iter()
                .map(|s| {
                    view! {
                        <li class=format!("search-server {}", status_class(s.status)) data-status=status_class(s.status)>
                            <strong>{s.server.clone()}</strong>
                            " — "
                            {status_text(s)}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let empty = Memo::new(move |_| answer.with(|a| a.results.is_empty()));
    let pending = Memo::new(move |_| answer.with(|a| a.pending));
    view! {
        <ul class="search-servers" id="search-servers" data-pending=move || pending.get()>{servers}</ul>
        {move || match (empty.get(), pending.get()) {
            (true, 0) => view! { <p class="empty" id="search-empty">"Nothing found."</p> }.into_any(),
            (true, n) => view! {
                <p class="muted" id="search-waiting">{format!("Nothing yet; waiting for {n} more…")}</p>
            }
            .into_any(),
            (false, _) => view! {
                <table class="table search-results" id="search-results">
                    <thead>
                        <tr>
                            <th>"Name"</th>
                            <th>"Size"</th>
                            <th>"Files"</th>
                            <th>"Seeds"</th>
                            <th>"Held by"</th>
                            <th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || answer.with(|a| a.results.clone())
                            key=|r| (r.info_hash.clone(), r.holders.len())
                            let:r
                        >
                            <ResultRow r />
                        </For>
                    </tbody>
                </table>
            }
            .into_any(),
        }}
    }
}

#[component]
fn ResultRow(r: SearchResult) -> impl IntoView {
    let live = use_live();
    let here = r.holders.iter().any(|h| h.local);
    let holders = r
        .holders
        .iter()
        .map(|h| h.server.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let busy = RwSignal::new(false);
    let added = RwSignal::new(false);
    let hash = r.info_hash.clone();
    let link = format!("/torrents/{hash}");
    let body = crate::types::SearchAdd::from_result(&r);
    let add = move |_| {
        busy.set(true);
        #[cfg(feature = "hydrate")]
        {
            let body = body.clone();
            leptos::task::spawn_local(async move {
                let res = client::browser::post::<_, crate::types::TorrentSummary>(
                    "/api/search/add".into(),
                    &body,
                )
                .await;
                busy.set(false);
                match res {
                    Ok(summary) => {
                        live.torrents.upsert(summary);
                        added.set(true);
                        live.toast("Added; downloading from every holder", false);
                    }
                    Err(e) => live.toast(e.message, true),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&body, live, added);
    };
    view! {
        <tr class="search-result" data-hash=hash>
            <td class="name">{r.name.clone()}</td>
            <td>{format::bytes(r.total_bytes)}</td>
            <td>{r.file_count}</td>
            <td>{r.seeders}</td>
            <td class="holders">{holders}</td>
            <td>
                {if here {
                    view! { <a class="here" href=link.clone()>"On this server"</a> }.into_any()
                } else {
                    view! {
                        <Show
                            when=move || added.get()
                            fallback=move || view! {
                                <button type="button" class="add-result" disabled=move || busy.get() on:click=add.clone()>
                                    "Add"
                                </button>
                            }
                        >
                            <a class="added" href=link.clone()>"Added"</a>
                        </Show>
                    }
                    .into_any()
                }}
            </td>
        </tr>
    }
}
