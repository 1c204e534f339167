//! The overview: how many torrents are in each state, the global rates with a live chart,
//! and recent notifications.

use leptos::prelude::*;

use crate::client;
use crate::components::notices::NoticeList;
use crate::components::rates::{totals, RateChart};
use crate::components::WithTorrents;
use crate::format;
use crate::live::use_live;
use crate::pages::torrents::StateFilter;
use crate::types::Statistics;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <h1 class="page-title">"Overview"</h1>
        <WithTorrents>
            <Counts />
            <Rates />
            <section class="card">
                <h2>"Recent notifications"</h2>
                <NoticeList limit=8 />
            </section>
        </WithTorrents>
    }
}

#[component]
fn Counts() -> impl IntoView {
    let live = use_live();
    // The same filters as the list's state filter, so a card's number is what its link shows.
    let count = move |filter: StateFilter| {
        live.torrents
            .all()
            .iter()
            .filter(|t| t.with(|t| filter.matches(t)))
            .count()
    };
    let cards = [
        ("downloading", "Downloading"),
        ("seeding", "Seeding"),
        ("paused", "Paused"),
        ("queued", "Queued"),
        ("completed", "Completed"),
        ("error", "Error"),
    ];
    view! {
        <section class="counts" aria-label="Torrents by state">
            {cards
                .into_iter()
                .map(|(key, label)| {
                    let filter = StateFilter::parse(key);
                    view! {
                        <a class=format!("count-card {key}") href=format!("/torrents?state={key}")>
                            <span class="n" id=format!("count-{key}")>{move || count(filter)}</span>
                            <span class="label">{label}</span>
                        </a>
                    }
                })
                .collect_view()}
        </section>
    }
}

#[component]
fn Rates() -> impl IntoView {
    let live = use_live();
    let stats = Resource::new(
        || (),
        |_| client::get::<Statistics>("/api/statistics".into()),
    );
    let history = Signal::derive(move || {
        stats
            .get()
            .and_then(Result::ok)
            .map(|s| s.history)
            .unwrap_or_default()
    });
    view! {
        <section class="card rates">
            <div class="big-rates">
                <div>
                    <span class="label">"Download"</span>
                    <span class="big down" id="global-down">
                        {move || format::rate(totals(live).0)}
                    </span>
                </div>
                <div>
                    <span class="label">"Upload"</span>
                    <span class="big up" id="global-up">
                        {move || format::rate(totals(live).1)}
                    </span>
                </div>
            </div>
            <Transition fallback=|| ()>
                <RateChart history />
            </Transition>
        </section>
    }
}
