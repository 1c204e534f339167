//! A tiny in-process HTTP server with canned replies, for unit tests of HTTP clients.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Serves each canned raw HTTP response to one connection, in order, and returns the
/// request lines it saw. `{base}` in a response is replaced by the server's base URL.
pub(crate) async fn serve(responses: Vec<Vec<u8>>) -> (String, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let b = base.clone();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        for resp in responses {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
            }
            let text = String::from_utf8_lossy(&req);
            seen.push(text.lines().next().unwrap_or("").to_string());
            let _ = s.write_all(&replace(&resp, b"{base}", b.as_bytes())).await;
            let _ = s.shutdown().await;
        }
        seen
    });
    (base, task)
}

fn replace(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    match hay.windows(from.len()).position(|w| w == from) {
        Some(i) => [&hay[..i], to, &replace(&hay[i + from.len()..], from, to)].concat(),
        None => hay.to_vec(),
    }
}

pub(crate) fn ok(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}
