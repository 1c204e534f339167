//! TorrentEdge's dashboard: Leptos components and routes, server functions, and the types
//! that the browser and the server share. Built with `ssr` into the server and with
//! `hydrate` into the WASM bundle.

pub mod api;
pub mod pages;
pub mod types;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

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
    view! {
        <Stylesheet id="torrentedge" href="/style.css" />
        <Title text="TorrentEdge" />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"TorrentEdge"</a>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    // Async SSR: the HTML arrives whole, so read-only pages work without
                    // JavaScript (out-of-order streaming needs a script to place Suspense
                    // content).
                    <Route path=path!("/") view=pages::home::HomePage ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
