//! UPnP IGD control: the gateway's description names its WAN connection service and that
//! service's control URL; SOAP calls there add, renew and delete port mappings.

use std::net::IpAddr;
use std::time::Duration;

use super::{PortMapError, Protocol};

/// Descriptions and SOAP answers are a few KiB; more is not a router's.
pub const MAX_BODY: usize = 64 << 10;
/// The services that map ports, in order of preference.
const SERVICES: [&str; 3] = [
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
];

/// A gateway's port-mapping service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub service_type: String,
    pub control: url::Url,
}

/// The text of the first `<tag>…</tag>` in `s` (no attributes on the tag; routers write
/// none on these).
fn element<'a>(s: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = s.find(&open)? + open.len();
    let len = s[start..].find(&close)?;
    Some(s[start..start + len].trim())
}

/// Finds the mapping service in a description fetched from `location`. Its control URL
/// must stay on the same host and port: the description cannot send our requests elsewhere.
pub fn parse_description(xml: &str, location: &url::Url) -> Result<Service, PortMapError> {
    let base = match element(xml, "URLBase").and_then(|b| url::Url::parse(b).ok()) {
        Some(b) => b,
        None => location.clone(),
    };
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find("<service>") {
        rest = &rest[i + "<service>".len()..];
        let end = rest.find("</service>").unwrap_or(rest.len());
        let block = &rest[..end];
        if let (Some(t), Some(c)) = (element(block, "serviceType"), element(block, "controlURL")) {
            if let Some(rank) = SERVICES.iter().position(|s| *s == t) {
                found.push((rank, t.to_string(), c.to_string()));
            }
        }
        rest = &rest[end..];
    }
    found.sort();
    let (_, service_type, control) = found.into_iter().next().ok_or(PortMapError::Malformed(
        "no WAN connection service in the description",
    ))?;
    let control = base
        .join(&control)
        .map_err(|_| PortMapError::Malformed("bad controlURL"))?;
    if control.scheme() != "http"
        || control.host() != location.host()
        || control.port_or_known_default() != location.port_or_known_default()
    {
        return Err(PortMapError::Malformed("controlURL leaves the gateway"));
    }
    Ok(Service {
        service_type,
        control,
    })
}

/// A SOAP request body for `action` with `args` (values are ours: numbers, addresses, a
/// fixed description; nothing needs escaping).
pub fn soap_body(service_type: &str, action: &str, args: &[(&str, String)]) -> String {
    let mut a = String::new();
    for (k, v) in args {
        a.push_str(&format!("<{k}>{v}</{k}>"));
    }
    format!(
        "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>\
         <u:{action} xmlns:u=\"{service_type}\">{a}</u:{action}></s:Body></s:Envelope>\r\n"
    )
}

/// The UPnP error code of a fault answer, if it is one.
pub fn fault_code(xml: &str) -> Option<u32> {
    element(xml, "errorCode")?.parse().ok()
}

/// Reads `resp`'s body, at most [`MAX_BODY`] bytes.
pub async fn read_body(mut resp: reqwest::Response) -> Result<String, PortMapError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| PortMapError::Http(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(PortMapError::Malformed("gateway answer too large"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| PortMapError::Malformed("gateway answer is not text"))
}

/// Fetches the description at `location` and picks the mapping service.
pub async fn service(http: &reqwest::Client, location: &url::Url) -> Result<Service, PortMapError> {
    let resp = http
        .get(location.clone())
        .send()
        .await
        .map_err(|e| PortMapError::Http(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(PortMapError::Http(format!(
            "description: HTTP {}",
            resp.status()
        )));
    }
    parse_description(&read_body(resp).await?, location)
}

/// Calls `action`; `Ok` with the answer's body, or the fault's UPnP error code.
async fn call(
    http: &reqwest::Client,
    svc: &Service,
    action: &'static str,
    args: &[(&str, String)],
) -> Result<String, PortMapError> {
    let resp = http
        .post(svc.control.clone())
        .header("Content-Type", "text/xml; charset=\"utf-8\"")
        .header("SOAPAction", format!("\"{}#{action}\"", svc.service_type))
        .body(soap_body(&svc.service_type, action, args))
        .send()
        .await
        .map_err(|e| PortMapError::Http(e.to_string()))?;
    let ok = resp.status().is_success();
    let body = read_body(resp).await?;
    if ok {
        return Ok(body);
    }
    Err(match fault_code(&body) {
        Some(code) => PortMapError::Fault { action, code },
        None => PortMapError::Http(format!("{action} failed")),
    })
}

pub async fn external_address(
    http: &reqwest::Client,
    svc: &Service,
) -> Result<IpAddr, PortMapError> {
    let body = call(http, svc, "GetExternalIPAddress", &[]).await?;
    element(&body, "NewExternalIPAddress")
        .and_then(|a| a.parse().ok())
        .ok_or(PortMapError::Malformed("no external address in the answer"))
}

/// Faults that mean "that external port is taken" (ConflictInMappingEntry,
/// ConflictWithOtherMechanisms).
const CONFLICT: [u32; 2] = [718, 729];
/// OnlyPermanentLeasesSupported.
const PERMANENT_ONLY: u32 = 725;
/// Other external ports tried after a conflict, when the router cannot choose one itself.
const OTHER_PORTS: u16 = 4;

/// Forwards an external port (`want` if free) to `client:port` for `lease`; returns the
/// external port and the lease granted (zero: permanent, for a gateway that takes only
/// those; removed at exit like the others). On a conflict the router picks a port
/// (IGDv2's `AddAnyPortMapping`), else a few others are tried.
pub async fn add(
    http: &reqwest::Client,
    svc: &Service,
    p: Protocol,
    port: u16,
    want: u16,
    client: IpAddr,
    lease: Duration,
) -> Result<(u16, Duration), PortMapError> {
    let args = |external: u16, lease: u64| {
        vec![
            ("NewRemoteHost", String::new()),
            ("NewExternalPort", external.to_string()),
            ("NewProtocol", p.as_str().to_string()),
            ("NewInternalPort", port.to_string()),
            ("NewInternalClient", client.to_string()),
            ("NewEnabled", "1".to_string()),
            ("NewPortMappingDescription", "TorrentEdge".to_string()),
            ("NewLeaseDuration", lease.to_string()),
        ]
    };
    let mut lease = lease.as_secs();
    let mut external = want;
    let mut tries = 0;
    loop {
        match call(http, svc, "AddPortMapping", &args(external, lease)).await {
            Ok(_) => return Ok((external, Duration::from_secs(lease))),
            Err(PortMapError::Fault {
                code: PERMANENT_ONLY,
                ..
            }) if lease != 0 => lease = 0,
            Err(PortMapError::Fault { code, .. })
                if CONFLICT.contains(&code) && tries < OTHER_PORTS =>
            {
                if tries == 0 && svc.service_type.ends_with(":2") {
                    if let Ok(body) =
                        call(http, svc, "AddAnyPortMapping", &args(external, lease)).await
                    {
                        if let Some(got) =
                            element(&body, "NewReservedPort").and_then(|v| v.parse().ok())
                        {
                            return Ok((got, Duration::from_secs(lease)));
                        }
                    }
                }
                tries += 1;
                external = rand::random_range(10_000..=65_000);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Removes the forwarding of `external`.
pub async fn delete(
    http: &reqwest::Client,
    svc: &Service,
    p: Protocol,
    external: u16,
) -> Result<(), PortMapError> {
    let args = [
        ("NewRemoteHost", String::new()),
        ("NewExternalPort", external.to_string()),
        ("NewProtocol", p.as_str().to_string()),
    ];
    call(http, svc, "DeletePortMapping", &args)
        .await
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service list of miniupnpd 2.3's rootDesc.xml, shortened.
    const DESC: &str = r#"<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><serviceList>
<service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><controlURL>/ctl/L3F</controlURL></service>
</serviceList><deviceList><device><deviceList><device><serviceList>
<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType><serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL><eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service>
</serviceList></device></deviceList></device></deviceList></device></root>"#;

    #[test]
    fn finds_the_wan_ip_connection() {
        let loc = url::Url::parse("http://192.168.1.1:5000/rootDesc.xml").unwrap();
        let s = parse_description(DESC, &loc).unwrap();
        assert_eq!(
            s.service_type,
            "urn:schemas-upnp-org:service:WANIPConnection:2"
        );
        assert_eq!(s.control.as_str(), "http://192.168.1.1:5000/ctl/IPConn");
    }

    #[test]
    fn a_control_url_elsewhere_is_refused() {
        let loc = url::Url::parse("http://192.168.1.1:5000/rootDesc.xml").unwrap();
        let away = DESC.replace("/ctl/IPConn", "http://10.0.0.9/ctl");
        assert!(parse_description(&away, &loc).is_err());
        let none = DESC.replace("WANIPConnection:2", "Other:1");
        assert!(parse_description(&none, &loc).is_err());
    }

    #[test]
    fn soap_and_faults() {
        let b = soap_body("urn:x:WANIPConnection:1", "GetExternalIPAddress", &[]);
        assert!(b.contains(
            "<u:GetExternalIPAddress xmlns:u=\"urn:x:WANIPConnection:1\"></u:GetExternalIPAddress>"
        ));
        let fault = "<s:Envelope><s:Body><s:Fault><detail><UPnPError><errorCode>718</errorCode></UPnPError></detail></s:Fault></s:Body></s:Envelope>";
        assert_eq!(fault_code(fault), Some(718));
        assert_eq!(fault_code("<x/>"), None);
    }
}
