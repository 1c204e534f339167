//! The one listener for every torrent, over TCP and over uTP: tells a plaintext BitTorrent
//! handshake from an MSE one by its first 20 bytes, applies the encryption policy, reads the
//! peer's handshake and routes the connection by info-hash. Both transports share every step
//! after their accept.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::time::timeout;

use crate::config::Encryption;
use crate::events::Event;
use crate::peer::handler::PeerHandler;
use crate::peer::mse::{self, MseError, Transport};
use crate::peer::stream::PeerStream;
use crate::peer::{self, DisconnectReason, HANDSHAKE_TIMEOUT};
use crate::session::conns::ConnSlot;
use crate::session::env::Env;
use crate::torrent::slot::{Slot, Stage};
use crate::utp::UtpSocket;
use crate::wire::{Handshake, WireError, HANDSHAKE_LEN, PROTOCOL};
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
        admit(stream.into(), addr, &routes, &env);
    }
}

/// Accepts uTP connections forever (the session aborts the task on shutdown); while the
/// session's uTP switch is off, incoming connections are dropped.
pub(crate) async fn run_utp(socket: UtpSocket, routes: Routes, env: Arc<Env>) {
    loop {
        let stream = match socket.accept().await {
            Ok(s) => s,
            Err(e) => return tracing::warn!("uTP accept stopped: {e}"),
        };
        if !env.utp_enabled() {
            continue;
        }
        let addr = stream.peer_addr();
        admit(stream.into(), addr, &routes, &env);
    }
}

/// Bans and the half-open cap, then the handshakes on their own task.
fn admit(stream: PeerStream, addr: SocketAddr, routes: &Routes, env: &Arc<Env>) {
    if env.bans.is_banned(addr.ip()) {
        return tracing::debug!(%addr, "banned address, dropping incoming peer");
    }
    let Some(half) = env.half_open.try_acquire(addr.ip()) else {
        return tracing::debug!(%addr, "half-open limit reached, dropping incoming peer");
    };
    tokio::spawn(route(stream, addr, routes.clone(), env.clone(), half));
}

/// Why an incoming connection went no further.
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error("handshake: {0}")]
    Wire(#[from] WireError),
    #[error("encryption handshake: {0}")]
    Mse(MseError),
    /// The peer named a torrent we serve: its owner hears why (a typed reason).
    #[error("{1} ({0})")]
    Typed(InfoHash, DisconnectReason),
}

async fn route(
    stream: PeerStream,
    addr: SocketAddr,
    routes: Routes,
    env: Arc<Env>,
    half: ConnSlot,
) {
    let policy = env.encryption.policy();
    let (conn, remote) = match timeout(HANDSHAKE_TIMEOUT, open(stream, &routes, policy)).await {
        Ok(Ok(c)) => c,
        Ok(Err(Refusal::Typed(info_hash, reason))) => {
            tracing::debug!(%addr, %info_hash, %reason, "incoming peer refused");
            return env.emit(Event::PeerDisconnected {
                info_hash,
                addr,
                reason,
            });
        }
        Ok(Err(e)) => return tracing::debug!(%addr, "bad incoming handshake: {e}"),
        Err(_) => return tracing::debug!(%addr, "handshake timed out"),
    };
    drop(half);
    let Some(slot) = env.conns.try_acquire(addr.ip()) else {
        return tracing::debug!(%addr, "connection limit reached, dropping incoming peer");
    };
    let torrent = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&remote.info_hash)
        .map(|s| s.stage());
    match torrent {
        Some(Stage::Live(t)) => answer(t, conn, remote, addr, slot).await,
        Some(Stage::Metadata(f)) => answer(f, conn, remote, addr, slot).await,
        Some(Stage::Failed(_)) | None => {
            tracing::debug!(%addr, info_hash = %remote.info_hash, "unknown torrent")
        }
    }
}

/// Reads the first 20 bytes: `19, "BitTorrent protocol"` is a plaintext handshake,
/// anything else the start of an MSE public key.
async fn open(
    mut stream: PeerStream,
    routes: &Routes,
    policy: Encryption,
) -> Result<(Transport, Handshake), Refusal> {
    let mut hs = [0u8; HANDSHAKE_LEN];
    stream
        .read_exact(&mut hs[..20])
        .await
        .map_err(WireError::from)?;
    if usize::from(hs[0]) == PROTOCOL.len() && &hs[1..20] == PROTOCOL {
        stream
            .read_exact(&mut hs[20..])
            .await
            .map_err(WireError::from)?;
        let remote = Handshake::decode(&hs)?;
        if policy == Encryption::Required {
            return Err(Refusal::Typed(
                remote.info_hash,
                DisconnectReason::EncryptionRequired,
            ));
        }
        return Ok((Transport::plain(stream), remote));
    }
    // Every torrent the session serves (magnets still fetching metadata included) is a
    // candidate SKEY.
    let find = |req2: &[u8; 20]| {
        let routes = routes.read().unwrap_or_else(|e| e.into_inner());
        routes.keys().find(|ih| mse::req2(ih) == *req2).copied()
    };
    let accepted = match mse::respond(&mut stream, &hs[..20], find, mse::allowed(policy)).await {
        Ok(a) => a,
        Err(MseError::NoCommonMethod {
            info_hash,
            allowed: 0,
            ..
        }) => {
            return Err(Refusal::Typed(
                info_hash,
                DisconnectReason::EncryptionDisabled,
            ))
        }
        Err(e @ MseError::NoCommonMethod { info_hash, .. }) => {
            return Err(Refusal::Typed(
                info_hash,
                DisconnectReason::Encryption(e.to_string()),
            ))
        }
        Err(e) => return Err(Refusal::Mse(e)),
    };
    let mut conn = Transport {
        stream,
        crypto: accepted.crypto.map(Box::new),
        pending: Vec::new(),
    };
    let remote = conn.read_handshake(&accepted.ia).await?;
    if remote.info_hash != accepted.info_hash {
        return Err(Refusal::Typed(
            accepted.info_hash,
            DisconnectReason::Encryption("the handshake names another torrent".into()),
        ));
    }
    Ok((conn, remote))
}

/// Sends our handshake and runs the connection with the handler the info-hash belongs to.
async fn answer<H: PeerHandler>(
    h: Arc<H>,
    mut conn: Transport,
    remote: Handshake,
    addr: SocketAddr,
    slot: ConnSlot,
) {
    let ours = h.handshake();
    match timeout(HANDSHAKE_TIMEOUT, conn.write_handshake(&ours)).await {
        Ok(Ok(())) => peer::run(h, conn, remote, addr, true, slot).await,
        _ => tracing::debug!(%addr, "incoming handshake failed"),
    }
}
