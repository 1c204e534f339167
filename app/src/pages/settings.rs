//! Settings: the server's speed limits, the alternative (turtle) limits and their weekly
//! schedule, the seeding goals of torrents without their own, encryption and the network. Everyone sees them; admins
//! change them. Rates are KiB/s, 0 = unlimited; goals 0 = none.

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::components::bans::BanList;
use crate::components::encryption::EncryptionForm;
use crate::components::network::NetworkForm;
use crate::components::Failure;
use crate::format;
use crate::live::use_live;
use crate::types::{
    AltSchedule, GoalAction, Role, SeedingGoals, SeedingGoalsPatch, Settings, SettingsPatch,
};

const DAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| client::get::<Settings>("/api/settings".into()));
    view! {
        <h1 class="page-title">"Settings"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                settings.get().map(|r| match r {
                    Ok(s) => view! {
                        <SpeedForm settings=s.clone() />
                        <GoalsForm goals=s.seeding />
                        <EncryptionForm policy=s.encryption />
                        <NetworkForm network=s.network />
                    }
                    .into_any(),
                    Err(error) => view! { <Failure error /> }.into_any(),
                })
            }}
        </Transition>
        <BanList />
    }
}

/// A KiB/s field bound to `value`.
#[component]
fn RateField(id: &'static str, label: &'static str, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>
            {label} " (KiB/s) "
            <input
                id=id
                type="number"
                min="0"
                placeholder="unlimited"
                value=value.get_untracked()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

#[component]
fn SpeedForm(settings: Settings) -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    let down = RwSignal::new(format::kib(settings.download_limit));
    let up = RwSignal::new(format::kib(settings.upload_limit));
    let alt_down = RwSignal::new(format::kib(settings.alt_download_limit));
    let alt_up = RwSignal::new(format::kib(settings.alt_upload_limit));
    let sched = settings.alt_schedule.clone();
    let enabled = RwSignal::new(sched.enabled);
    let from = RwSignal::new(sched.from.clone());
    let to = RwSignal::new(sched.to.clone());
    let days = RwSignal::new(sched.days.clone());
    let alt_on = RwSignal::new(settings.alt_enabled);
    let manual = RwSignal::new(settings.alt_manual);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let rates = [down, up, alt_down, alt_up].map(|s| format::parse_kib(&s.get_untracked()));
        let [Some(d), Some(u), Some(ad), Some(au)] = rates else {
            live.toast("Limits are whole KiB/s (0 = unlimited)", true);
            return;
        };
        let patch = SettingsPatch {
            download_limit: Some(d),
            upload_limit: Some(u),
            alt_download_limit: Some(ad),
            alt_upload_limit: Some(au),
            alt_schedule: Some(AltSchedule {
                enabled: enabled.get_untracked(),
                from: from.get_untracked(),
                to: to.get_untracked(),
                days: days.get_untracked(),
            }),
            alt_enabled: None,
            ..Default::default()
        };
        actions::set_speed(live, patch, move |s| {
            alt_on.set(s.alt_enabled);
            manual.set(s.alt_manual);
            live.toast("Settings saved", false);
        });
    };
    view! {
        <section class="card">
            <h2>"Speed limits"</h2>
            <p id="alt-state">
                {move || format!(
                    "Alternative limits are {}{}.",
                    if alt_on.get() { "on" } else { "off" },
                    if manual.get() { " (set by hand until the schedule's next change)" } else { "" },
                )}
            </p>
            <p class="muted" id="limits-summary">
                {format!(
                    "Global: ↓ {}, ↑ {}. Alternative: ↓ {}, ↑ {}.",
                    format::limit(settings.download_limit),
                    format::limit(settings.upload_limit),
                    format::limit(settings.alt_download_limit),
                    format::limit(settings.alt_upload_limit),
                )}
            </p>
            <form id="speed-settings" on:submit=save>
                <fieldset disabled=move || !admin()>
                    <div class="row">
                        <RateField id="set-down" label="Download" value=down />
                        <RateField id="set-up" label="Upload" value=up />
                    </div>
                    <div class="row">
                        <RateField id="set-alt-down" label="Alternative download" value=alt_down />
                        <RateField id="set-alt-up" label="Alternative upload" value=alt_up />
                    </div>
                    <div class="row">
                        <label class="check">
                            <input type="checkbox" id="alt-schedule" bind:checked=enabled />
                            " Alternative limits on a schedule, from "
                        </label>
                        <input
                            type="time"
                            id="alt-from"
                            aria-label="From"
                            value=sched.from.clone()
                            prop:value=move || from.get()
                            on:input=move |ev| from.set(event_target_value(&ev))
                        />
                        " to "
                        <input
                            type="time"
                            id="alt-to"
                            aria-label="To"
                            value=sched.to.clone()
                            prop:value=move || to.get()
                            on:input=move |ev| to.set(event_target_value(&ev))
                        />
                    </div>
                    <div class="row" role="group" aria-label="Days">
                        {DAYS
                            .into_iter()
                            .map(|(key, label)| {
                                let checked = move || days.with(|d| d.iter().any(|x| x == key));
                                view! {
                                    <label class="check">
                                        <input
                                            type="checkbox"
                                            id=format!("day-{key}")
                                            checked=checked
                                            prop:checked=checked
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                days.update(|d| {
                                                    d.retain(|x| x != key);
                                                    if on {
                                                        d.push(key.to_string());
                                                    }
                                                });
                                            }
                                        />
                                        " " {label}
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                    <button type="submit" id="save-settings">"Save"</button>
                </fieldset>
            </form>
        </section>
    }
}

/// The server's seeding goals: a torrent without its own stops seeding (paused or removed)
/// at the first one it reaches.
#[component]
fn GoalsForm(goals: SeedingGoals) -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    let ratio = RwSignal::new(goals.ratio_limit.to_string());
    let minutes = RwSignal::new(goals.seeding_time_limit.to_string());
    let idle = RwSignal::new(goals.inactive_seeding_time_limit.to_string());
    let action = RwSignal::new(goals.action);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let r = ratio.get_untracked().trim().parse::<f64>().ok();
        let m = minutes.get_untracked().trim().parse::<u64>().ok();
        let i = idle.get_untracked().trim().parse::<u64>().ok();
        let (Some(r), Some(m), Some(i)) = (r.filter(|r| r.is_finite() && *r >= 0.0), m, i) else {
            live.toast("Goals are numbers, 0 = none (minutes are whole)", true);
            return;
        };
        let patch = SettingsPatch {
            seeding: Some(SeedingGoalsPatch {
                ratio_limit: Some(r),
                seeding_time_limit: Some(m),
                inactive_seeding_time_limit: Some(i),
                action: Some(action.get_untracked()),
            }),
            ..Default::default()
        };
        actions::set_speed(live, patch, move |_| {
            live.toast("Seeding goals saved", false)
        });
    };
    let field =
        |id: &'static str, label: &'static str, value: RwSignal<String>, step: &'static str| {
            view! {
                <label>
                    {label} " "
                    <input
                        id=id
                        type="number"
                        min="0"
                        step=step
                        value=value.get_untracked()
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    />
                </label>
            }
        };
    view! {
        <form class="card grid-form" id="goals-form" on:submit=save>
            <h2>"Seeding goals"</h2>
            <p class="muted">"For torrents without their own; 0 = none."</p>
            {field("goal-ratio", "Ratio", ratio, "0.1")}
            {field("goal-minutes", "Seeding minutes", minutes, "1")}
            {field("goal-idle", "Minutes without upload", idle, "1")}
            <label>
                "Then "
                <select
                    id="goal-action"
                    on:change=move |ev| {
                        action.set(if event_target_value(&ev) == "remove" {
                            GoalAction::Remove
                        } else {
                            GoalAction::Pause
                        })
                    }
                >
                    <option value="pause" selected=move || action.get() == GoalAction::Pause>"Pause"</option>
                    <option value="remove" selected=move || action.get() == GoalAction::Remove>"Remove (keep data)"</option>
                </select>
            </label>
            <button type="submit" id="save-goals-settings" disabled=move || !admin()>"Save goals"</button>
        </form>
    }
}
