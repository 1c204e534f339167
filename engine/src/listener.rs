//! The one TCP listener for every torrent: reads the peer's handshake and routes the
//! connection by info-hash.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use crate::peer::handler::PeerHandler;
use crate::peer::{self, HANDSHAKE_TIMEOUT};
use crate::session::conns::{ConnLimiter, ConnSlot};
use crate::session::env::Env;
use crate::torrent::slot::{Slot, Stage};
use crate::wire::{read_handshake, write_handshake, Handshake};
use crate::InfoHash;

/// Torrents by info-hash, shared between the session and the listener.
pub(crate) type Routes = Arc<RwLock<HashMap<InfoHash, Arc<Slot>>>>;

/// Accepts forever (the session aborts the task on shutdown).
pub(crate) async fn run(listener: TcpListener, routes: Routes, env: Arc<Env>) {
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Usually EMFILE: back off instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        if env.bans.is_banned(addr.ip()) {
            tracing::debug!(%addr, "banned address, dropping incoming peer");
            continue;
        }
        let Some(half) = env.half_open.try_acquire(addr.ip()) else {
            tracing::debug!(%addr, "half-open limit reached, dropping incoming peer");
            continue;
        };
        tokio::spawn(route(stream, addr, routes.clone(), env.conns.clone(), half));
    }
}

async fn route(
    mut stream: TcpStream,
    addr: SocketAddr,
    routes: Routes,
    conns: ConnLimiter,
    half: ConnSlot,
) {
    let remote = match timeout(HANDSHAKE_TIMEOUT, read_handshake(&mut stream)).await {
        Ok(Ok(hs)) => hs,
        Ok(Err(e)) => return tracing::debug!(%addr, "bad handshake: {e}"),
        Err(_) => return tracing::debug!(%addr, "handshake timed out"),
    };
    drop(half);
    let Some(slot) = conns.try_acquire(addr.ip()) else {
        return tracing::debug!(%addr, "connection limit reached, dropping incoming peer");
    };
    let torrent = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&remote.info_hash)
        .map(|s| s.stage());
    match torrent {
        Some(Stage::Live(t)) => answer(t, stream, remote, addr, slot).await,
        Some(Stage::Metadata(f)) => answer(f, stream, remote, addr, slot).await,
        Some(Stage::Failed(_)) | None => {
            tracing::debug!(%addr, info_hash = %remote.info_hash, "unknown torrent")
        }
    }
}

/// Sends our handshake and runs the connection with the handler the info-hash belongs to.
async fn answer<H: PeerHandler>(
    h: Arc<H>,
    mut stream: TcpStream,
    remote: Handshake,
    addr: SocketAddr,
    slot: ConnSlot,
) {
    let ours = h.handshake();
    match timeout(HANDSHAKE_TIMEOUT, write_handshake(&mut stream, &ours)).await {
        Ok(Ok(())) => peer::run(h, stream, remote, addr, true, slot).await,
        _ => tracing::debug!(%addr, "incoming handshake failed"),
    }
}
