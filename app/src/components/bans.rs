//! Banned peers: the list everyone sees on the settings page, unban and ban-by-address for
//! admins; and the peer table's "Ban" button.

use leptos::prelude::*;

use crate::actions;
use crate::client;
use crate::components::{DataTable, Failure};
use crate::live::use_live;
use crate::types::{BanInfo, Role};

const BAN_HEADERS: &[(&str, &str)] = &[("Address", ""), ("Reason", ""), ("Since", ""), ("", "")];

/// The settings page's card of banned addresses.
#[component]
pub fn BanList() -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    let version = RwSignal::new(0u64);
    let bans = Resource::new(
        move || version.get(),
        |_| client::get::<Vec<BanInfo>>("/api/bans".into()),
    );
    let reload = move || version.update(|v| *v += 1);
    let ip = RwSignal::new(String::new());
    let ban = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let addr = ip.get_untracked().trim().to_string();
        if !addr.is_empty() {
            actions::ban(live, addr, move || {
                ip.set(String::new());
                reload();
            });
        }
    };
    view! {
        <section class="card" id="bans">
            <h2>"Banned peers"</h2>
            <p class="muted">
                "Addresses that sent corrupt data (after repeated proven bad pieces), pushed data nobody asked for, or were banned by hand. Bans last until the server restarts."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || bans.get().map(|r| match r {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="muted" id="no-bans">"No banned peers."</p> }.into_any()
                    }
                    Ok(list) => view! {
                        <DataTable id="ban-list" class="bans" headers=BAN_HEADERS>
                            {list
                                .into_iter()
                                .map(|b| {
                                    let addr = b.ip.clone();
                                    view! {
                                        <tr class="ban">
                                            <th scope="row" class="mono">{b.ip}</th>
                                            <td data-label="Reason">{b.reason}</td>
                                            <td data-label="Since">{crate::format::datetime(b.since as i64)}</td>
                                            <td>
                                                <button
                                                    type="button"
                                                    class="unban"
                                                    disabled=move || !admin()
                                                    on:click=move |_| actions::unban(live, addr.clone(), reload)
                                                >
                                                    "Unban"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </DataTable>
                    }
                    .into_any(),
                    Err(error) => view! { <Failure error /> }.into_any(),
                })}
            </Transition>
            <form class="row" id="ban-form" on:submit=ban>
                <fieldset disabled=move || !admin()>
                    <label>
                        "Ban an address "
                        <input
                            id="ban-ip"
                            type="text"
                            placeholder="203.0.113.7"
                            prop:value=move || ip.get()
                            on:input=move |ev| ip.set(event_target_value(&ev))
                        />
                    </label>
                    <button type="submit">"Ban"</button>
                </fieldset>
            </form>
        </section>
    }
}
