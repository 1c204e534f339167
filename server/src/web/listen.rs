//! The HTTP accept loop, with the limits a public server needs against slow or many clients:
//! a connection cap (kept below the descriptors the engine needs), a deadline for a request's
//! headers, and graceful shutdown.
//!
//! `axum::serve` has neither a connection cap nor a header deadline: a client sending one
//! header byte a minute ("slowloris") holds its connection forever, and enough of them use up
//! the process's file descriptors, which then fails the torrents' writes and peer accepts.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Limits of the web server.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections served at once; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Time a client has to send a request's headers (also an idle keep-alive connection's
    /// next request).
    pub header_timeout: Duration,
}

/// Descriptors kept for the engine beyond one per peer connection: torrent files, the
/// database, trackers, hashing.
pub const ENGINE_RESERVE: u64 = 256;

/// Raises the soft descriptor limit to the hard one and returns the connection cap that
/// leaves the engine `peer_connections + ENGINE_RESERVE` descriptors. Never below 16.
pub fn connection_budget(wanted: usize, peer_connections: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if let (Some(cur), Some(max)) = (lim.current, lim.maximum) {
        if cur < max {
            lim.current = Some(max);
            if setrlimit(Resource::Nofile, lim).is_err() {
                lim.current = Some(cur);
            }
        }
    }
    let Some(nofile) = lim.current else {
        return wanted.max(16); // unlimited
    };
    let left = nofile.saturating_sub(peer_connections as u64 + ENGINE_RESERVE);
    let cap = wanted
        .min(usize::try_from(left).unwrap_or(usize::MAX))
        .max(16);
    if cap < wanted {
        tracing::warn!(
            nofile,
            peer_connections,
            "descriptor limit: serving at most {cap} HTTP connections (MAX_HTTP_CONNECTIONS {wanted})"
        );
    }
    cap
}

/// Middleware: a request whose handler has not answered within `limit` gets 408 (the
/// response body, such as an event stream, may then take as long as it likes). Uploads to
/// `POST /api/torrents/create` are exempt: a large one may take longer on a slow link.
pub async fn request_timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path() == "/api/torrents/create" {
        return next.run(req).await;
    }
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => (
            axum::http::StatusCode::REQUEST_TIMEOUT,
            axum::Json(serde_json::json!({
                "error": "request_timeout",
                "message": format!("no answer within {} s", limit.as_secs()),
            })),
        )
            .into_response(),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open connections
/// (each request in flight finishes; event streams end by themselves on shutdown).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_headers(100);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move {
                let req = req.map(axum::body::Body::new);
                Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {}))
            }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(limits: Limits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route(
            "/",
            axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move {
                peer.ip().to_string()
            }),
        );
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(serve(listener, app, limits, async {
            let _ = rx.await;
        }));
        (addr, tx)
    }

    async fn get(addr: SocketAddr) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    /// A client that never finishes its headers is cut off after the deadline, and while the
    /// only slot is taken others wait rather than pile up.
    #[tokio::test]
    async fn slow_headers_are_cut_off_and_connections_are_capped() {
        let limits = Limits {
            max_connections: 1,
            header_timeout: Duration::from_millis(300),
        };
        let (addr, _stop) = start(limits).await;
        assert!(get(addr).await.ends_with("127.0.0.1"));

        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost").await.unwrap();
        let started = std::time::Instant::now();
        // The second client is served only once the slow one was dropped.
        let second = tokio::spawn(get(addr));
        let mut buf = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut buf))
            .await
            .expect("the server closes a slow client")
            .unwrap_or(0);
        let _ = n; // hyper may answer 408 before closing, or just close
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
        let body = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the waiting client is served")
            .unwrap();
        assert!(body.ends_with("127.0.0.1"), "{body}");
    }

    #[test]
    fn budget_leaves_descriptors_for_the_engine() {
        let cap = connection_budget(usize::MAX, 500);
        // connection_budget raised the soft limit as far as it could; read what it is now.
        match rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
            Some(nofile) => {
                let left = nofile.saturating_sub(500 + ENGINE_RESERVE);
                assert_eq!(cap as u64, left.max(16));
            }
            None => assert_eq!(cap, usize::MAX),
        }
        assert_eq!(connection_budget(20, 0), 20);
    }
}
