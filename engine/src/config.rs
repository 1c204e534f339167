//! Session-wide settings the embedding application chooses.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::dht::DhtConfig;
use crate::tracker::TrackerConfig;
use crate::PeerId;

/// What we call ourselves to HTTP servers (trackers, web seeds).
pub const USER_AGENT: &str = concat!("TorrentEdge/", env!("CARGO_PKG_VERSION"));

/// What a [`crate::session::Session`] is started with.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Where the peer listener binds; port 0 picks an ephemeral port.
    pub listen_addr: SocketAddr,
    /// A second listener for IPv6 peers (BEP 7), IPv6-only so it can share the port with an
    /// IPv4 `listen_addr` on `0.0.0.0`; port 0 means `listen_addr`'s port when free, else any.
    /// `None`: IPv4 only (IPv6 peers are still dialed when the host can route them). With
    /// `utp`, a second uTP socket binds beside it; with `dht`, a second (IPv6) DHT node too.
    pub listen_v6: Option<SocketAddr>,
    /// Our id in handshakes and announces.
    pub peer_id: PeerId,
    /// Connections (incoming + outgoing) one torrent may hold.
    pub max_peers_per_torrent: usize,
    /// Connections the whole session may hold.
    pub max_peers_total: usize,
    /// Connections one remote address may hold across the session.
    pub max_peers_per_ip: usize,
    /// Peers each torrent uploads to at once (unchoked), the optimistic one included.
    pub upload_slots_per_torrent: usize,
    /// Peers the whole session uploads to at once; 0 = no cap beyond each torrent's.
    pub upload_slots_total: usize,
    /// Proven bad pieces (strikes) after which an address is banned for the session.
    pub strikes_to_ban: u32,
    /// Incoming connections that have not completed their handshake yet (a separate pool, so
    /// slow handshakers cannot take the real slots).
    pub max_half_open: usize,
    /// Bytes all torrents together may hold in piece assembly buffers.
    pub max_buffered_bytes: usize,
    /// How long one tracker announce may take.
    pub tracker_timeout: Duration,
    /// Threads that hash pieces (recheck and download verification).
    pub hash_threads: usize,
    /// Contact trackers on loopback/private addresses at any path (LAN, tests); off: SSRF rule.
    pub allow_local_trackers: bool,
    /// Where fast-resume records live (`crate::resume`); `None`: every start hashes all data.
    pub resume_dir: Option<std::path::PathBuf>,
    /// The BEP 5 DHT node; `None` runs none (no DHT bit, no lookups). Its UDP `bind` port 0
    /// means the TCP listener's port when that is free (one port for peers to open), else
    /// any; `saved_table` restores an earlier [`crate::session::Session::dht_state`]. With
    /// `listen_v6`, an IPv6 node (BEP 32) runs beside it from the same settings, bound to
    /// the IPv6 listener's address (same port rule) and joining through the `bootstrap`
    /// entries that resolve to IPv6.
    pub dht: Option<DhtConfig>,
    /// Peer exchange (BEP 11) with peers of public torrents.
    pub pex: bool,
    /// Local service discovery (BEP 14) for public torrents; `None`: off.
    pub lsd: Option<crate::lsd::LsdConfig>,
    /// Map the listening ports on the router (NAT-PMP, UPnP IGD); `None`: off.
    pub port_mapping: Option<crate::portmap::PortMapConfig>,
    /// Message stream encryption policy at start ([`crate::session::Session::set_encryption`]
    /// changes it later).
    pub encryption: Encryption,
    /// uTP (BEP 29) beside TCP: a UDP socket on the listener's port (shared with the DHT
    /// when that binds there too) accepts uTP connections, and dials try uTP first, TCP
    /// when a peer does not answer ([`crate::session::Session::set_utp`] changes it later).
    pub utp: bool,
}

/// Which connections use message stream encryption (MSE/PE).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// Plaintext only: an incoming encrypted handshake is refused.
    Disabled,
    /// Both: plaintext first when dialing (encrypted if a peer hangs up on plaintext),
    /// either kind accepted.
    #[default]
    Enabled,
    /// RC4-encrypted connections only, both ways.
    Required,
}

impl Encryption {
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Disabled => "disabled",
            Encryption::Enabled => "enabled",
            Encryption::Required => "required",
        }
    }
}

impl std::fmt::Display for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Not one of `disabled`, `enabled`, `required`.
#[derive(Debug, thiserror::Error)]
#[error("encryption must be disabled, enabled or required, not {0:?}")]
pub struct BadEncryption(pub String);

impl std::str::FromStr for Encryption {
    type Err = BadEncryption;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disabled" => Ok(Encryption::Disabled),
            "enabled" => Ok(Encryption::Enabled),
            "required" => Ok(Encryption::Required),
            other => Err(BadEncryption(other.to_string())),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 6881)),
            listen_v6: None,
            peer_id: PeerId::generate(),
            max_peers_per_torrent: 50,
            max_peers_total: 500,
            max_peers_per_ip: 8,
            max_half_open: 64,
            strikes_to_ban: 3,
            upload_slots_per_torrent: 8,
            upload_slots_total: 32,
            max_buffered_bytes: 64 << 20,
            tracker_timeout: Duration::from_secs(15),
            hash_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            allow_local_trackers: false,
            resume_dir: None,
            dht: None,
            lsd: None,
            port_mapping: None,
            pex: true,
            encryption: Encryption::Enabled,
            utp: true,
        }
    }
}

impl SessionConfig {
    /// Tracker client settings derived from this session's settings.
    pub fn tracker_config(&self) -> TrackerConfig {
        TrackerConfig {
            timeout: self.tracker_timeout,
            udp_initial_timeout: Duration::from_secs(3).min(self.tracker_timeout),
            udp_max_retries: 3,
            user_agent: USER_AGENT.to_string(),
            allow_local: self.allow_local_trackers,
        }
    }

    /// `hash_threads` with a floor of one, so a zero never stalls hashing.
    pub(crate) fn hash_threads(&self) -> usize {
        self.hash_threads.max(1)
    }
}
