//! Port mapping on a home router, so peers outside can reach our listeners: NAT-PMP
//! (`natpmp.rs`) when the gateway speaks it, else UPnP IGD (`ssdp.rs` finds the gateway,
//! `igd.rs` talks to it). Every gateway answer is untrusted: bounded, and it can never send
//! a request to a host other than the gateway that answered.
//!
//! State: one task per session. `Searching` → (mapped) `Mapped` → renewed at half the
//! lease → … ; a failure goes back to `Searching` after a backoff (1 min doubling to
//! 15 min). [`PortMapper::shutdown`] stops the task and deletes what it mapped (bounded).
//! The mapped list (`state`) is the only shared data, under a leaf mutex.

pub mod igd;
pub mod natpmp;
pub mod ssdp;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::session::own_addrs::{self, route_source};

/// What to map and where to ask.
#[derive(Clone, Debug)]
pub struct PortMapConfig {
    /// The gateway NAT-PMP talks to; `None`: the default route's gateway.
    pub gateway: Option<IpAddr>,
    /// The interface (by IPv4 address) SSDP searches on; unspecified: the default one.
    pub interface: Ipv4Addr,
    pub natpmp: bool,
    pub upnp: bool,
    /// How long each mapping is asked for; renewed at half.
    pub lease: Duration,
}

impl Default for PortMapConfig {
    fn default() -> Self {
        PortMapConfig {
            gateway: None,
            interface: Ipv4Addr::UNSPECIFIED,
            natpmp: true,
            upnp: true,
            lease: Duration::from_secs(3600),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    NatPmp,
    Upnp,
}

/// One port the router forwards to us.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Mapping {
    pub protocol: Protocol,
    pub internal: u16,
    /// The router's public address and the port it forwards.
    pub external: SocketAddr,
    /// Zero: permanent (removed at exit).
    pub lifetime: Duration,
    pub method: Method,
}

#[derive(Debug, thiserror::Error)]
pub enum PortMapError {
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Http(String),
    #[error("malformed gateway answer: {0}")]
    Malformed(&'static str),
    #[error("the gateway refused: {0}")]
    Refused(String),
    #[error("UPnP error {code} on {action}")]
    Fault { action: &'static str, code: u32 },
    #[error("the gateway did not answer")]
    Timeout,
    #[error("no gateway found")]
    NoGateway,
}

/// A LAN address: where a home gateway lives (private, link-local, loopback, ULA).
pub(crate) fn on_lan(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.is_loopback(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || first & 0xffc0 == 0xfe80 || first & 0xfe00 == 0xfc00
        }
    }
}

/// Whether this host reaches the internet from a LAN address (behind a router that may map
/// ports); false without a route out.
pub fn behind_nat() -> bool {
    route_source(own_addrs::PROBE_V4).is_some_and(|ip| on_lan(ip) && !ip.is_loopback())
}

/// The default route's gateway from `/proc/net/route` (Linux).
fn default_gateway() -> Option<IpAddr> {
    let table = std::fs::read_to_string("/proc/net/route").ok()?;
    parse_route_table(&table)
}

fn parse_route_table(table: &str) -> Option<IpAddr> {
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || f[1] != "00000000" {
            return None;
        }
        let gw = u32::from_str_radix(f[2], 16).ok().filter(|g| *g != 0)?;
        Some(IpAddr::V4(Ipv4Addr::from(gw.to_le_bytes())))
    })
}

/// How the current mappings were made, to renew and delete them.
#[derive(Clone)]
enum Via {
    NatPmp(IpAddr),
    Upnp(Arc<igd::Service>),
}

#[derive(Default)]
struct State {
    mapped: Vec<Mapping>,
    via: Option<Via>,
}

/// The session's port mapping task.
pub struct PortMapper {
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
    http: reqwest::Client,
}

const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(15 * 60);
/// SSDP replies are awaited this long.
const SEARCH_WAIT: Duration = Duration::from_secs(3);
/// What shutdown waits for the deletions.
const UNMAP_WAIT: Duration = Duration::from_secs(3);

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PortMapper {
    /// Starts mapping `ports`.
    pub fn start(
        cfg: PortMapConfig,
        ports: Vec<(Protocol, u16)>,
    ) -> Result<PortMapper, PortMapError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(crate::config::USER_AGENT)
            .build()
            .map_err(|e| PortMapError::Http(e.to_string()))?;
        let state = Arc::new(Mutex::new(State::default()));
        let task = tokio::spawn(run(cfg, ports, state.clone(), http.clone()));
        Ok(PortMapper { state, task, http })
    }

    /// What the router forwards now.
    pub fn mappings(&self) -> Vec<Mapping> {
        lock(&self.state).mapped.clone()
    }

    /// Stops renewing and deletes the mappings (waiting at most [`UNMAP_WAIT`]).
    pub async fn shutdown(&self) {
        self.task.abort();
        let (mapped, via) = {
            let mut st = lock(&self.state);
            (std::mem::take(&mut st.mapped), st.via.take())
        };
        let Some(via) = via else { return };
        let delete = async {
            for m in &mapped {
                let r = match &via {
                    // NAT-PMP deletes by internal port, UPnP by external.
                    Via::NatPmp(gw) => natpmp::unmap(*gw, m.protocol, m.internal).await,
                    Via::Upnp(svc) => {
                        igd::delete(&self.http, svc, m.protocol, m.external.port()).await
                    }
                };
                if let Err(e) = r {
                    tracing::debug!(
                        "removing the {} {} mapping: {e}",
                        m.protocol.as_str(),
                        m.external
                    );
                }
            }
        };
        let _ = tokio::time::timeout(UNMAP_WAIT, delete).await;
    }
}

async fn run(
    cfg: PortMapConfig,
    ports: Vec<(Protocol, u16)>,
    state: Arc<Mutex<State>>,
    http: reqwest::Client,
) {
    let mut backoff = RETRY_FIRST;
    loop {
        let previous = lock(&state).mapped.clone();
        match map_all(&cfg, &ports, &http, &previous).await {
            Ok((via, mapped)) => {
                for m in &mapped {
                    tracing::info!(
                        "port mapped: {} {} -> {} ({:?})",
                        m.protocol.as_str(),
                        m.external,
                        m.internal,
                        m.method
                    );
                }
                let renew = mapped
                    .iter()
                    .map(|m| m.lifetime)
                    .filter(|l| !l.is_zero())
                    .min()
                    .map_or(cfg.lease, |l| l / 2)
                    .max(Duration::from_secs(30));
                {
                    let mut st = lock(&state);
                    st.mapped = mapped;
                    st.via = Some(via);
                }
                backoff = RETRY_FIRST;
                tokio::time::sleep(renew).await;
            }
            Err(e) => {
                tracing::info!(
                    "port mapping failed: {e}; retrying in {}s",
                    backoff.as_secs()
                );
                lock(&state).mapped.clear();
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(RETRY_MAX);
            }
        }
    }
}

/// Maps every port, NAT-PMP first (one round trip), else UPnP; a renewal asks for the
/// external ports it had.
async fn map_all(
    cfg: &PortMapConfig,
    ports: &[(Protocol, u16)],
    http: &reqwest::Client,
    previous: &[Mapping],
) -> Result<(Via, Vec<Mapping>), PortMapError> {
    let lease = cfg.lease.as_secs().min(u32::MAX as u64) as u32;
    let mut last = PortMapError::NoGateway;
    if cfg.natpmp {
        if let Some(gw) = cfg.gateway.or_else(default_gateway) {
            let mut out = Vec::new();
            for (p, port) in ports {
                match natpmp::map(gw, *p, *port, lease).await {
                    Ok(m) => out.push(m),
                    Err(e) => {
                        last = e;
                        break;
                    }
                }
            }
            if out.len() == ports.len() {
                return Ok((Via::NatPmp(gw), out));
            }
        }
    }
    if cfg.upnp {
        let location = ssdp::discover(cfg.interface, SEARCH_WAIT).await?;
        let svc = igd::service(http, &location).await?;
        let gw_ip: IpAddr = match svc.control.host() {
            Some(url::Host::Ipv4(a)) => a.into(),
            Some(url::Host::Ipv6(a)) => a.into(),
            _ => return Err(PortMapError::Malformed("gateway host is not an address")),
        };
        let client = route_source(gw_ip).ok_or(PortMapError::NoGateway)?;
        let public = igd::external_address(http, &svc).await?;
        let mut out = Vec::new();
        for (p, port) in ports {
            let want = previous
                .iter()
                .find(|m| m.protocol == *p && m.internal == *port)
                .map_or(*port, |m| m.external.port());
            let (external, lifetime) =
                igd::add(http, &svc, *p, *port, want, client, cfg.lease).await?;
            out.push(Mapping {
                protocol: *p,
                internal: *port,
                external: SocketAddr::new(public, external),
                lifetime,
                method: Method::Upnp,
            });
        }
        return Ok((Via::Upnp(Arc::new(svc)), out));
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_default_gateway() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     eth0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
                     eth0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            parse_route_table(table),
            Some("192.168.1.1".parse().unwrap())
        );
        assert_eq!(parse_route_table("Iface\tDestination\n"), None);
    }

    #[test]
    fn lan_addresses() {
        for ip in [
            "192.168.1.1",
            "10.0.0.1",
            "172.16.0.1",
            "127.0.0.1",
            "fe80::1",
            "fd00::1",
        ] {
            assert!(on_lan(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["80.80.80.80", "2001:db8::1"] {
            assert!(!on_lan(ip.parse().unwrap()), "{ip}");
        }
    }
}
