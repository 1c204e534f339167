//! How the engine reaches peers beyond plain IPv4 TCP: uTP (BEP 29), an IPv6 listener (BEP 7), local
//! service discovery (BEP 14) and port mapping on the router (NAT-PMP, UPnP IGD). Options
//! `--utp/--no-utp`, `--ipv6/--no-ipv6`, `--lsd/--no-lsd`, `--upnp/--no-upnp` (and the
//! variables `UTP`, `IPV6`, `LSD`, `UPNP`) give them until an admin changes them in `PATCH /api/settings`;
//! then the stored values (`settings`, names `network.*`) win. They take effect at the next
//! start, since they decide which sockets the engine binds.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use app::types::{NetworkPatch, NetworkSettings, PortMapping};
use engine::config::SessionConfig;

use crate::db::{settings, Db, DbError};

/// The options, shared by `serve`, `download` and `seed`.
#[derive(clap::Args, Debug, Clone, Default, serde::Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct NetworkArgs {
    /// uTP (BEP 29): peer connections over UDP too, tried first when dialing, with TCP as
    /// the fallback (`--utp=false` or `--no-utp`: TCP only) [default: true].
    #[arg(long, env = "UTP", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub utp: Option<bool>,
    /// TCP only, whatever UTP says.
    #[arg(long = "no-utp")]
    #[serde(skip)]
    pub no_utp: bool,
    /// Listen for IPv6 peers too, on the same port (`--ipv6=false` or `--no-ipv6`: IPv4
    /// only) [default: true].
    #[arg(long, env = "IPV6", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ipv6: Option<bool>,
    /// IPv4 only, whatever IPV6 says.
    #[arg(long = "no-ipv6")]
    #[serde(skip)]
    pub no_ipv6: bool,
    /// Local service discovery (BEP 14): find peers on the LAN by multicast, for public
    /// torrents (`--lsd=false` or `--no-lsd` turns it off) [default: true].
    #[arg(long, env = "LSD", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub lsd: Option<bool>,
    /// No local service discovery, whatever LSD says.
    #[arg(long = "no-lsd")]
    #[serde(skip)]
    pub no_lsd: bool,
    /// Map the peer ports on the router by NAT-PMP or UPnP IGD (`--upnp=false` or
    /// `--no-upnp` turns it off) [default: true when this host is on a private address].
    #[arg(long, env = "UPNP", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub upnp: Option<bool>,
    /// No port mapping, whatever UPNP says.
    #[arg(long = "no-upnp")]
    #[serde(skip)]
    pub no_upnp: bool,
}

/// The resolved choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    pub utp: bool,
    pub ipv6: bool,
    pub lsd: bool,
    pub upnp: bool,
}

impl NetworkArgs {
    /// These options over `file`'s (a `--config` file), over the defaults.
    pub fn resolve(&self, file: &NetworkArgs) -> Network {
        Network {
            utp: !self.no_utp && self.utp.or(file.utp).unwrap_or(true),
            ipv6: !self.no_ipv6 && self.ipv6.or(file.ipv6).unwrap_or(true),
            lsd: !self.no_lsd && self.lsd.or(file.lsd).unwrap_or(true),
            upnp: !self.no_upnp
                && self
                    .upnp
                    .or(file.upnp)
                    .unwrap_or_else(engine::portmap::behind_nat),
        }
    }
}

impl Network {
    /// Sets the engine's listeners and discovery for a peer listener on `bind`.
    pub fn apply(&self, c: &mut SessionConfig) {
        let bind = c.listen_addr;
        c.utp = self.utp;
        c.listen_v6 = if self.ipv6 { v6_beside(bind) } else { None };
        c.lsd = self.lsd.then(|| engine::lsd::LsdConfig {
            // A loopback-bound server announces on loopback only.
            interface: match bind.ip() {
                IpAddr::V4(v4) if v4.is_loopback() => v4,
                _ => std::net::Ipv4Addr::UNSPECIFIED,
            },
            ..Default::default()
        });
        c.port_mapping = self.upnp.then(engine::portmap::PortMapConfig::default);
    }

    /// The stored choices over these (the ones from options), for the next start.
    pub async fn stored_over(self, db: &Db) -> Result<Network, DbError> {
        Ok(Network {
            utp: stored(db, UTP).await?.unwrap_or(self.utp),
            ipv6: stored(db, IPV6).await?.unwrap_or(self.ipv6),
            lsd: stored(db, LSD).await?.unwrap_or(self.lsd),
            upnp: stored(db, UPNP).await?.unwrap_or(self.upnp),
        })
    }

    /// `next` (what the next start uses) against these (running), with the router's
    /// mappings now.
    pub fn to_api(self, next: Network, mappings: &[engine::portmap::Mapping]) -> NetworkSettings {
        NetworkSettings {
            utp: next.utp,
            ipv6: next.ipv6,
            lsd: next.lsd,
            upnp: next.upnp,
            restart_required: next != self,
            port_mappings: mappings
                .iter()
                .map(|m| PortMapping {
                    protocol: m.protocol.as_str().to_string(),
                    internal: m.internal,
                    external: m.external.to_string(),
                    method: match m.method {
                        engine::portmap::Method::NatPmp => "nat-pmp",
                        engine::portmap::Method::Upnp => "upnp",
                    }
                    .to_string(),
                })
                .collect(),
        }
    }
}

/// The IPv6 listener that goes with an IPv4 one: all addresses with all, loopback with
/// loopback; none beside a specific IPv4 address or when the listener is IPv6 already.
fn v6_beside(bind: SocketAddr) -> Option<SocketAddr> {
    match bind.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => Some((Ipv6Addr::UNSPECIFIED, 0).into()),
        IpAddr::V4(v4) if v4.is_loopback() => Some((Ipv6Addr::LOCALHOST, 0).into()),
        _ => None,
    }
}

const UTP: &str = "network.utp";
const IPV6: &str = "network.ipv6";
const LSD: &str = "network.lsd";
const UPNP: &str = "network.upnp";

async fn stored(db: &Db, key: &str) -> Result<Option<bool>, DbError> {
    Ok(settings::get(db, key).await?.map(|v| v == "true"))
}

/// Stores the patch's choices for the next start.
pub async fn store(db: &Db, p: &NetworkPatch) -> Result<(), DbError> {
    for (key, v) in [(UTP, p.utp), (IPV6, p.ipv6), (LSD, p.lsd), (UPNP, p.upnp)] {
        if let Some(v) = v {
            settings::put(db, key, if v { "true" } else { "false" }).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_unless_turned_off() {
        let on = NetworkArgs::default().resolve(&NetworkArgs::default());
        assert!(on.utp && on.ipv6 && on.lsd);
        assert_eq!(on.upnp, engine::portmap::behind_nat());
        let off = NetworkArgs {
            no_utp: true,
            no_ipv6: true,
            lsd: Some(false),
            no_upnp: true,
            ..Default::default()
        };
        assert_eq!(
            off.resolve(&NetworkArgs::default()),
            Network {
                utp: false,
                ipv6: false,
                lsd: false,
                upnp: false
            }
        );
        let file = NetworkArgs {
            lsd: Some(false),
            ..Default::default()
        };
        assert!(!NetworkArgs::default().resolve(&file).lsd);
    }

    #[test]
    fn the_v6_listener_follows_the_v4_bind() {
        let mut c = SessionConfig {
            listen_addr: "0.0.0.0:6881".parse().unwrap(),
            ..Default::default()
        };
        Network {
            utp: true,
            ipv6: true,
            lsd: true,
            upnp: true,
        }
        .apply(&mut c);
        assert!(c.utp);
        assert_eq!(c.listen_v6, Some("[::]:0".parse().unwrap()));
        assert!(c.port_mapping.is_some());
        assert_eq!(
            c.lsd.as_ref().unwrap().interface,
            std::net::Ipv4Addr::UNSPECIFIED
        );
        c.listen_addr = "127.0.0.1:0".parse().unwrap();
        Network {
            utp: false,
            ipv6: true,
            lsd: true,
            upnp: false,
        }
        .apply(&mut c);
        assert!(!c.utp);
        assert_eq!(c.listen_v6, Some("[::1]:0".parse().unwrap()));
        assert!(c.port_mapping.is_none());
        assert_eq!(
            c.lsd.as_ref().unwrap().interface,
            std::net::Ipv4Addr::LOCALHOST
        );
        c.listen_addr = "192.0.2.4:6881".parse().unwrap();
        Network {
            utp: true,
            ipv6: true,
            lsd: false,
            upnp: false,
        }
        .apply(&mut c);
        assert_eq!(c.listen_v6, None);
        assert!(c.lsd.is_none());
    }
}
