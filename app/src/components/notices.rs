//! Notifications: the bell with its unread count and list, the recent list on the overview,
//! and toasts in the corner.

use leptos::prelude::*;

use crate::format;
use crate::live::{use_live, Live};
use crate::types::{Notification, NotificationKind};

/// Live notifications first, then what the server listed (without repeats), newest first.
pub fn merged(live: Live) -> Vec<Notification> {
    let mut out = live.fresh_notices.get();
    if let Some(Ok(list)) = live.notices.get() {
        for n in list.items {
            if !out.iter().any(|x| x.id == n.id) {
                out.push(n);
            }
        }
    }
    out
}

fn unread(live: Live) -> usize {
    let base = live
        .notices
        .get()
        .and_then(Result::ok)
        .map_or(0, |l| l.unread);
    base + live.unread.get()
}

fn kind_icon(k: NotificationKind) -> &'static str {
    match k {
        NotificationKind::Completed => "✔",
        NotificationKind::Seeding => "⇡",
        NotificationKind::Error => "⚠",
    }
}

/// A list of notifications linking to their torrents.
#[component]
pub fn NoticeList(limit: usize) -> impl IntoView {
    let live = use_live();
    view! {
        {move || {
            let items = merged(live);
            if items.is_empty() {
                return view! { <p class="muted">"No notifications yet."</p> }.into_any();
            }
            view! {
                <ul class="notices">
                    {items
                        .into_iter()
                        .take(limit)
                        .map(|n| {
                            view! {
                                <li class=format!(
                                    "notice {:?} {}",
                                    n.kind,
                                    if n.read { "read" } else { "unread" },
                                )>
                                    <span class="icon" aria-hidden="true">{kind_icon(n.kind)}</span>
                                    <a href=format!("/torrents/{}", n.info_hash)>{n.message}</a>
                                    <time class="muted">{format::datetime_ms(n.created_at)}</time>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

/// The bell in the top bar.
#[component]
pub fn Bell() -> impl IntoView {
    let live = use_live();
    let open = RwSignal::new(false);
    let mark_read = move |_| {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let body = crate::types::MarkRead { ids: None };
            match crate::client::browser::post::<_, ()>("/api/notifications/read".into(), &body)
                .await
            {
                Ok(()) => {
                    live.unread.set(0);
                    live.fresh_notices.set(Vec::new());
                    live.notices.refetch();
                }
                Err(e) => live.toast(e.message, true),
            }
        });
    };
    view! {
        <div class="bell">
            <button
                type="button"
                class="ghost"
                id="bell"
                aria-haspopup="true"
                aria-expanded=move || open.get().to_string()
                aria-label=move || format!("Notifications, {} unread", unread(live))
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" />
                </svg>
                <Show when=move || { unread(live) > 0 }>
                    <span class="count" id="unread-count">{move || unread(live)}</span>
                </Show>
            </button>
            <Show when=move || open.get()>
                <div class="dropdown" role="region" aria-label="Notifications">
                    <div class="row-between">
                        <strong>"Notifications"</strong>
                        <button type="button" class="small" on:click=mark_read>
                            "Mark all read"
                        </button>
                    </div>
                    <NoticeList limit=20 />
                </div>
            </Show>
        </div>
    }
}

/// Toasts, announced politely to screen readers.
#[component]
pub fn Toasts() -> impl IntoView {
    let live = use_live();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || live.toasts.get() key=|t| t.id let:t>
                <div class=if t.error { "toast error" } else { "toast" }>
                    <span>{t.text}</span>
                    <button
                        type="button"
                        class="ghost small"
                        aria-label="Dismiss"
                        on:click=move |_| live.toasts.update(|all| all.retain(|x| x.id != t.id))
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
