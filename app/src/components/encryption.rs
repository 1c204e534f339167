//! The settings card for peer connection encryption (MSE/PE): one choice of three, saved
//! through `PATCH /api/settings` (admins). It applies to connections made from then on.

use leptos::prelude::*;

use crate::actions;
use crate::live::use_live;
use crate::types::{EncryptionPolicy, Role, SettingsPatch};

#[component]
pub fn EncryptionForm(policy: EncryptionPolicy) -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    let chosen = RwSignal::new(policy);
    let saved = RwSignal::new(policy);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = SettingsPatch {
            encryption: Some(chosen.get_untracked()),
            ..Default::default()
        };
        actions::set_speed(live, patch, move |s| {
            saved.set(s.encryption);
            chosen.set(s.encryption);
            live.toast("Encryption setting saved", false);
        });
    };
    view! {
        <form class="card grid-form" id="encryption-form" on:submit=save>
            <h2>"Peer encryption"</h2>
            <p class="muted" id="encryption-state">
                {move || format!(
                    "Now: {} ({}). Applies to new connections; it hides the protocol from \
                     observers, it does not authenticate peers.",
                    saved.get().as_str(),
                    saved.get().describe(),
                )}
            </p>
            <label>
                "Encryption "
                <select
                    id="encryption-policy"
                    on:change=move |ev| {
                        if let Some(p) = EncryptionPolicy::from_name(&event_target_value(&ev)) {
                            chosen.set(p);
                        }
                    }
                >
                    {EncryptionPolicy::ALL
                        .into_iter()
                        .map(|p| {
                            view! {
                                <option value=p.as_str() selected=move || chosen.get() == p>
                                    {p.as_str()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit" id="save-encryption" disabled=move || !admin()>
                "Save encryption"
            </button>
        </form>
    }
}
