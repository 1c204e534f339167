//! The top bar's "alternative speed" toggle: shows whether the alternative (turtle) limits
//! are in force; an admin's click switches them until the schedule's next edge.
//!
//! Rendered in the browser only, once the page is live: the server renders nothing here, so
//! hydration never meets a top bar that differs from the one the server sent (a resource
//! inside the user menu's transition did, and hydration panicked).

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::live::Live;
use crate::types::{Role, Settings, SettingsPatch};

#[component]
pub fn AltSpeedToggle(live: Live) -> impl IntoView {
    let state = RwSignal::new(None::<bool>);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(s) = client::get::<Settings>("/api/settings".into()).await {
                state.set(Some(s.alt_enabled));
            }
        });
    });
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    move || {
        state.get().map(|on| {
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
                        actions::set_speed(live, patch, move |s| state.set(Some(s.alt_enabled)));
                    }
                >
                    "🐢 " {if on { "Alt speed on" } else { "Alt speed off" }}
                </button>
            }
        })
    }
}
