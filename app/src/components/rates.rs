//! Transfer-rate charts: samples of live rates every two seconds, after whatever history the
//! server had.

use leptos::prelude::*;

use crate::components::chart::{LineChart, Series};
use crate::format;
use crate::live::{use_live, Live};
use crate::types::HistoryPoint;

/// Points kept on the chart.
const SAMPLES: usize = 300;

/// The sum of every torrent's (download, upload) rate, tracked.
pub fn totals(live: Live) -> (u64, u64) {
    live.torrents.all().iter().fold((0, 0), |(d, u), t| {
        t.with(|t| (d + t.download_rate, u + t.upload_rate))
    })
}

/// (download, upload) samples of `read`, every two seconds while the calling component
/// lives (in the browser; nothing is sampled while rendering on the server).
pub fn sample_rates(read: impl Fn() -> (u64, u64) + 'static) -> RwSignal<Vec<(f64, f64)>> {
    let samples = RwSignal::new(Vec::<(f64, f64)>::new());
    #[cfg(feature = "hydrate")]
    if let Ok(h) = set_interval_with_handle(
        move || {
            let (d, u) = untrack(&read);
            samples.update(|s| {
                s.push((d as f64, u as f64));
                let excess = s.len().saturating_sub(SAMPLES);
                s.drain(..excess);
            });
        },
        std::time::Duration::from_secs(2),
    ) {
        on_cleanup(move || h.clear());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = read;
    samples
}

/// The "Down" and "Up" lines of (download, upload) points.
pub fn rate_series(points: &[(f64, f64)]) -> Vec<Series> {
    vec![
        Series {
            label: "Down",
            class: "down",
            values: points.iter().map(|p| p.0).collect(),
        },
        Series {
            label: "Up",
            class: "up",
            values: points.iter().map(|p| p.1).collect(),
        },
    ]
}

/// The global rates: the server's history, then the store's live totals.
#[component]
pub fn RateChart(#[prop(into)] history: Signal<Vec<HistoryPoint>>) -> impl IntoView {
    let live = use_live();
    let samples = sample_rates(move || totals(live));
    let series = Signal::derive(move || {
        let mut points: Vec<(f64, f64)> = history.with(|h| {
            h.iter()
                .map(|p| (p.download_rate as f64, p.upload_rate as f64))
                .collect()
        });
        points.extend(samples.get());
        rate_series(&points[points.len().saturating_sub(SAMPLES)..])
    });
    view! { <LineChart series title="Transfer rate" format=|v| format::rate(v as u64) /> }
}
