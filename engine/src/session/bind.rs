//! Binding the peer listeners: the configured address, and an IPv6-only second one
//! (BEP 7) on the same port where it is free.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;

/// Pending connections the kernel queues per listener.
const BACKLOG: i32 = 1024;

/// The IPv4 (or only) listener and, when `v6` is set, the IPv6 one. A `v6` port of 0
/// takes the first listener's port when free (one port for peers to open), else any.
/// Only the first is required: a host without IPv6 runs on IPv4 alone, with a warning.
pub(crate) async fn listeners(
    addr: SocketAddr,
    v6: Option<SocketAddr>,
) -> io::Result<(TcpListener, Option<TcpListener>)> {
    let first = TcpListener::bind(addr).await?;
    let second = match v6 {
        Some(v6) => match second(v6, first.local_addr()?.port()) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!("no IPv6 peer listener on {v6}: {e}");
                None
            }
        },
        None => None,
    };
    Ok((first, second))
}

fn second(mut v6: SocketAddr, first_port: u16) -> io::Result<TcpListener> {
    if !v6.is_ipv6() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{v6} is not an IPv6 address"),
        ));
    }
    if v6.port() == 0 {
        v6.set_port(first_port);
        if let Ok(l) = bind_v6_only(v6) {
            return Ok(l);
        }
        v6.set_port(0);
    }
    bind_v6_only(v6)
}

/// An IPv6 listener that does not take IPv4 connections, so `[::]:P` and `0.0.0.0:P` coexist.
fn bind_v6_only(addr: SocketAddr) -> io::Result<TcpListener> {
    let s = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    s.set_only_v6(true)?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(BACKLOG)?;
    TcpListener::from_std(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn v6_takes_the_v4_port_and_serves_only_v6() {
        let (v4, v6) = listeners(
            "127.0.0.1:0".parse().unwrap(),
            Some("[::1]:0".parse().unwrap()),
        )
        .await
        .unwrap();
        let v6 = v6.expect("a v6 listener");
        let (p4, p6) = (v4.local_addr().unwrap(), v6.local_addr().unwrap());
        assert_eq!(p4.port(), p6.port());
        assert!(p6.is_ipv6());
        let c = tokio::net::TcpStream::connect(p6).await.unwrap();
        let (_, from) = v6.accept().await.unwrap();
        assert_eq!(from, c.local_addr().unwrap());
    }

    #[tokio::test]
    async fn a_taken_port_falls_back_to_any() {
        let busy = std::net::TcpListener::bind("[::1]:0").unwrap();
        let port = busy.local_addr().unwrap().port();
        let (v4, v6) = listeners(
            SocketAddr::from(([127, 0, 0, 1], port)),
            Some("[::1]:0".parse().unwrap()),
        )
        .await
        .expect("the IPv4 port is free");
        let p6 = v6.unwrap().local_addr().unwrap().port();
        assert_eq!(v4.local_addr().unwrap().port(), port);
        assert_ne!(p6, port, "the v6 listener cannot share a taken port");
    }

    #[tokio::test]
    async fn a_v4_address_for_v6_runs_v4_only() {
        let (v4, v6) = listeners(
            "127.0.0.1:0".parse().unwrap(),
            Some("127.0.0.1:0".parse().unwrap()),
        )
        .await
        .unwrap();
        assert!(v4.local_addr().unwrap().is_ipv4());
        assert!(v6.is_none());
    }
}
