//! Log in, register, log out.

use leptos::prelude::*;

use crate::live::use_live;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Login,
    Register,
}

#[component]
pub fn LoginPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::Login /> }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::Register /> }
}

/// Where to go after signing in: the `next` query parameter when it is a local path.
///
/// The server's no-JavaScript forms use the same rule.
pub fn next_path(next: Option<String>) -> String {
    next.filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".into())
}

/// A path on this site: one leading `/`, no backslash and no control character. Browsers
/// read `\` as `/` and drop tabs and newlines, so `/\evil.example` and `/<TAB>/evil.example`
/// would both leave the site.
pub fn is_local_path(n: &str) -> bool {
    n.starts_with('/') && !n.starts_with("//") && !n.chars().any(|c| c == '\\' || c.is_control())
}

#[component]
fn AuthForm(mode: Mode) -> impl IntoView {
    let live = use_live();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let query = leptos_router::hooks::use_query_map();
    // Set by the server when a form posted without JavaScript failed.
    let error = RwSignal::new(query.with_untracked(|q| q.get("error")));
    let busy = RwSignal::new(false);
    let navigate = leptos_router::hooks::use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let creds = crate::types::Credentials {
            username: username.get_untracked().trim().to_string(),
            password: password.get_untracked(),
        };
        let next = next_path(query.get_untracked().get("next"));
        let navigate = navigate.clone();
        busy.set(true);
        error.set(None);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            use crate::client::browser::post;
            use crate::types::{LoginResponse, User};
            let mut result = Ok(());
            if mode == Mode::Register {
                result = post::<_, User>("/api/auth/register".into(), &creds)
                    .await
                    .map(drop);
            }
            if result.is_ok() {
                result = post::<_, LoginResponse>("/api/auth/login".into(), &creds)
                    .await
                    .map(drop);
            }
            busy.set(false);
            match result {
                Ok(()) => {
                    live.refresh();
                    navigate(&next, Default::default());
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (creds, next, navigate, live);
    };
    let (title, action, other) = match mode {
        Mode::Login => (
            "Log in",
            "Log in",
            view! {
                <p class="muted">"No account yet? " <a href="/register">"Register"</a></p>
            },
        ),
        Mode::Register => (
            "Create an account",
            "Register",
            view! {
                <p class="muted">"Already registered? " <a href="/login">"Log in"</a></p>
            },
        ),
    };
    view! {
        <section class="card narrow">
            <h1>{title}</h1>
            <form on:submit=on_submit method="post" id="auth-form">
                <label for="username">"Username"</label>
                <input
                    id="username"
                    name="username"
                    autocomplete="username"
                    required
                    bind:value=username
                />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete=if mode == Mode::Login { "current-password" } else { "new-password" }
                    required
                    bind:value=password
                />
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert" id="auth-error">
                        {move || error.get()}
                    </p>
                </Show>
                <button type="submit" disabled=move || busy.get()>
                    {action}
                </button>
            </form>
            {other}
        </section>
    }
}

#[component]
pub fn LogoutButton() -> impl IntoView {
    let live = use_live();
    let navigate = leptos_router::hooks::use_navigate();
    let on_click = move |_| {
        let navigate = navigate.clone();
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            if let Err(e) =
                crate::client::browser::post::<_, ()>("/api/auth/logout".into(), &()).await
            {
                live.toast(e.message, true);
            }
            live.refresh();
            navigate("/login", Default::default());
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (navigate, live);
    };
    view! {
        <button type="button" class="ghost" id="logout" on:click=on_click>
            "Log out"
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::next_path;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(next_path(Some("/torrents".into())), "/torrents");
        assert_eq!(next_path(Some("//evil.example".into())), "/");
        assert_eq!(next_path(Some("https://evil.example".into())), "/");
        assert_eq!(next_path(None), "/");
        // Open redirects through what browsers normalise (issue 11).
        for evil in [
            "/\t/evil.example",
            "/\\evil.example",
            "/\n/evil.example",
            "/\r//evil",
        ] {
            assert_eq!(next_path(Some(evil.into())), "/", "{evil:?}");
        }
        assert_eq!(next_path(Some("/torrents?q=a b".into())), "/torrents?q=a b");
    }
}
