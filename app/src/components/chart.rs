//! A small SVG line chart: rates and totals over time. Drawn as SVG so it renders on the
//! server (no canvas, no script) and scales with its box.

use leptos::prelude::*;

/// One line.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: &'static str,
    /// CSS class giving the stroke colour (`down`, `up`, `ratio`, ...).
    pub class: &'static str,
    pub values: Vec<f64>,
}

const W: f64 = 600.0;
const H: f64 = 160.0;

/// The polyline points of `values` scaled to the box, oldest at the left.
pub fn points(values: &[f64], max: f64) -> String {
    let n = values.len();
    if n == 0 || max <= 0.0 {
        return String::new();
    }
    let step = if n > 1 { W / (n - 1) as f64 } else { 0.0 };
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - (v / max).clamp(0.0, 1.0) * H
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `series` share one y axis, labelled with `format(max)`.
#[component]
pub fn LineChart(
    #[prop(into)] series: Signal<Vec<Series>>,
    /// What the chart shows, for screen readers and as its caption.
    title: &'static str,
    format: fn(f64) -> String,
) -> impl IntoView {
    let max = Memo::new(move |_| {
        series.with(|s| {
            s.iter()
                .flat_map(|s| s.values.iter().copied())
                .fold(0.0f64, f64::max)
        })
    });
    view! {
        <figure class="chart">
            <figcaption>
                <span>{title}</span>
                <span class="legend">
                    {move || {
                        series
                            .get()
                            .into_iter()
                            .map(|s| {
                                let last = s.values.last().copied().unwrap_or(0.0);
                                view! {
                                    <span class=format!("key {}", s.class)>
                                        {s.label} " " {format(last)}
                                    </span>
                                }
                            })
                            .collect_view()
                    }}
                </span>
            </figcaption>
            <div class="plot">
                <span class="ymax">{move || format(max.get())}</span>
                <Show when=move || series.with(|s| s.iter().all(|s| s.values.len() < 2))>
                    <span class="no-data muted">"Collecting samples…"</span>
                </Show>
                <svg
                    viewBox=format!("0 0 {W} {H}")
                    preserveAspectRatio="none"
                    role="img"
                    aria-label=title
                >
                    {move || {
                        let m = max.get();
                        series
                            .get()
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <polyline
                                        class=format!("line {}", s.class)
                                        points=points(&s.values, m)
                                        vector-effect="non-scaling-stroke"
                                    />
                                }
                            })
                            .collect_view()
                    }}
                </svg>
            </div>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_into_the_box() {
        assert_eq!(points(&[], 1.0), "");
        assert_eq!(
            points(&[0.0, 5.0, 10.0], 10.0),
            "0.0,160.0 300.0,80.0 600.0,0.0"
        );
        // Values above max are clamped; a zero max draws nothing.
        assert_eq!(points(&[20.0], 10.0), "0.0,0.0");
        assert_eq!(points(&[1.0], 0.0), "");
    }
}
