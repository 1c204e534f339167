//! `GET /api/tracker`: the built-in tracker's state and the caller's announce URLs.

use app::types::TrackerStatus;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use super::errors::ApiError;
use crate::auth::AuthUser;
use crate::state::AppState;

pub async fn status(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
) -> Result<Json<TrackerStatus>, ApiError> {
    let Some(t) = &state.tracker else {
        return Ok(Json(TrackerStatus::default()));
    };
    let s = t.stats();
    let passkey = if s.require_passkey {
        Some(
            t.passkeys
                .key_for(&state.db, user.id)
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?,
        )
    } else {
        None
    };
    let base = crate::web::public_base(&state.config, &headers);
    let announce_url = base
        .as_deref()
        .map(|b| crate::tracker::Tracker::announce_url(b, passkey.as_deref()));
    // The host name of the public URL or of `Host` (without the HTTP port), and the UDP port.
    let udp_announce_url = s.udp_port.zip(base).and_then(|(port, base)| {
        let u = url::Url::parse(&base).ok()?;
        let name = u.host_str()?;
        Some(match &passkey {
            Some(k) => format!("udp://{name}:{port}/announce?passkey={k}"),
            None => format!("udp://{name}:{port}/announce"),
        })
    });
    Ok(Json(TrackerStatus {
        enabled: true,
        mode: match s.mode {
            crate::tracker::Mode::Private => "private".into(),
            crate::tracker::Mode::Open => "open".into(),
        },
        udp_port: s.udp_port,
        interval_secs: s.interval_secs,
        require_passkey: s.require_passkey,
        torrents: s.torrents as u64,
        peers: s.peers as u64,
        announces: s.announces,
        scrapes: s.scrapes,
        announces_per_sec: s.announces_per_sec,
        announce_url,
        udp_announce_url,
    }))
}
