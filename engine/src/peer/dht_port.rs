//! BEP 5's `port` message on a connection: which DHT node a peer's message names.
//!
//! A peer decides what it sends, so only the first usable `port` of a connection reaches
//! the DHT (one ping per connection, however many it repeats), and port 0 is ignored.

use std::net::SocketAddr;

use crate::wire::Message;

/// Whether this connection's `port` has been used already.
#[derive(Debug, Default)]
pub(crate) struct PortGate {
    used: bool,
}

impl PortGate {
    /// Removes every `port` message from `msgs` (nothing else needs them) and returns the
    /// DHT node to ping: `peer`'s IP at the first non-zero port this connection sent.
    pub fn take(&mut self, msgs: &mut Vec<Message>, peer: SocketAddr) -> Option<SocketAddr> {
        if !msgs.iter().any(|m| matches!(m, Message::Port(_))) {
            return None;
        }
        let mut found = None;
        msgs.retain(|m| match m {
            Message::Port(p) => {
                if !self.used && *p != 0 {
                    self.used = true;
                    found = Some(SocketAddr::new(peer.ip(), *p));
                }
                false
            }
            _ => true,
        });
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> SocketAddr {
        "127.0.0.5:51413".parse().unwrap()
    }

    #[test]
    fn first_port_names_the_node_at_the_peer_ip() {
        let mut g = PortGate::default();
        let mut msgs = vec![Message::Unchoke, Message::Port(6881), Message::Have(3)];
        assert_eq!(
            g.take(&mut msgs, peer()),
            Some("127.0.0.5:6881".parse().unwrap())
        );
        assert_eq!(msgs, vec![Message::Unchoke, Message::Have(3)]);
    }

    #[test]
    fn only_once_per_connection() {
        let mut g = PortGate::default();
        let mut a = vec![Message::Port(7000), Message::Port(7001)];
        assert_eq!(
            g.take(&mut a, peer()),
            Some("127.0.0.5:7000".parse().unwrap())
        );
        assert!(a.is_empty());
        let mut b = vec![Message::Port(7002)];
        assert_eq!(g.take(&mut b, peer()), None);
        assert!(b.is_empty(), "later port messages are still consumed");
    }

    #[test]
    fn port_zero_is_ignored_and_does_not_use_the_gate() {
        let mut g = PortGate::default();
        let mut a = vec![Message::Port(0)];
        assert_eq!(g.take(&mut a, peer()), None);
        let mut b = vec![Message::Port(6881)];
        assert_eq!(
            g.take(&mut b, peer()),
            Some("127.0.0.5:6881".parse().unwrap())
        );
    }

    #[test]
    fn batches_without_port_are_untouched() {
        let mut g = PortGate::default();
        let mut a = vec![Message::Interested, Message::KeepAlive];
        assert_eq!(g.take(&mut a, peer()), None);
        assert_eq!(a, vec![Message::Interested, Message::KeepAlive]);
    }
}
