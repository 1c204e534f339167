//! `torrentedge serve`: starts the engine, restores torrents, serves the dashboard and the API.

mod assets;
mod forms;
mod headers;
mod listen;
mod public_base;
mod ssr_api;

pub use public_base::public_base;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use app::{shell, App};
use axum::{
    extract::{Request, State},
    middleware,
    response::{IntoResponse, Response},
    Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tokio::sync::watch;

use crate::api::{self, errors::ApiError};
use crate::auth::{jwt::Keys, ratelimit::LoginLimiter, secret};
use crate::config::Config;
pub use crate::config::ServeArgs;
use crate::db::Db;
use crate::events::{self, EventHub};
use crate::metrics::Metrics;
use crate::state::{AppState, Inner};
use crate::torrents::{self, Library};

/// Builds the router: the API, the dashboard's pages and server functions, embedded files.
pub fn router(state: AppState) -> Router {
    let request_timeout = state.config.request_timeout;
    let routes = generate_route_list(App);
    let leptos = state.leptos.clone();
    let api = api::routes(
        state.config.max_torrent_size,
        state.config.max_create_upload,
    );
    // The API once more, for pages rendering on the server to read in-process.
    let ssr = ssr_api::ssr_api(
        api::routes(
            state.config.max_torrent_size,
            state.config.max_create_upload,
        )
        .router
        .with_state(state.clone()),
    );
    let context = move || leptos::prelude::provide_context(ssr.clone());
    api.router
        // qBittorrent's WebUI API and Transmission's RPC (see docs/compat.md).
        .merge(crate::compat::router(state.config.max_torrent_size))
        // BEP 19 web seeds: the torrents' complete files over HTTP (docs/server.md).
        .merge(crate::webseed::routes())
        // The login and register forms post here when JavaScript is off.
        .route("/login", axum::routing::post(forms::login))
        .route("/register", axum::routing::post(forms::register))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(leptos.clone())
        })
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
        .with_state(state.clone())
        // The built-in tracker: outside the API's metrics layer (one counter of its own).
        .merge(match &state.tracker {
            Some(t) => crate::tracker::http::router(t.clone(), &state.config.trusted_proxies),
            None => Router::new(),
        })
        .layer(axum::Extension(Fallback404(Arc::new(context))))
        .layer(middleware::from_fn_with_state(
            request_timeout,
            listen::request_timeout,
        ))
        .layer(middleware::from_fn(headers::security_headers))
        .layer(middleware::from_fn(headers::close_after_refused_body))
}

/// What the 404 page needs to render like the others.
#[derive(Clone)]
struct Fallback404(Arc<dyn Fn() + Send + Sync>);

/// Everything the server runs, started and restored.
async fn start(config: Config, leptos: LeptosOptions) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let secret = secret::load_or_create(config.jwt_secret.as_deref(), &config.data_dir)
        .context("cannot load or create the JWT secret")?;
    let db = Db::connect(&config.database_url)
        .await
        .context("cannot open the database")?;
    tracing::info!(backend = db.backend().name(), "database ready");
    let saved_dht = config
        .dht
        .as_ref()
        .and_then(|_| crate::dht::load(&config.data_dir));
    // Stored network choices (changed in the settings) win over the options.
    let network = config
        .network
        .stored_over(&db)
        .await
        .context("cannot load the network settings")?;
    let mut config = config;
    config.network = network;
    let session_config = |saved: Option<Vec<u8>>| {
        let mut c = engine::config::SessionConfig {
            listen_addr: SocketAddr::new(config.peer_bind, config.peer_port),
            max_peers_total: config.max_peer_connections,
            max_peers_per_torrent: config.max_peers_per_torrent,
            max_peers_per_ip: config.max_peers_per_ip,
            upload_slots_per_torrent: config.upload_slots_per_torrent,
            upload_slots_total: config.upload_slots,
            allow_local_trackers: config.allow_local_trackers,
            // Fast-resume records beside the database: a restart does not rehash verified data.
            resume_dir: Some(config.data_dir.join("resume")),
            pex: config.pex,
            encryption: config.encryption,
            dht: config
                .dht
                .as_ref()
                .map(|d| d.engine_config(config.peer_bind, saved)),
            ..Default::default()
        };
        network.apply(&mut c);
        c
    };
    let had_saved = saved_dht.is_some();
    let session = match engine::session::Session::start(session_config(saved_dht)).await {
        // A damaged state file must not keep the server down: join afresh.
        Err(engine::session::EngineError::Dht(engine::dht::DhtError::SavedTable(e)))
            if had_saved =>
        {
            tracing::warn!("ignoring the saved DHT state: {e}");
            engine::session::Session::start(session_config(None)).await
        }
        other => other,
    }
    .with_context(|| {
        format!(
            "cannot start the peer listener on port {} (and the DHT node)",
            config.peer_port
        )
    })?;
    match session.local_addr_v6() {
        Some(v6) => tracing::info!("peer listeners on {} and {v6}", session.local_addr()),
        None => tracing::info!("peer listener on {}", session.local_addr()),
    }
    match session.dht_addr() {
        Some(addr) => tracing::info!("DHT node on {addr} (UDP)"),
        None => tracing::info!("DHT off"),
    }
    if let Some(addr) = session
        .dht_addr_v6()
        .filter(|_| session.dht_addr() != session.dht_addr_v6())
    {
        tracing::info!("IPv6 DHT node on {addr} (UDP)");
    }
    let hub = EventHub::new(config.event_buffer);
    let library = Arc::new(Library::new(
        session.clone(),
        db.clone(),
        hub.clone(),
        config.download_path.clone(),
    ));
    let (shutdown, _) = watch::channel(false);
    let speed = Arc::new(
        crate::speed::Speed::load(session.clone(), db.clone(), &config)
            .await
            .context("cannot load the speed settings")?,
    );
    speed.clone().spawn(shutdown.subscribe());
    crate::encryption::restore(&session, &db)
        .await
        .context("cannot load the encryption setting")?;
    let kafka = crate::kafka::Kafka::start_from_env(&hub, shutdown.subscribe())
        .await
        .context("cannot start the Kafka adapter")?;
    // Subscribe before restoring so no restored torrent's events are missed.
    events::adapter::spawn(
        session.subscribe(),
        hub.clone(),
        library.registry.clone(),
        config.progress_interval,
        shutdown.subscribe(),
    );
    torrents::spawn_watcher(library.clone(), session.subscribe(), shutdown.subscribe());
    torrents::spawn_goals(library.clone(), shutdown.subscribe());
    // The cap first, so restored torrents beyond it wait in the queue from the start.
    library.set_max_active(config.max_concurrent_torrents);
    library.set_quotas(config.max_torrents_per_user, config.max_disk_per_user);
    let restored = library.restore().await.context("cannot restore torrents")?;
    tracing::info!("restored {restored} torrents");
    let tracker = crate::tracker::start(&config, &db, &library, &shutdown).await?;
    // After the restore: a share finds its items' torrents in the library.
    let folders = crate::folders::Folders::start(
        library.clone(),
        db.clone(),
        config.folders.clone(),
        shutdown.subscribe(),
    )
    .await
    .context("cannot start the watch and shared folders")?;
    let nostr = if config.nostr_relays.is_empty() {
        None
    } else {
        Some(
            crate::nostr::Nostr::start(
                library.clone(),
                &config.data_dir,
                config.nostr_relays.clone(),
                shutdown.subscribe(),
            )
            .context("cannot load the Nostr key")?,
        )
    };
    let search = crate::search::Search::new(config.federation.clone(), nostr)
        .context("cannot build the federation HTTP client")?;
    let state = AppState::new(Inner {
        keys: Keys::new(&secret),
        limiter: LoginLimiter::new(config.login_rate_limit),
        register_limiter: LoginLimiter::with_window(
            config.register_rate_limit,
            std::time::Duration::from_secs(3600),
        ),
        metrics: Metrics::default(),
        started: Instant::now(),
        register_lock: tokio::sync::Mutex::new(()),
        streams: Default::default(),
        config,
        db,
        library,
        hub,
        leptos,
        shutdown,
        compat: Default::default(),
        kafka,
        speed,
        tracker,
        folders,
        search,
    });
    crate::stats::spawn(state.clone(), state.shutdown.subscribe());
    crate::dht::spawn_saver(
        state.library.session().clone(),
        state.config.data_dir.clone(),
        state.shutdown.subscribe(),
    );
    Ok(state)
}

/// Runs the server until Ctrl-C or SIGTERM, then saves every torrent and stops the engine.
pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    app::api::started();
    let config = Config::load(args)?;
    let addr = SocketAddr::new(config.bind, config.port);
    let leptos = LeptosOptions::builder()
        .output_name("torrentedge")
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let state = start(config, leptos).await?;
    tracing::info!("TorrentEdge dashboard on http://{}", listener.local_addr()?);
    let stop = state.shutdown.clone();
    let limits = listen::Limits {
        max_connections: listen::connection_budget(
            state.config.max_http_connections,
            state.config.max_peer_connections,
        ),
        header_timeout: state.config.header_timeout,
    };
    let result = listen::serve(listener, router(state.clone()), limits, async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        // Ends the event streams, which would otherwise hold the server open.
        let _ = stop.send(true);
    })
    .await
    .context("HTTP server failed");
    let _ = state.shutdown.send(true);
    if let Err(e) = state.library.save_progress().await {
        tracing::warn!("cannot save torrents: {e}");
    }
    crate::dht::save(state.library.session(), &state.config.data_dir).await;
    state.library.session().shutdown().await;
    if let Some(kafka) = &state.kafka {
        kafka.close().await;
    }
    if let Err(e) = state.library.save_progress().await {
        tracing::warn!("cannot save torrents: {e}");
    }
    state.db.close().await;
    result
}

/// Embedded files first; unknown API paths get a JSON 404; anything else is a 404 page
/// rendered by the dashboard.
async fn fallback(
    State(options): State<LeptosOptions>,
    axum::Extension(ctx): axum::Extension<Fallback404>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_owned();
    if let Some(bytes) = assets::lookup(&path) {
        return assets::respond(&path, bytes);
    }
    if path.starts_with("/api/") {
        return ApiError::NotFound(format!("no route {path}")).into_response();
    }
    if path.starts_with("/pkg/") {
        return assets::not_found();
    }
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || (ctx.0)(),
        move || shell(options.clone()),
    );
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
