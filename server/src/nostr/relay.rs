//! One WebSocket connection to a relay (`ws://` over TCP, `wss://` over rustls with the
//! webpki roots), with frames and messages bounded by [`MAX_MESSAGE`]. Relay URLs are the
//! administrator's (`NOSTR_RELAYS`), so any host is allowed; no proxy, no redirects.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::message::{self, RelayMessage, MAX_MESSAGE};

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("{0} is not a ws:// or wss:// URL")]
    Url(String),
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("TLS: {0}")]
    Tls(std::io::Error),
    #[error("WebSocket: {0}")]
    Ws(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("no connection within {0:?}")]
    Timeout(Duration),
    #[error("the relay closed the connection")]
    Closed,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open connection.
pub struct Conn {
    ws: WebSocketStream<Box<dyn Io>>,
}

/// What one read gave: a message, or a frame that is not one (the caller counts those).
pub enum Incoming {
    Message(RelayMessage),
    Bad(message::MessageError),
}

/// The relay's address for NIP-11 (`ws` → `http`, `wss` → `https`).
pub fn http_url(relay: &url::Url) -> String {
    let mut u = relay.clone();
    let scheme = if relay.scheme() == "wss" {
        "https"
    } else {
        "http"
    };
    // Only fails between special and non-special schemes; ws/http are both special.
    let _ = u.set_scheme(scheme);
    u.to_string()
}

/// Parses a relay URL from `NOSTR_RELAYS`.
pub fn parse_url(s: &str) -> Result<url::Url, RelayError> {
    let u = url::Url::parse(s).map_err(|_| RelayError::Url(s.to_owned()))?;
    if !matches!(u.scheme(), "ws" | "wss") || u.host_str().is_none() {
        return Err(RelayError::Url(s.to_owned()));
    }
    Ok(u)
}

/// The TLS client settings (ring, the webpki roots), made once.
fn tls() -> Option<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<Option<Arc<rustls::ClientConfig>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .ok()
                .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        })
        .clone()
}

/// Opens a connection (TCP, TLS, WebSocket handshake) within `timeout`.
pub async fn connect(relay: &url::Url, timeout: Duration) -> Result<Conn, RelayError> {
    tokio::time::timeout(timeout, open(relay))
        .await
        .map_err(|_| RelayError::Timeout(timeout))?
}

async fn open(relay: &url::Url) -> Result<Conn, RelayError> {
    let host = relay
        .host_str()
        .ok_or_else(|| RelayError::Url(relay.to_string()))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let port = relay.port_or_known_default().unwrap_or(80);
    let tcp = TcpStream::connect((bare, port))
        .await
        .map_err(RelayError::Connect)?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = if relay.scheme() == "wss" {
        let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
            .map_err(|_| RelayError::Url(relay.to_string()))?;
        let config = tls().ok_or_else(|| {
            RelayError::Tls(std::io::Error::other("no TLS protocol version available"))
        })?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(RelayError::Tls)?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(relay.as_str(), stream, Some(config)).await?;
    Ok(Conn { ws })
}

impl Conn {
    /// Sends one client message (a JSON array).
    pub async fn send(&mut self, json: String) -> Result<(), RelayError> {
        self.ws.send(Message::text(json)).await?;
        Ok(())
    }

    /// The next relay message; pings are answered, other frames skipped. A frame over the
    /// limit ends the connection (tungstenite refuses it).
    pub async fn recv(&mut self) -> Result<Incoming, RelayError> {
        loop {
            match self.ws.next().await {
                None => return Err(RelayError::Closed),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Message::Text(t))) => {
                    return Ok(match message::parse(t.as_str()) {
                        Ok(m) => Incoming::Message(m),
                        Err(e) => Incoming::Bad(e),
                    })
                }
                Some(Ok(Message::Close(_))) => return Err(RelayError::Closed),
                Some(Ok(Message::Binary(_))) => {
                    return Ok(Incoming::Bad(message::MessageError::Shape("binary frame")))
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Closes politely (best effort).
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ws.close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls() {
        assert!(parse_url("wss://relay.example/").is_ok());
        assert!(parse_url("ws://127.0.0.1:7000").is_ok());
        assert!(parse_url("https://relay.example").is_err());
        assert!(parse_url("relay.example").is_err());
        let u = parse_url("wss://relay.example:444/x").unwrap();
        assert_eq!(http_url(&u), "https://relay.example:444/x");
        let u = parse_url("ws://127.0.0.1:7000").unwrap();
        assert_eq!(http_url(&u), "http://127.0.0.1:7000/");
    }
}
