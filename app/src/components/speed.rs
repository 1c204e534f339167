//! The top bar's "alternative speed" toggle: shows whether the alternative (turtle) limits
//! are in force; an admin's click switches them until the schedule's next edge.

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::live::Live;
use crate::types::{Role, Settings, SettingsPatch};

#[component]
pub fn AltSpeedToggle(live: Live) -> impl IntoView {
    let settings = Resource::new(|| (), |_| client::get::<Settings>("/api/settings".into()));
    // The server's answer to our last click, over what the page loaded with.
    let clicked = RwSignal::new(None::<bool>);
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    view! {
        <Transition fallback=|| ()>
            {move || {
                let loaded = settings.get().and_then(Result::ok).map(|s| s.alt_enabled);
                clicked.get().or(loaded).map(|on| {
                    view! {
                        <button
                            type="button"
                            id="alt-speed"
                            class=if on { "alt-speed on" } else { "alt-speed" }
                            aria-pressed=on.to_string()
                            disabled=move || !admin()
                            title=if on {
                                "Alternative speed limits are on"
                            } else {
                                "Alternative speed limits are off"
                            }
                            on:click=move |_| {
                                let patch = SettingsPatch {
                                    alt_enabled: Some(!on),
                                    ..Default::default()
                                };
                                actions::set_speed(live, patch, move |s| clicked.set(Some(s.alt_enabled)));
                            }
                        >
                            "🐢 " {if on { "Alt speed on" } else { "Alt speed off" }}
                        </button>
                    }
                })
            }}
        </Transition>
    }
}
