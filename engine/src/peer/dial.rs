//! Outgoing connections: uTP first when the session has it on (TCP when the uTP connect
//! finds nobody, remembered per address), MSE when the policy asks for it, and the
//! handshake exchange, each attempt bounded in time.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::mse::{self, MseError, Transport};
use super::stream::PeerStream;
use super::HANDSHAKE_TIMEOUT;
use crate::config::Encryption;
use crate::session::env::Env;
use crate::utp::UtpSocket;
use crate::wire::{read_handshake, write_handshake, Handshake, WireError};
use crate::InfoHash;

/// Why a dial did not produce a connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("handshake: {0}")]
    Handshake(#[from] WireError),
    #[error("encryption handshake: {0}")]
    Mse(#[from] MseError),
    #[error("peer answered with another info-hash {0}")]
    WrongTorrent(InfoHash),
    #[error("timed out")]
    Timeout,
}

impl DialError {
    /// The peer hung up on our plaintext handshake: what a client that requires
    /// encryption does, so an encrypted attempt may succeed.
    fn hung_up(&self) -> bool {
        use std::io::ErrorKind::*;
        matches!(self, DialError::Handshake(WireError::Io(e))
            if matches!(e.kind(), UnexpectedEof | ConnectionReset | ConnectionAborted | BrokenPipe))
    }
}

/// Which transport a dial uses.
#[derive(Clone, Copy)]
enum Via<'a> {
    Tcp,
    Utp(&'a UtpSocket),
}

impl Via<'_> {
    async fn open(self, addr: SocketAddr) -> Result<PeerStream, DialError> {
        match self {
            Via::Tcp => TcpStream::connect(addr).await.map(Into::into),
            Via::Utp(s) => s.connect(addr).await.map(Into::into),
        }
        .map_err(DialError::Connect)
    }
}

/// Connects to `addr` and exchanges handshakes, plaintext or MSE as the session's policy
/// says. `accept` decides whether the info-hash the peer answers with is ours. With uTP
/// on, uTP goes first; a peer that does not answer its SYNs is dialed over TCP, and over
/// TCP only from then on if that works.
pub(crate) async fn connect(
    env: &Env,
    addr: SocketAddr,
    ours: &Handshake,
    accept: impl Fn(&InfoHash) -> bool,
) -> Result<(Transport, Handshake), DialError> {
    if let Some(utp) = env.utp_for(&addr) {
        match by_policy(env, Via::Utp(utp), addr, ours, &accept).await {
            Err(DialError::Connect(e)) => {
                tracing::debug!(%addr, "uTP connect failed ({e}), trying TCP");
                let r = by_policy(env, Via::Tcp, addr, ours, &accept).await;
                if r.is_ok() {
                    env.transports.remember_tcp(addr);
                }
                return r;
            }
            r => return r,
        }
    }
    by_policy(env, Via::Tcp, addr, ours, &accept).await
}

/// One transport, plaintext or MSE per the policy. With `enabled`, plaintext goes first; a
/// peer that hangs up on it is retried encrypted once and, if that works, dialed encrypted
/// from then on.
async fn by_policy(
    env: &Env,
    via: Via<'_>,
    addr: SocketAddr,
    ours: &Handshake,
    accept: &impl Fn(&InfoHash) -> bool,
) -> Result<(Transport, Handshake), DialError> {
    let both = mse::PLAINTEXT | mse::RC4;
    match env.encryption.policy() {
        Encryption::Disabled => plain(via, addr, ours, accept).await,
        Encryption::Required => encrypted(via, addr, ours, accept, mse::RC4).await,
        Encryption::Enabled if env.encryption.wants_mse(&addr) => {
            encrypted(via, addr, ours, accept, both).await
        }
        Encryption::Enabled => match plain(via, addr, ours, accept).await {
            Err(e) if e.hung_up() => {
                tracing::debug!(%addr, "plaintext refused ({e}), trying encrypted");
                let r = encrypted(via, addr, ours, accept, both).await;
                if r.is_ok() {
                    env.encryption.remember(addr);
                }
                r
            }
            r => r,
        },
    }
}

async fn plain(
    via: Via<'_>,
    addr: SocketAddr,
    ours: &Handshake,
    accept: &impl Fn(&InfoHash) -> bool,
) -> Result<(Transport, Handshake), DialError> {
    let attempt = async {
        let mut stream = via.open(addr).await?;
        write_handshake(&mut stream, ours).await?;
        let remote = read_handshake(&mut stream).await?;
        if !accept(&remote.info_hash) {
            return Err(DialError::WrongTorrent(remote.info_hash));
        }
        Ok((Transport::plain(stream), remote))
    };
    timeout(HANDSHAKE_TIMEOUT, attempt)
        .await
        .map_err(|_| DialError::Timeout)?
}

/// MSE with `provide`, our BitTorrent handshake as the initial payload.
async fn encrypted(
    via: Via<'_>,
    addr: SocketAddr,
    ours: &Handshake,
    accept: &impl Fn(&InfoHash) -> bool,
    provide: u32,
) -> Result<(Transport, Handshake), DialError> {
    let attempt = async {
        let mut stream = via.open(addr).await?;
        let crypto = mse::initiate(&mut stream, &ours.info_hash, provide, &ours.encode()).await?;
        let mut t = Transport {
            stream,
            crypto: crypto.map(Box::new),
            pending: Vec::new(),
        };
        let remote = t.read_handshake(&[]).await?;
        if !accept(&remote.info_hash) {
            return Err(DialError::WrongTorrent(remote.info_hash));
        }
        Ok((t, remote))
    };
    timeout(HANDSHAKE_TIMEOUT, attempt)
        .await
        .map_err(|_| DialError::Timeout)?
}
