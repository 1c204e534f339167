//! One iterative Kademlia lookup (`find_node` or `get_peers`), as a state machine without
//! I/O: the node asks it which addresses to query next and feeds it answers and timeouts.
//!
//! Candidates are kept sorted by distance to the target (bootstrap addresses, whose ids
//! are unknown, sort first). At most `alpha` queries are in flight, always to the closest
//! candidates not yet asked among the `k` closest that have not failed. The lookup is
//! done when each of those `k` has answered or failed, or after `max_queries` queries.
//! At most `max_candidates` are kept, so a flood of `nodes` cannot grow it.

use std::collections::HashSet;
use std::net::SocketAddr;

use super::krpc::CompactNode;
use super::node_id::{Distance, NodeId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Fresh,
    InFlight,
    Responded,
    Failed,
}

#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: Option<NodeId>,
    pub addr: SocketAddr,
    pub state: State,
    /// The `get_peers` token it gave us (for `announce_peer`).
    pub token: Option<Vec<u8>>,
}

/// Bounds of one lookup.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub alpha: usize,
    pub k: usize,
    pub max_candidates: usize,
    pub max_queries: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            alpha: 4,
            k: 8,
            max_candidates: 64,
            max_queries: 128,
        }
    }
}

pub struct Lookup {
    target: NodeId,
    params: Params,
    candidates: Vec<Candidate>,
    /// Every address ever added (so a node dropped for being far is not re-added).
    seen: HashSet<SocketAddr>,
    queries: usize,
}

impl Lookup {
    pub fn new(target: NodeId, params: Params) -> Self {
        Lookup {
            target,
            params,
            candidates: Vec::new(),
            seen: HashSet::new(),
            queries: 0,
        }
    }

    pub fn target(&self) -> NodeId {
        self.target
    }

    fn key(&self, id: &Option<NodeId>) -> Distance {
        id.map_or(Distance([0; 20]), |id| id.distance(&self.target))
    }

    /// Adds a candidate (ignored if its address was seen before or it is too far).
    pub fn add(&mut self, id: Option<NodeId>, addr: SocketAddr) {
        if self.seen.len() >= self.params.max_candidates * 8 || !self.seen.insert(addr) {
            return;
        }
        if let Some(id) = id {
            if self.candidates.iter().any(|c| c.id == Some(id)) {
                return;
            }
        }
        let d = self.key(&id);
        let at = self.candidates.partition_point(|c| self.key(&c.id) <= d);
        if at >= self.params.max_candidates {
            return;
        }
        self.candidates.insert(
            at,
            Candidate {
                id,
                addr,
                state: State::Fresh,
                token: None,
            },
        );
        // Drop the farthest candidate that is not awaiting an answer.
        if self.candidates.len() > self.params.max_candidates {
            if let Some(i) = self
                .candidates
                .iter()
                .rposition(|c| c.state != State::InFlight)
            {
                self.candidates.remove(i);
            }
        }
    }

    /// Adds the nodes of a response.
    pub fn add_nodes(&mut self, nodes: &[CompactNode]) {
        for n in nodes {
            self.add(Some(n.id), n.addr);
        }
    }

    /// Addresses to query now (each marked in flight).
    pub fn next_queries(&mut self) -> Vec<SocketAddr> {
        let mut out = Vec::new();
        let mut in_flight = self.in_flight();
        let mut considered = 0;
        for c in self.candidates.iter_mut() {
            if in_flight >= self.params.alpha
                || considered >= self.params.k
                || self.queries >= self.params.max_queries
            {
                break;
            }
            if c.state == State::Failed {
                continue;
            }
            considered += 1;
            if c.state == State::Fresh {
                c.state = State::InFlight;
                in_flight += 1;
                self.queries += 1;
                out.push(c.addr);
            }
        }
        out
    }

    fn in_flight(&self) -> usize {
        self.candidates
            .iter()
            .filter(|c| c.state == State::InFlight)
            .count()
    }

    /// `addr` answered as node `id`, with a token (for `get_peers`) and closer nodes.
    pub fn responded(
        &mut self,
        addr: SocketAddr,
        id: NodeId,
        token: Option<Vec<u8>>,
        nodes: &[CompactNode],
    ) {
        if let Some(i) = self.candidates.iter().position(|c| c.addr == addr) {
            let mut c = self.candidates.remove(i);
            c.state = State::Responded;
            c.id = Some(id);
            c.token = token;
            let d = self.key(&c.id);
            let at = self.candidates.partition_point(|x| self.key(&x.id) <= d);
            self.candidates.insert(at, c);
        }
        self.add_nodes(nodes);
    }

    /// A query to `addr` timed out or was answered with an error.
    pub fn failed(&mut self, addr: SocketAddr) {
        if let Some(c) = self.candidates.iter_mut().find(|c| c.addr == addr) {
            c.state = State::Failed;
        }
    }

    /// Whether the lookup has converged or spent its query budget.
    pub fn is_done(&self) -> bool {
        let mut open = self
            .candidates
            .iter()
            .filter(|c| c.state != State::Failed)
            .take(self.params.k)
            .filter(|c| matches!(c.state, State::Fresh | State::InFlight));
        let budget_spent = self.queries >= self.params.max_queries && self.in_flight() == 0;
        budget_spent || open.next().is_none() && self.in_flight() == 0
    }

    /// The `n` closest nodes that answered with a token: where to announce.
    pub fn closest_with_tokens(&self, n: usize) -> Vec<(SocketAddr, Vec<u8>)> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Responded)
            .filter_map(|c| Some((c.addr, c.token.clone()?)))
            .take(n)
            .collect()
    }

    /// The `n` closest nodes that answered.
    pub fn closest_responded(&self, n: usize) -> Vec<CompactNode> {
        self.candidates
            .iter()
            .filter(|c| c.state == State::Responded)
            .filter_map(|c| {
                Some(CompactNode {
                    id: c.id?,
                    addr: c.addr,
                })
            })
            .take(n)
            .collect()
    }

    /// Queries sent so far.
    pub fn queries(&self) -> usize {
        self.queries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn addr(i: usize) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], 20_000 + i as u16))
    }

    /// A simulated network of 300 nodes that each know their 16 closest peers plus 16
    /// random ones: the lookup finds the 8 nodes truly closest to the target.
    #[test]
    fn converges_on_the_true_closest_nodes() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let ids: Vec<NodeId> = (0..300).map(|_| NodeId(rng.random())).collect();
        let mut knows: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            let mut by_d: Vec<usize> = (0..ids.len()).filter(|&j| j != i).collect();
            by_d.sort_by_key(|&j| ids[j].distance(id));
            let mut k: Vec<usize> = by_d[..16].to_vec();
            k.extend((0..16).map(|_| rng.random_range(0..ids.len())));
            knows.insert(i, k);
        }
        let target = NodeId(rng.random());
        let mut l = Lookup::new(target, Params::default());
        l.add(None, addr(0)); // a bootstrap node, id unknown
        let mut rounds = 0;
        while !l.is_done() {
            rounds += 1;
            assert!(rounds < 200, "does not terminate");
            let q = l.next_queries();
            assert!(q.len() <= Params::default().alpha);
            for a in q {
                let i = (a.port() - 20_000) as usize;
                if i % 17 == 3 {
                    l.failed(a); // some nodes never answer
                    continue;
                }
                let nodes: Vec<CompactNode> = knows[&i]
                    .iter()
                    .map(|&j| CompactNode {
                        id: ids[j],
                        addr: addr(j),
                    })
                    .collect();
                l.responded(a, ids[i], Some(vec![i as u8]), &nodes);
            }
        }
        let mut truth: Vec<usize> = (0..ids.len()).filter(|i| i % 17 != 3).collect();
        truth.sort_by_key(|&j| ids[j].distance(&target));
        let found: Vec<SocketAddr> = l.closest_responded(8).iter().map(|n| n.addr).collect();
        let want: Vec<SocketAddr> = truth[..8].iter().map(|&j| addr(j)).collect();
        assert_eq!(found, want);
        assert_eq!(l.closest_with_tokens(8).len(), 8);
        assert!(l.queries() <= Params::default().max_queries);
    }

    #[test]
    fn bounded_candidates_and_budget() {
        let params = Params {
            alpha: 3,
            k: 8,
            max_candidates: 10,
            max_queries: 5,
        };
        let target = NodeId([0; 20]);
        let mut l = Lookup::new(target, params);
        for i in 0..100 {
            l.add(Some(NodeId::random()), addr(i));
        }
        assert!(l.candidates.len() <= 10);
        assert_eq!(l.next_queries().len(), 3);
        assert!(l.next_queries().is_empty(), "alpha caps what is in flight");
        let mut sent = 3;
        while !l.is_done() {
            let q: Vec<_> = l
                .candidates
                .iter()
                .filter(|c| c.state == State::InFlight)
                .map(|c| c.addr)
                .collect();
            for a in q {
                l.failed(a);
            }
            sent += l.next_queries().len();
        }
        assert_eq!(sent, 5, "the query budget ends the lookup");
        assert!(l.closest_with_tokens(8).is_empty());
    }
}
