//! Pieces of page shared across pages.

pub mod bans;
pub mod chart;
pub mod encryption;
pub mod network;
pub mod notices;
pub mod piece_map;
pub mod rates;
pub mod speed;
pub mod theme;
pub mod tracker;

use leptos::prelude::*;

use crate::client::ApiFailure;
use crate::format;
use crate::types::TorrentState;

/// A labelled progress bar (`<progress>` is announced by screen readers).
///
/// Live values come in as plain closures over root-owned row signals, never as derived
/// signals owned by the row's component: an update racing the row's disposal would otherwise
/// read a freed signal.
#[component]
pub fn ProgressBar(
    fraction: impl Fn() -> f64 + Copy + Send + Sync + 'static,
    #[prop(into)] label: String,
) -> impl IntoView {
    view! {
        <span class="progress">
            <progress max="1" value=fraction aria-label=label></progress>
            <span class="pct">{move || format::percent(fraction())}</span>
        </span>
    }
}

pub fn state_label(s: TorrentState) -> &'static str {
    match s {
        TorrentState::FetchingMetadata => "Fetching metadata",
        TorrentState::Checking => "Checking",
        TorrentState::Queued => "Queued",
        TorrentState::Downloading => "Downloading",
        TorrentState::Seeding => "Seeding",
        TorrentState::Paused => "Paused",
        TorrentState::Error => "Error",
    }
}

#[component]
pub fn StateBadge(
    state: impl Fn() -> TorrentState + Copy + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <span class=move || format!("badge {}", state().as_str())>
            {move || state_label(state())}
        </span>
    }
}

/// A table that scrolls sideways in its box and stacks its rows at phone width. `headers`
/// are (label, tooltip) pairs; an empty tooltip is left out.
#[component]
pub fn DataTable(
    id: &'static str,
    class: &'static str,
    headers: &'static [(&'static str, &'static str)],
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=class id=id>
                <thead>
                    <tr>
                        {headers
                            .iter()
                            .map(|(label, tip)| {
                                view! {
                                    <th scope="col" title=(!tip.is_empty()).then_some(*tip)>
                                        {*label}
                                    </th>
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// What a page shows when the API says no: a login link for 401, the message otherwise.
#[component]
pub fn Failure(error: ApiFailure) -> impl IntoView {
    if error.is_unauthorized() {
        view! {
            <section class="card narrow" id="login-required">
                <h1>"Please log in"</h1>
                <p>"You need to be logged in to see this page."</p>
                <p>
                    <a class="button" href="/login">"Log in"</a>
                    " or "
                    <a href="/register">"create an account"</a>
                </p>
            </section>
        }
        .into_any()
    } else {
        view! {
            <p class="error" role="alert">
                {error.message}
            </p>
        }
        .into_any()
    }
}

/// Renders `children` once the torrent list has loaded into the live store (on the server
/// too, so the page arrives filled in), or the reason it could not.
#[component]
pub fn WithTorrents(children: ChildrenFn) -> impl IntoView {
    let live = crate::live::use_live();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                live.list
                    .get()
                    .map(|(version, r)| match r {
                        Ok(list) => {
                            untrack(|| live.seed(version, list));
                            children().into_any()
                        }
                        Err(error) => view! { <Failure error /> }.into_any(),
                    })
            }}
        </Transition>
    }
}
