//! The chat room for everyone on this server: history from the API, new messages live.

use leptos::html;
use leptos::prelude::*;

use crate::client::{self, ApiResult};
use crate::components::Failure;
use crate::format;
use crate::live::use_live;
use crate::types::{ChatMessage, CHAT_MAX_CHARS};

/// The earlier messages and the live ones, in order, without repeats.
fn merged(history: &[ChatMessage], live: &[ChatMessage]) -> Vec<ChatMessage> {
    let mut out = history.to_vec();
    for m in live {
        if !out.iter().any(|x| x.id == m.id) {
            out.push(m.clone());
        }
    }
    out.sort_by_key(|m| m.id);
    out
}

#[component]
pub fn ChatPage() -> impl IntoView {
    let live = use_live();
    let history: Resource<ApiResult<Vec<ChatMessage>>> =
        Resource::new(|| (), |_| client::get("/api/chat?limit=100".into()));
    // Pages of older messages fetched with "Load older".
    let older = RwSignal::new(Vec::<ChatMessage>::new());
    let exhausted = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let list_ref = NodeRef::<html::Ol>::new();

    let messages = move |base: &[ChatMessage]| {
        let mut all = older.get();
        all.extend_from_slice(base);
        live.chat.with(|l| merged(&all, l))
    };
    // Keep the newest message in view.
    Effect::new(move |_| {
        live.chat.track();
        if let Some(el) = list_ref.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });

    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = draft.get_untracked().trim().to_string();
        if body.is_empty() {
            return;
        }
        error.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let req = crate::types::PostChat { body };
            match crate::client::browser::post::<_, ChatMessage>("/api/chat".into(), &req).await {
                Ok(m) => {
                    draft.set(String::new());
                    live.chat.update(|c| {
                        if !c.iter().any(|x| x.id == m.id) {
                            c.push(m);
                        }
                    });
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = body;
    };
    let load_older = move |_| {
        let first = older
            .with_untracked(|o| o.first().map(|m| m.id))
            .or_else(|| {
                history.with_untracked(|h| {
                    h.as_ref()
                        .and_then(|r| r.as_ref().ok())
                        .and_then(|l| l.first().map(|m| m.id))
                })
            });
        let Some(first) = first else { return };
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            match client::get::<Vec<ChatMessage>>(format!("/api/chat?before={first}&limit=100"))
                .await
            {
                Ok(page) => {
                    if page.is_empty() {
                        exhausted.set(true);
                    }
                    older.update(|o| {
                        let mut page = page;
                        page.append(o);
                        *o = page;
                    });
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = first;
    };

    view! {
        <h1 class="page-title">"Chat"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                history.get().map(|r| match r {
                    Err(error) => view! { <Failure error /> }.into_any(),
                    Ok(base) => {
                        let me = live.user().map(|u| u.id);
                        view! {
                            <section class="card chat">
                                <Show when=move || !exhausted.get()>
                                    <button type="button" class="ghost small" on:click=load_older>
                                        "Load older messages"
                                    </button>
                                </Show>
                                <ol class="messages" id="messages" node_ref=list_ref aria-live="polite">
                                    {
                                        let base = base.clone();
                                        move || {
                                            let all = messages(&base);
                                            if all.is_empty() {
                                                return view! { <li class="muted">"No messages yet. Say hello!"</li> }.into_any();
                                            }
                                            all.into_iter()
                                                .map(|m| {
                                                    let mine = Some(m.user_id) == me;
                                                    view! {
                                                        <li class=if mine { "message mine" } else { "message" }>
                                                            <div class="meta">
                                                                <strong>{m.username}</strong>
                                                                <time class="muted">{format::datetime_ms(m.created_at)}</time>
                                                            </div>
                                                            <p class="body">{m.body}</p>
                                                        </li>
                                                    }
                                                })
                                                .collect_view()
                                                .into_any()
                                        }
                                    }
                                </ol>
                                <form class="chat-form" on:submit=send>
                                    <label class="sr-only" for="chat-input">"Message"</label>
                                    <input
                                        id="chat-input"
                                        type="text"
                                        autocomplete="off"
                                        maxlength=CHAT_MAX_CHARS.to_string()
                                        placeholder="Write a message"
                                        bind:value=draft
                                    />
                                    <button type="submit" id="chat-send">"Send"</button>
                                </form>
                                <Show when=move || error.get().is_some()>
                                    <p class="error" role="alert">{move || error.get()}</p>
                                </Show>
                            </section>
                        }
                        .into_any()
                    }
                })
            }}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: i64) -> ChatMessage {
        ChatMessage {
            id,
            user_id: 1,
            username: "a".into(),
            body: format!("m{id}"),
            created_at: id,
        }
    }

    #[test]
    fn merges_without_repeats_in_order() {
        let got = merged(&[m(1), m(2)], &[m(2), m(4), m(3)]);
        assert_eq!(got.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3, 4]);
    }
}
