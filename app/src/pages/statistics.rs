//! Statistics: lifetime totals, and history charts of rates, totals, ratio, peers.

use leptos::prelude::*;

use crate::api::server_info;
use crate::client;
use crate::components::chart::{LineChart, Series};
use crate::components::rates::RateChart;
use crate::components::{Failure, WithTorrents};
use crate::format;
use crate::types::{DhtInfo, HistoryPoint, Statistics};

fn ratio(up: u64, down: u64) -> f64 {
    if down == 0 {
        0.0
    } else {
        up as f64 / down as f64
    }
}

#[component]
pub fn StatisticsPage() -> impl IntoView {
    let stats = Resource::new(
        || (),
        |_| client::get::<Statistics>("/api/statistics".into()),
    );
    view! {
        <h1 class="page-title">"Statistics"</h1>
        <WithTorrents>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    stats.get().map(|r| match r {
                        Ok(s) => view! { <Charts stats=s /> }.into_any(),
                        Err(error) => view! { <Failure error /> }.into_any(),
                    })
                }}
            </Transition>
        </WithTorrents>
        <crate::components::tracker::TrackerCard />
        <About />
    }
}

/// The DHT card's tooltip: what the count means (the IPv4 node's), and the IPv6 node's
/// table when one runs beside it.
fn dht_title(d: &DhtInfo) -> String {
    let main = match (d.enabled, d.port) {
        (false, _) => return "DHT off".into(),
        (true, Some(p)) => format!("{} of them good; UDP port {p}", d.good_nodes),
        (true, None) => format!("{} of them good", d.good_nodes),
    };
    match d.nodes_v6 {
        Some(n) => format!(
            "{main}; IPv6: {n} nodes, {} good",
            d.good_nodes_v6.unwrap_or(0)
        ),
        None => main,
    }
}

/// A chart line: label, CSS class, and the value it plots from each history point.
type Line = (&'static str, &'static str, fn(&HistoryPoint) -> f64);

#[component]
fn Charts(stats: Statistics) -> impl IntoView {
    let h: Vec<HistoryPoint> = stats.history.clone();
    let series = |items: Vec<Line>| {
        let h = h.clone();
        Signal::derive(move || {
            items
                .iter()
                .map(|(label, class, f)| Series {
                    label,
                    class,
                    values: h.iter().map(f).collect(),
                })
                .collect::<Vec<_>>()
        })
    };
    let totals = series(vec![
        ("Downloaded", "down", |p| p.downloaded as f64),
        ("Uploaded", "up", |p| p.uploaded as f64),
    ]);
    let ratios = series(vec![("Ratio", "ratio", |p| {
        ratio(p.uploaded, p.downloaded)
    })]);
    let swarm = series(vec![
        ("Peers", "peers", |p| p.peers as f64),
        ("Torrents", "torrents", |p| p.torrents as f64),
    ]);
    let history = Signal::derive(move || h.clone());
    view! {
        <section class="counts" aria-label="Totals">
            <div class="count-card">
                <span class="n" id="total-down">{format::bytes(stats.total_downloaded)}</span>
                <span class="label">"Downloaded"</span>
            </div>
            <div class="count-card">
                <span class="n" id="total-up">{format::bytes(stats.total_uploaded)}</span>
                <span class="label">"Uploaded"</span>
            </div>
            <div class="count-card">
                <span class="n">{format::ratio(ratio(stats.total_uploaded, stats.total_downloaded))}</span>
                <span class="label">"Ratio"</span>
            </div>
            <div class="count-card">
                <span class="n">{stats.torrents}</span>
                <span class="label">"Torrents"</span>
            </div>
            <div class="count-card">
                <span class="n">{stats.peers}</span>
                <span class="label">"Peers"</span>
            </div>
            <div class="count-card" title=dht_title(&stats.dht)>
                <span class="n" id="dht-nodes">
                    {if stats.dht.enabled { stats.dht.nodes.to_string() } else { "off".to_string() }}
                </span>
                <span class="label">"DHT nodes"</span>
            </div>
        </section>
        <div class="charts">
            <section class="card"><RateChart history /></section>
            <section class="card">
                <LineChart series=totals title="Lifetime totals" format=|v| format::bytes(v as u64) />
            </section>
            <section class="card">
                <LineChart series=ratios title="Share ratio" format=|v| format!("{v:.2}") />
            </section>
            <section class="card">
                <LineChart series=swarm title="Peers and torrents" format=|v| format!("{v:.0}") />
            </section>
        </div>
        <p class="muted">
            {format!("{} samples", stats.history.len())}
            {stats.history.first().map(|p| format!(" since {} UTC", format::datetime(p.at)))}
        </p>
    }
}

/// The server's version and uptime, through a server function (a typed round trip).
#[component]
fn About() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let info = Resource::new(move || refreshes.get(), |_| server_info());
    view! {
        <section class="card about">
            <h2>"About this server"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    info.get().map(|r| match r {
                        Ok(i) => view! {
                            <dl class="facts">
                                <dt>"Version"</dt>
                                <dd id="server-version">{i.version}</dd>
                                <dt>"Uptime"</dt>
                                <dd id="server-uptime">{format::format_duration(i.uptime_secs)}</dd>
                            </dl>
                        }
                        .into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
            <p class="row">
                <button type="button" class="small" id="refresh" on:click=move |_| refreshes.update(|n| *n += 1)>
                    "Refresh"
                </button>
                <span class="muted">
                    "Refreshed " <span id="refresh-count">{move || refreshes.get()}</span> " times"
                </span>
            </p>
        </section>
    }
}
