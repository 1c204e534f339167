//! The torrent's piece order, super-seeding and seeding goals with their action, next to its
//! rate limits. Empty or -1 = the server's goal, 0 = none for this torrent.

use leptos::prelude::*;

use crate::actions;
use crate::live::use_live;
use crate::types::{TorrentGoalAction, TorrentPatch, TorrentSummary};

/// `-1` shows as empty (the server's goal).
fn shown(v: f64) -> String {
    if v < 0.0 {
        String::new()
    } else {
        v.to_string()
    }
}

/// Empty is `-1` (the server's goal).
fn parsed(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return Some(-1.0);
    }
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= -1.0)
}

#[component]
pub fn GoalsEditor(row: RwSignal<TorrentSummary>) -> impl IntoView {
    let live = use_live();
    let hash = row.with_untracked(|t| t.info_hash.clone());
    let sequential = RwSignal::new(row.with_untracked(|t| t.sequential));
    let super_seed = RwSignal::new(row.with_untracked(|t| t.super_seeding));
    let ratio = RwSignal::new(row.with_untracked(|t| shown(t.goals.ratio_limit)));
    let first_last = RwSignal::new(row.with_untracked(|t| t.first_last_piece));
    let minutes = RwSignal::new(row.with_untracked(|t| shown(t.goals.seeding_time_limit as f64)));
    let idle =
        RwSignal::new(row.with_untracked(|t| shown(t.goals.inactive_seeding_time_limit as f64)));
    let action = RwSignal::new(row.with_untracked(|t| t.goals.action));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (r, m, i) = (
            parsed(&ratio.get_untracked()),
            parsed(&minutes.get_untracked()),
            parsed(&idle.get_untracked()),
        );
        match (r, m, i) {
            (Some(r), Some(m), Some(i)) if m.fract() == 0.0 && i.fract() == 0.0 => {
                actions::set_goals(
                    live,
                    hash.clone(),
                    TorrentPatch {
                        sequential: Some(sequential.get_untracked()),
                        first_last_piece: Some(first_last.get_untracked()),
                        // Only when changed: a magnet without metadata cannot take it.
                        super_seeding: Some(super_seed.get_untracked())
                            .filter(|on| *on != row.with_untracked(|t| t.super_seeding)),
                        ratio_limit: Some(r),
                        seeding_time_limit: Some(m as i64),
                        inactive_seeding_time_limit: Some(i as i64),
                        goal_action: Some(action.get_untracked()),
                        ..Default::default()
                    },
                )
            }
            _ => live.toast(
                "Goals are numbers (empty = the server's, 0 = none; minutes are whole)",
                true,
            ),
        }
    };
    view! {
        <form class="row goals-editor" id="goals-editor" on:submit=save>
            <label class="check">
                <input id="sequential" type="checkbox" bind:checked=sequential />
                " Sequential download"
            </label>
            <label class="check" title="Fetch the first and last piece of each file first, so a player can open it early">
                <input id="first-last-piece" type="checkbox" bind:checked=first_last />
                " First and last pieces first"
            </label>
            <label class="check" title="BEP 16: reveal pieces one at a time while seeding, so the swarm gets a whole copy while this server uploads little more than one">
                <input id="super-seeding" type="checkbox" bind:checked=super_seed />
                " Super-seeding"
            </label>
            <GoalInput label="Stop seeding at ratio " id="ratio-limit" step="0.1" value=ratio />
            <GoalInput label="after minutes " id="seeding-time-limit" step="1" value=minutes />
            <GoalInput label="or idle for minutes " id="inactive-seeding-time-limit" step="1" value=idle />
            <label>
                "then "
                <select
                    id="goal-action"
                    on:change=move |ev| {
                        if let Some(a) = TorrentGoalAction::parse(&event_target_value(&ev)) {
                            action.set(a);
                        }
                    }
                >
                    {[
                        (TorrentGoalAction::Server, "the server's action"),
                        (TorrentGoalAction::Pause, "pause"),
                        (TorrentGoalAction::Remove, "remove (keep files)"),
                    ]
                        .into_iter()
                        .map(|(a, label)| view! {
                            <option value=a.as_str() selected=move || action.get() == a>{label}</option>
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" id="save-goals">"Save"</button>
        </form>
    }
}

/// One goal's number field; empty shows "server's".
#[component]
fn GoalInput(
    label: &'static str,
    id: &'static str,
    step: &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label>
            {label}
            <input
                id=id
                type="number"
                min="0"
                step=step
                placeholder="server's"
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_the_servers_goal() {
        assert_eq!(parsed(""), Some(-1.0));
        assert_eq!(parsed("1.5"), Some(1.5));
        assert_eq!(parsed("x"), None);
        assert_eq!(parsed("-2"), None);
        assert_eq!(shown(-1.0), "");
        assert_eq!(shown(2.0), "2");
    }
}
