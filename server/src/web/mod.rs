//! `torrentedge serve`: the HTTP server for the dashboard and the API.

mod assets;

use anyhow::Context;
use app::{shell, App};
use axum::{
    extract::{Request, State},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::{IpAddr, SocketAddr};

/// Options of `torrentedge serve`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// HTTP port for the dashboard and API.
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address the HTTP server binds to.
    #[arg(long, env = "BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
}

/// Builds the router: API routes, the dashboard's pages and server functions, embedded files.
pub fn router(options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/api/health", get(health))
        .leptos_routes(&options, routes, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(fallback)
        .with_state(options)
}

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    app::api::started();
    let addr = SocketAddr::new(args.bind, args.port);
    let options = LeptosOptions::builder()
        .output_name("torrentedge")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!("TorrentEdge dashboard on http://{}", listener.local_addr()?);
    axum::serve(listener, router(options))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("HTTP server failed")
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// Embedded files first; anything else is a 404 rendered by the dashboard.
async fn fallback(State(options): State<LeptosOptions>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(bytes) = assets::lookup(&path) {
        return assets::respond(&path, bytes);
    }
    if path.starts_with("/api/") || path.starts_with("/pkg/") {
        return assets::not_found();
    }
    let handler = leptos_axum::render_app_to_stream(move || shell(options.clone()));
    let mut res = handler(req).await.into_response();
    *res.status_mut() = axum::http::StatusCode::NOT_FOUND;
    res
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
