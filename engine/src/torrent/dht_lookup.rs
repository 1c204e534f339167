//! Finding peers through the session's DHT node and announcing ourselves there, for a live
//! torrent (never a private one, BEP 27) and for a magnet's metadata fetcher.
//!
//! One task per torrent runs rounds: each is an `announce` (a `get_peers` lookup that then
//! stores us on the closest nodes) when one is due, else a plain `get_peers` while we still
//! want peers. [`next_round`] says when; peers found go to the torrent's peer book as
//! [`PeerSource::Dht`]. With two nodes (IPv4 and IPv6, BEP 32) each runs its own rounds:
//! the families join at their own pace, and each announces its own listener's port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{Control, Torrent};
use crate::dht::{AnnouncePort, Dht};
use crate::metadata::Fetcher;
use crate::session::dhts::Dhts;
use crate::status::{PeerSource, TorrentState};
use crate::InfoHash;

/// Other nodes forget an announce after about 30 minutes; renew well before.
pub(crate) const ANNOUNCE_EVERY: Duration = Duration::from_secs(15 * 60);
/// While the node's routing table is empty (still joining), try again soon.
pub(crate) const JOINING_RETRY: Duration = Duration::from_secs(5);
/// Lookups while a torrent has fewer than [`FEW_PEERS`] connections.
pub(crate) const FEW_PEERS_EVERY: Duration = Duration::from_secs(60);
/// Lookups once it has enough.
pub(crate) const LOOKUP_EVERY: Duration = Duration::from_secs(5 * 60);
pub(crate) const FEW_PEERS: usize = 10;
/// The node refused the lookup (its queue is full, or it stopped): wait before asking again
/// rather than spin.
pub(crate) const REFUSED_RETRY: Duration = Duration::from_secs(30);
/// Peers taken off the lookup channel per batch (one torrent lock each).
const BATCH: usize = 64;

/// What the torrent and the node look like when a round ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RoundInputs {
    /// Nodes in the DHT routing table.
    pub table_nodes: usize,
    /// Peers connected to the torrent.
    pub connected: usize,
    /// A seed wants no peers, only to be found.
    pub seeding: bool,
    /// Time since our last announce that counted, if any.
    pub since_announce: Option<Duration>,
    /// The node refused this round's lookup.
    pub refused: bool,
}

/// What the next round does and how long to wait for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Round {
    pub wait: Duration,
    pub announce: bool,
}

/// The lookup cadence: back off when the node refused a lookup; retry soon while it is
/// joining; a seed only renews its
/// announce; a torrent short of peers looks every minute, otherwise every 5 minutes;
/// announces are renewed every [`ANNOUNCE_EVERY`].
pub(crate) fn next_round(i: RoundInputs) -> Round {
    if i.refused {
        return Round {
            wait: REFUSED_RETRY,
            announce: i.since_announce.is_none_or(|d| d >= ANNOUNCE_EVERY),
        };
    }
    if i.table_nodes == 0 {
        return Round {
            wait: JOINING_RETRY,
            announce: i.since_announce.is_none_or(|d| d >= ANNOUNCE_EVERY),
        };
    }
    let until_announce = match i.since_announce {
        None => Duration::ZERO,
        Some(d) => ANNOUNCE_EVERY.saturating_sub(d),
    };
    let lookup = if i.connected < FEW_PEERS {
        FEW_PEERS_EVERY
    } else {
        LOOKUP_EVERY
    };
    if i.seeding || until_announce <= lookup {
        Round {
            wait: until_announce,
            announce: true,
        }
    } else {
        Round {
            wait: lookup,
            announce: false,
        }
    }
}

/// What a DHT round feeds and asks about.
pub(crate) trait DhtPeers: Send + Sync + 'static {
    fn connected(&self) -> usize;
    fn seeding(&self) -> bool;
    fn learn(&self, addrs: &[SocketAddr]);
}

impl DhtPeers for Torrent {
    fn connected(&self) -> usize {
        self.lock().peers.len()
    }

    fn seeding(&self) -> bool {
        self.lock().state == TorrentState::Seeding
    }

    fn learn(&self, addrs: &[SocketAddr]) {
        self.learn_peers(addrs, PeerSource::Dht);
    }
}

impl DhtPeers for Fetcher {
    fn connected(&self) -> usize {
        self.peer_count()
    }

    fn seeding(&self) -> bool {
        false
    }

    fn learn(&self, addrs: &[SocketAddr]) {
        self.add_peers(addrs, PeerSource::Dht);
    }
}

/// The lookup tasks of one torrent (one per DHT node), aborted when dropped.
pub(crate) struct Lookups(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Lookups {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// Starts [`run`] on every node of the session for `info_hash`.
pub(crate) fn spawn<P: DhtPeers>(
    dhts: &Dhts,
    info_hash: InfoHash,
    peers: &Arc<P>,
    ctl: &watch::Receiver<Control>,
) -> Lookups {
    Lookups(
        dhts.iter()
            .map(|n| {
                tokio::spawn(run(
                    n.dht.clone(),
                    info_hash,
                    n.announce_port,
                    peers.clone(),
                    ctl.clone(),
                ))
            })
            .collect(),
    )
}

/// Runs rounds until `ctl` leaves `Run` (or the caller aborts the task). The first round
/// announces at once.
pub(crate) async fn run<P: DhtPeers>(
    dht: Dht,
    info_hash: InfoHash,
    port: u16,
    peers: Arc<P>,
    mut ctl: watch::Receiver<Control>,
) {
    let mut last_announce: Option<Instant> = None;
    let mut round = Round {
        wait: Duration::ZERO,
        announce: true,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(round.wait) => {}
            r = ctl.changed() => if r.is_err() || *ctl.borrow() != Control::Run { return },
        }
        let lookup = if round.announce {
            dht.announce(info_hash, AnnouncePort::Port(port))
        } else {
            dht.get_peers(info_hash)
        };
        let started = Instant::now();
        let refused = lookup.is_err();
        match lookup {
            Ok(mut rx) => {
                let mut buf = Vec::with_capacity(BATCH);
                let mut found = 0usize;
                loop {
                    tokio::select! {
                        n = rx.recv_many(&mut buf, BATCH) => {
                            if n == 0 { break }
                            found += n;
                            peers.learn(&buf);
                            buf.clear();
                        }
                        r = ctl.changed() => if r.is_err() || *ctl.borrow() != Control::Run { return },
                    }
                }
                tracing::debug!(torrent = %info_hash, announce = round.announce, found, "DHT round done");
            }
            Err(e) => tracing::debug!(torrent = %info_hash, "DHT lookup not started: {e}"),
        }
        let table_nodes = dht.stats().await.map_or(0, |s| s.nodes);
        // An announce counts only if there was a table to announce into.
        if round.announce && table_nodes > 0 {
            last_announce = Some(started);
        }
        round = next_round(RoundInputs {
            table_nodes,
            connected: peers.connected(),
            seeding: peers.seeding(),
            since_announce: last_announce.map(|t| t.elapsed()),
            refused,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(table_nodes: usize, connected: usize, seeding: bool, since: Option<u64>) -> Round {
        next_round(RoundInputs {
            table_nodes,
            connected,
            seeding,
            since_announce: since.map(Duration::from_secs),
            refused: false,
        })
    }

    #[test]
    fn a_refused_lookup_backs_off_instead_of_spinning() {
        // Never announced, table full: without the refusal this would be "now".
        let r = next_round(RoundInputs {
            table_nodes: 50,
            connected: 0,
            seeding: false,
            since_announce: None,
            refused: true,
        });
        assert_eq!(
            r,
            Round {
                wait: REFUSED_RETRY,
                announce: true
            }
        );
        assert!(r.wait >= Duration::from_secs(10));
    }

    #[test]
    fn joining_retries_soon_and_announces_if_never_done() {
        assert_eq!(
            inputs(0, 0, false, None),
            Round {
                wait: JOINING_RETRY,
                announce: true
            }
        );
        // A fresh announce is not repeated just because the table emptied.
        assert_eq!(
            inputs(0, 0, true, Some(60)),
            Round {
                wait: JOINING_RETRY,
                announce: false
            }
        );
    }

    #[test]
    fn few_peers_look_every_minute_many_every_five() {
        assert_eq!(
            inputs(50, 2, false, Some(0)),
            Round {
                wait: FEW_PEERS_EVERY,
                announce: false
            }
        );
        assert_eq!(
            inputs(50, FEW_PEERS, false, Some(0)),
            Round {
                wait: LOOKUP_EVERY,
                announce: false
            }
        );
    }

    #[test]
    fn announce_is_renewed_when_due() {
        // 14.5 min after the last announce, the next round is the renewal, in 30 s.
        assert_eq!(
            inputs(50, 2, false, Some(870)),
            Round {
                wait: Duration::from_secs(30),
                announce: true
            }
        );
        // Overdue, or never announced with a table: right away.
        assert_eq!(
            inputs(50, 20, false, Some(3600)),
            Round {
                wait: Duration::ZERO,
                announce: true
            }
        );
        assert_eq!(
            inputs(50, 20, false, None),
            Round {
                wait: Duration::ZERO,
                announce: true
            }
        );
    }

    #[test]
    fn a_seed_only_renews_its_announce() {
        assert_eq!(
            inputs(50, 0, true, Some(60)),
            Round {
                wait: ANNOUNCE_EVERY - Duration::from_secs(60),
                announce: true
            }
        );
    }
}
