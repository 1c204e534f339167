//! `GET /api/health` (no token needed): engine, database and peer listener. 200 when all
//! are fine, 503 otherwise. Details (error texts, addresses, counts) only for a signed-in
//! caller: to anyone else a component is just `ok` or `unavailable`. Kafka (when configured)
//! unreachable: "degraded" but 200, since the server works on and queues its events.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use app::types::{ComponentHealth, Health};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use super::errors::ApiError;
use crate::auth::AuthUser;
use crate::state::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub async fn health(
    State(state): State<AppState>,
    caller: Result<Option<AuthUser>, ApiError>,
) -> (StatusCode, Json<Health>) {
    let signed_in = matches!(caller, Ok(Some(_)));
    let shutting_down = *state.shutdown.borrow();
    let engine = ComponentHealth {
        ok: !shutting_down,
        detail: if shutting_down {
            "shutting down".into()
        } else {
            format!("{} torrents", state.library.registry.len())
        },
    };
    let database = match tokio::time::timeout(PROBE_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => ComponentHealth {
            ok: true,
            detail: state.db.backend().name().into(),
        },
        Ok(Err(e)) => ComponentHealth {
            ok: false,
            detail: e.to_string(),
        },
        Err(_) => ComponentHealth {
            ok: false,
            detail: "database did not answer in time".into(),
        },
    };
    let peer_listener = probe_listener(state.library.session().local_addr()).await;
    let ok = engine.ok && database.ok && peer_listener.ok;
    let (engine, database, peer_listener) = if signed_in {
        (engine, database, peer_listener)
    } else {
        (redact(engine), redact(database), redact(peer_listener))
    };
    // Kafka down: events wait in the adapter's queue; the server itself keeps working.
    let kafka = state.kafka.as_ref().map(|k| k.status.health());
    let kafka_ok = kafka.as_ref().is_none_or(|k| k.ok);
    let kafka = kafka.map(|k| if signed_in { k } else { redact(k) });
    let body = Health {
        status: if ok && kafka_ok { "ok" } else { "degraded" }.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_secs: state.started.elapsed().as_secs(),
        engine,
        database,
        peer_listener,
        kafka,
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// A component's state without its detail.
fn redact(c: ComponentHealth) -> ComponentHealth {
    ComponentHealth {
        detail: if c.ok { "ok" } else { "unavailable" }.into(),
        ok: c.ok,
    }
}

/// Connects to the peer listener (on loopback when it listens on every address).
async fn probe_listener(addr: SocketAddr) -> ComponentHealth {
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(target)).await {
        Ok(Ok(_)) => ComponentHealth {
            ok: true,
            detail: addr.to_string(),
        },
        Ok(Err(e)) => ComponentHealth {
            ok: false,
            detail: format!("{addr}: {e}"),
        },
        Err(_) => ComponentHealth {
            ok: false,
            detail: format!("{addr}: no answer"),
        },
    }
}
