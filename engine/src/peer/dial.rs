//! Outgoing connections: TCP connect and the handshake exchange, bounded in time.

use std::net::SocketAddr;

use tokio::net::TcpStream;
use tokio::time::timeout;

use super::HANDSHAKE_TIMEOUT;
use crate::wire::{read_handshake, write_handshake, Handshake, WireError};
use crate::InfoHash;

/// Why a dial did not produce a connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DialError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("handshake: {0}")]
    Handshake(#[from] WireError),
    #[error("peer answered with another info-hash {0}")]
    WrongTorrent(InfoHash),
    #[error("timed out")]
    Timeout,
}

/// Connects to `addr`, sends `ours` and reads the peer's handshake. `accept` decides whether
/// the info-hash the peer answers with is ours.
pub(crate) async fn connect(
    addr: SocketAddr,
    ours: &Handshake,
    accept: impl Fn(&InfoHash) -> bool,
) -> Result<(TcpStream, Handshake), DialError> {
    let attempt = async {
        let mut stream = TcpStream::connect(addr).await.map_err(DialError::Connect)?;
        write_handshake(&mut stream, ours).await?;
        let remote = read_handshake(&mut stream).await?;
        if !accept(&remote.info_hash) {
            return Err(DialError::WrongTorrent(remote.info_hash));
        }
        Ok((stream, remote))
    };
    timeout(HANDSHAKE_TIMEOUT, attempt)
        .await
        .map_err(|_| DialError::Timeout)?
}
