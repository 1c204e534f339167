//! The settings card for how the server reaches peers: uTP, an IPv6 listener, local service
//! discovery and port forwarding on the router (with what the router forwards now). Saved through `PATCH /api/settings` (admins); they decide which sockets the
//! engine binds, so they apply at the next start, and the card says when one is pending.

use leptos::prelude::*;

use crate::actions;
use crate::live::use_live;
use crate::types::{NetworkPatch, NetworkSettings, Role, SettingsPatch};

#[component]
pub fn NetworkForm(network: NetworkSettings) -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    let utp = RwSignal::new(network.utp);
    let ipv6 = RwSignal::new(network.ipv6);
    let lsd = RwSignal::new(network.lsd);
    let upnp = RwSignal::new(network.upnp);
    let mappings = network.port_mappings.clone();
    let pending = RwSignal::new(network.restart_required);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let patch = SettingsPatch {
            network: Some(NetworkPatch {
                utp: Some(utp.get_untracked()),
                ipv6: Some(ipv6.get_untracked()),
                lsd: Some(lsd.get_untracked()),
                upnp: Some(upnp.get_untracked()),
            }),
            ..Default::default()
        };
        actions::set_speed(live, patch, move |s| {
            utp.set(s.network.utp);
            ipv6.set(s.network.ipv6);
            lsd.set(s.network.lsd);
            upnp.set(s.network.upnp);
            pending.set(s.network.restart_required);
            live.toast("Network settings saved", false);
        });
    };
    view! {
        <form class="card grid-form" id="network-form" on:submit=save>
            <h2>"Network"</h2>
            <p class="muted" id="network-state">
                {move || if pending.get() {
                    "Saved; they apply when the server restarts."
                } else {
                    "In force now."
                }}
            </p>
            <label>
                <input
                    type="checkbox"
                    id="network-utp"
                    prop:checked=move || utp.get()
                    on:change=move |ev| utp.set(event_target_checked(&ev))
                />
                " uTP (peer connections over UDP, TCP as the fallback)"
            </label>
            <label>
                <input
                    type="checkbox"
                    id="network-ipv6"
                    prop:checked=move || ipv6.get()
                    on:change=move |ev| ipv6.set(event_target_checked(&ev))
                />
                " IPv6 peers (a second listener on the same port)"
            </label>
            <label>
                <input
                    type="checkbox"
                    id="network-lsd"
                    prop:checked=move || lsd.get()
                    on:change=move |ev| lsd.set(event_target_checked(&ev))
                />
                " Local peer discovery (LAN multicast, public torrents only)"
            </label>
            <label>
                <input
                    type="checkbox"
                    id="network-upnp"
                    prop:checked=move || upnp.get()
                    on:change=move |ev| upnp.set(event_target_checked(&ev))
                />
                " Port forwarding on the router (NAT-PMP, UPnP)"
            </label>
            <ul class="muted" id="port-mappings">
                {if mappings.is_empty() {
                    view! { <li>"The router forwards no port to this server."</li> }.into_any()
                } else {
                    mappings
                        .into_iter()
                        .map(|m| {
                            view! {
                                <li>
                                    {format!(
                                        "{} {} → port {} ({})",
                                        m.protocol, m.external, m.internal, m.method,
                                    )}
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
            <button type="submit" id="save-network" disabled=move || !admin()>
                "Save network"
            </button>
        </form>
    }
}
