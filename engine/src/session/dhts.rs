//! The session's DHT nodes: at most one per address family. BEP 32 keeps IPv4 and IPv6
//! as separate DHTs (separate routing tables, `nodes` vs `nodes6`), so a session with an
//! IPv6 listener runs a second node beside the IPv4 one, with the same node id.
//!
//! Everything outside `session/` goes through this type, so no caller needs to know how
//! many nodes run: a peer's `port` goes to the node of the peer's family, lookups run on
//! every node (each announcing the TCP port of its family's listener), and the saved
//! table holds both families' nodes in one blob (`persist`'s `nodes` and `nodes6`).

use std::net::SocketAddr;

use crate::dht::persist;
use crate::dht::{Dht, DhtError, DhtStats};

/// One node and the TCP port peers of its family reach us on (what it announces).
#[derive(Clone)]
pub(crate) struct FamilyNode {
    pub dht: Dht,
    pub announce_port: u16,
}

/// One or two DHT nodes of different families; the first is the one on the main
/// listener's family.
#[derive(Clone)]
pub(crate) struct Dhts {
    nodes: Vec<FamilyNode>,
}

impl Dhts {
    /// `primary` (the main listener's family) and, when given and of the other family, a
    /// second node.
    pub fn new(primary: FamilyNode, second: Option<FamilyNode>) -> Dhts {
        let mut nodes = vec![primary];
        if let Some(s) = second {
            if s.dht.local_addr().is_ipv6() != nodes[0].dht.local_addr().is_ipv6() {
                nodes.push(s);
            } else {
                tracing::warn!(addr = %s.dht.local_addr(), "a second DHT node of the same family is not used");
            }
        }
        Dhts { nodes }
    }

    /// Every node, the primary first.
    pub fn iter(&self) -> impl Iterator<Item = &FamilyNode> {
        self.nodes.iter()
    }

    pub fn primary(&self) -> &Dht {
        &self.nodes[0].dht
    }

    /// The node of `v6`'s family, if one runs.
    pub fn family(&self, v6: bool) -> Option<&Dht> {
        self.nodes
            .iter()
            .map(|n| &n.dht)
            .find(|d| d.local_addr().is_ipv6() == v6)
    }

    /// The node that can reach `addr` (same family).
    pub fn for_addr(&self, addr: &SocketAddr) -> Option<&Dht> {
        self.family(addr.is_ipv6())
    }

    /// BEP 5's `port` from a peer: pings it from the node of its family (a node of the
    /// other family could not reach it).
    pub fn add_node(&self, addr: SocketAddr) -> Result<(), DhtError> {
        match self.for_addr(&addr) {
            Some(d) => d.add_node(addr),
            None => Ok(()),
        }
    }

    /// The UDP port to tell a peer at `peer` in a `port` message: that of the node of its
    /// family, none if no node runs in that family.
    pub fn port_for(&self, peer: &SocketAddr) -> Option<u16> {
        self.for_addr(peer).map(|d| d.local_addr().port())
    }

    /// Both families' routing tables in one saved table (the primary's id), for
    /// `DhtConfig::saved_table`; each node reads back the nodes of its own family.
    pub async fn save(&self) -> Result<Vec<u8>, DhtError> {
        let mut id = None;
        let mut all = Vec::new();
        for n in &self.nodes {
            let bytes = n.dht.save().await?;
            let (nid, nodes) = persist::decode(&bytes)?;
            id.get_or_insert(nid);
            all.extend(nodes);
        }
        let id = id.unwrap_or_else(|| self.primary().node_id());
        Ok(persist::encode(id, all.into_iter()))
    }

    pub async fn stats(&self, v6: bool) -> Option<DhtStats> {
        self.family(v6)?.stats().await.ok()
    }

    /// Stops every node.
    pub async fn shutdown(&self) {
        for n in &self.nodes {
            n.dht.shutdown().await;
        }
    }
}
