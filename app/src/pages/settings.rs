//! Settings: the server's speed limits, the alternative (turtle) limits and their weekly
//! schedule. Everyone sees them; admins change them. Rates are KiB/s, 0 = unlimited.

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::components::Failure;
use crate::format;
use crate::live::use_live;
use crate::types::{AltSchedule, Role, Settings, SettingsPatch};

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
                    Ok(s) => view! { <SpeedForm settings=s /> }.into_any(),
                    Err(error) => view! { <Failure error /> }.into_any(),
                })
            }}
        </Transition>
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
            seeding: None,
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
