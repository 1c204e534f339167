//! TorrentEdge's dashboard: Leptos components and routes, server functions, and the types
//! that the browser and the server share. Built with `ssr` into the server and with
//! `hydrate` into the WASM bundle.

#![recursion_limit = "256"]

pub mod actions;
pub mod api;
pub mod client;
pub mod components;
pub mod format;
pub mod live;
pub mod pages;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path, SsrMode,
};

use components::notices::{Bell, Toasts};
use components::theme::{ThemeToggle, EARLY_SCRIPT};
use live::Live;

/// Where server functions live; `/api` belongs to the REST API.
pub const SERVER_FN_PREFIX: &str = "/sfn";

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <script>{EARLY_SCRIPT}</script>
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The dashboard's root component: routes and page chrome.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = Live::provide();
    let hydrated = RwSignal::new(false);
    // Effects run only in the browser, so this flips once the WASM bundle has taken over.
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Stylesheet id="torrentedge" href="/style.css" />
        <Title text="TorrentEdge" />
        <Router>
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">"TorrentEdge"</a>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/torrents">"Torrents"</A>
                    <A href="/statistics">"Statistics"</A>
                    <A href="/chat">"Chat"</A>
                    <A href="/create">"Create"</A>
                    <A href="/folders">"Folders"</A>
                    <A href="/search">"Search"</A>
                    <A href="/settings">"Settings"</A>
                </nav>
                <div class="spacer"></div>
                <Transition fallback=|| ()>
                    <UserMenu live />
                </Transition>
                <ThemeToggle />
            </header>
            <main id="main" data-hydrated=move || hydrated.get().to_string()>
                <ErrorBoundary fallback=|errors| {
                    view! {
                        <section class="card narrow" role="alert">
                            <h1>"Something went wrong"</h1>
                            <ul>
                                {move || {
                                    errors
                                        .get()
                                        .into_iter()
                                        .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                        .collect_view()
                                }}
                            </ul>
                            <p>
                                <a href="/">"Back to the overview"</a>
                            </p>
                        </section>
                    }
                }>
                    // Async SSR everywhere: the HTML arrives whole, so read-only pages work
                    // without JavaScript (out-of-order streaming needs a script to place
                    // Suspense content).
                    <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                        <Route path=path!("/") view=pages::overview::OverviewPage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=pages::auth::LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/register") view=pages::auth::RegisterPage ssr=SsrMode::Async />
                        <Route path=path!("/torrents") view=pages::torrents::TorrentsPage ssr=SsrMode::Async />
                        <Route
                            path=path!("/torrents/:hash")
                            view=pages::detail::DetailPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/statistics") view=pages::statistics::StatisticsPage ssr=SsrMode::Async />
                        <Route path=path!("/chat") view=pages::chat::ChatPage ssr=SsrMode::Async />
                        <Route path=path!("/create") view=pages::create::CreatePage ssr=SsrMode::Async />
                        <Route path=path!("/folders") view=pages::folders::FoldersPage ssr=SsrMode::Async />
                        <Route path=path!("/search") view=pages::search::SearchPage ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=pages::settings::SettingsPage ssr=SsrMode::Async />
                    </Routes>
                </ErrorBoundary>
            </main>
            <Toasts />
        </Router>
    }
}

/// Who is signed in, the bell, and log out; or the links to sign in.
#[component]
fn UserMenu(live: Live) -> impl IntoView {
    move || match live.user() {
        Some(user) => view! {
            <div class="user">
                <span class=move || {
                    if live.connected.get() { "live on" } else { "live" }
                } title="Live updates">
                    <span class="sr-only">
                        {move || if live.connected.get() { "Live" } else { "Not live" }}
                    </span>
                </span>
                <components::speed::AltSpeedToggle live />
                <Bell />
                <span id="whoami">{user.username}</span>
                <pages::auth::LogoutButton />
            </div>
        }
        .into_any(),
        None => view! {
            <div class="user">
                <a href="/login">"Log in"</a>
                <a href="/register">"Register"</a>
            </div>
        }
        .into_any(),
    }
}
