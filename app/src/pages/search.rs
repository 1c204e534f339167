//! Search across servers: this server's public catalog, its federated servers' and its Nostr
//! relays' by name. The page shows the results once every source has answered or timed out
//! (each is bounded by the server's `FEDERATION_TIMEOUT_MS`), with how each answered (a relay
//! as `nostr <URL>`); "Add" downloads a result from all its holders at once (a Nostr entry's
//! trackers go into the magnet). The query lives in the URL (`/search?q=`), so the
//! page also works as a plain form without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::client;
use crate::components::Failure;
use crate::format;
use crate::live::use_live;
use crate::types::{SearchResponse, SearchResult, SourceState, SourceStatus};

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    // Seeded from the URL once (see the torrents page on why not a memo of the router's).
    let initial = query.with_untracked(|q| q.get("q").unwrap_or_default());
    let text = RwSignal::new(initial.clone());
    let term = RwSignal::new(initial);
    let answer = Resource::new(
        move || term.get(),
        |q| async move {
            if q.trim().is_empty() {
                return None;
            }
            let path = format!("/api/search?q={}", format::url_encode(q.trim()));
            Some(client::get::<SearchResponse>(path).await)
        },
    );
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let q = text.get_untracked();
        term.set(q.clone());
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
        <Transition fallback=|| view! { <p class="muted">"Asking the servers…"</p> }>
            {move || {
                answer.get().map(|r| match r {
                    None => ().into_any(),
                    Some(Ok(a)) => view! { <Results answer=a /> }.into_any(),
                    Some(Err(error)) => view! { <Failure error /> }.into_any(),
                })
            }}
        </Transition>
    }
}

fn status_text(s: &SourceStatus) -> String {
    let what = match s.status {
        SourceState::Ok => format!("{} found", s.results),
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
        SourceState::Timeout => "timeout",
        SourceState::Error => "error",
    }
}

#[component]
fn Results(answer: SearchResponse) -> impl IntoView {
    let servers = answer
        .servers
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
        .collect_view();
    let empty = answer.results.is_empty();
    let rows = answer
        .results
        .into_iter()
        .map(|r| view! { <ResultRow r /> })
        .collect_view();
    view! {
        <ul class="search-servers" id="search-servers">{servers}</ul>
        {if empty {
            view! { <p class="empty" id="search-empty">"Nothing found."</p> }.into_any()
        } else {
            view! {
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
                    <tbody>{rows}</tbody>
                </table>
            }
            .into_any()
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
