//! The BEP 19 web seed server: `GET /ws/{infoHash}/{key}/{name}[/{path}]` serves a complete
//! file of a torrent on this server over HTTP with `Range`, so a torrent whose `url-list`
//! holds `{base}/ws/{infoHash}/{key}/` downloads even when no peer is online (aria2,
//! libtorrent, qBittorrent and TorrentEdge itself use web seeds beside peers). The key is an
//! HMAC of the info-hash under the server's secret: whoever has the `.torrent` may fetch, no
//! one can guess the URL of another torrent, and nothing is stored.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use engine::InfoHash;

use crate::api::errors::ApiError;
use crate::auth::constant_time_eq;
use crate::auth::jwt::Keys;
use crate::state::AppState;

/// The route (outside `/api`: web seed clients append the torrent's own paths to it).
pub const ROUTE: &str = "/ws/{infoHash}/{key}/{*path}";

/// The web seed key of a torrent (32 hex digits).
pub fn key(keys: &Keys, ih: &InfoHash) -> String {
    engine::types::hex_encode(&keys.tag("webseed", &ih.0)[..16])
}

/// The `url-list` entry for a torrent served from `base` (scheme and host, no trailing `/`).
pub fn url(base: &str, keys: &Keys, ih: &InfoHash) -> String {
    format!(
        "{}/ws/{}/{}/",
        base.trim_end_matches('/'),
        ih.to_hex(),
        key(keys, ih)
    )
}

pub fn routes() -> Router<AppState> {
    Router::new().route(ROUTE, get(serve))
}

async fn serve(
    State(state): State<AppState>,
    Path((ih, given, path)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // One answer for a bad hash, a wrong key and an unknown torrent: nothing to probe.
    let not_found = || ApiError::NotFound("no such file".into());
    let ih = InfoHash::from_hex(&ih).map_err(|_| not_found())?;
    if !constant_time_eq(key(&state.keys, &ih).as_bytes(), given.as_bytes()) {
        return Err(not_found());
    }
    let file = state.library.open_seeded_file(&ih, &path)?;
    let session = state.library.session().clone();
    Ok(crate::api::stream::respond(file, &headers, Some(session)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_per_torrent_and_secret() {
        let a = Keys::new(b"0123456789abcdef0123456789abcdef");
        let b = Keys::new(b"another secret that is long enough!!");
        let (x, y) = (InfoHash([1; 20]), InfoHash([2; 20]));
        assert_eq!(key(&a, &x).len(), 32);
        assert_eq!(key(&a, &x), key(&a, &x));
        assert_ne!(key(&a, &x), key(&a, &y));
        assert_ne!(key(&a, &x), key(&b, &x));
        assert_eq!(
            url("http://h:1/", &a, &x),
            format!("http://h:1/ws/{}/{}/", x.to_hex(), key(&a, &x))
        );
    }
}
