//! How the server reaches peers (`/api/settings`'s `network`): the choices for the engine's
//! next start, since they decide which sockets it binds.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkSettings {
    /// uTP (BEP 29) beside TCP, tried first when dialing.
    pub utp: bool,
    /// An IPv6 peer listener beside the IPv4 one (BEP 7).
    pub ipv6: bool,
    /// Local service discovery on the LAN (BEP 14).
    pub lsd: bool,
    /// Port mapping on the router (NAT-PMP, UPnP IGD).
    pub upnp: bool,
    /// What the router forwards to us now.
    #[serde(default)]
    pub port_mappings: Vec<PortMapping>,
    /// These differ from what the running engine started with: a restart applies them.
    pub restart_required: bool,
}

impl Default for NetworkSettings {
    fn default() -> Self {
        NetworkSettings {
            utp: true,
            ipv6: true,
            lsd: true,
            upnp: false,
            port_mappings: Vec::new(),
            restart_required: false,
        }
    }
}

/// `PATCH /api/settings`'s `network`: only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NetworkPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utp: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lsd: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upnp: Option<bool>,
}

/// A port the router forwards to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    /// `TCP` or `UDP`.
    pub protocol: String,
    pub internal: u16,
    /// The router's public address and port.
    pub external: String,
    /// `nat-pmp` or `upnp`.
    pub method: String,
}
