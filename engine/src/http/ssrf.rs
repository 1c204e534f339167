//! Server-side request forgery mitigation (libtorrent's `ssrf_mitigation` rule).
//!
//! A `.torrent` or magnet chooses the URLs we contact (trackers, web seeds), and each one's
//! result is shown to whoever added it: without a rule, a server running TorrentEdge would
//! probe its own network (routers' admin pages, databases on loopback) for anyone who may add
//! a torrent. So, unless the session allows local addresses (LAN use, tests), a tracker on a
//! loopback, private or link-local address is contacted only when its path is exactly
//! `/announce` (what a real tracker serves, and what an internal web service rarely does), a
//! web seed there not at all, and an HTTP redirect into such an address is never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::HttpError;

/// Whether `ip` is on this host or a private network rather than the public internet.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_local_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local_v4(v4),
            None => is_local_v6(v6),
        },
    }
}

fn is_local_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        // 100.64.0.0/10: carrier-grade NAT, one provider's private network.
        || (o[0] == 100 && (o[1] & 0xc0) == 64)
}

fn is_local_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        // fc00::/7 unique local, fe80::/10 link-local.
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
}

/// The addresses `url`'s host stands for (resolved with a bound on the time it may take).
async fn addresses(url: &url::Url, timeout: Duration) -> Result<Vec<IpAddr>, HttpError> {
    match url.host() {
        Some(url::Host::Ipv4(a)) => Ok(vec![IpAddr::V4(a)]),
        Some(url::Host::Ipv6(a)) => Ok(vec![IpAddr::V6(a)]),
        Some(url::Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(80);
            let lookup = tokio::net::lookup_host((name, port));
            let addrs = tokio::time::timeout(timeout, lookup)
                .await
                .map_err(|_| HttpError::Timeout)?
                .map_err(|e| HttpError::Resolve(format!("{name}: {e}")))?;
            Ok(addrs.map(|a| a.ip()).collect())
        }
        None => Err(HttpError::InvalidUrl("url without host".into())),
    }
}

/// Refuses a tracker URL on a local address unless its path is `/announce`.
pub(crate) async fn check_tracker(url: &url::Url, timeout: Duration) -> Result<(), HttpError> {
    if url.path() == "/announce" {
        return Ok(());
    }
    refuse_local(
        url,
        timeout,
        "a tracker on a local address must use the path /announce",
    )
    .await
}

/// Refuses a web seed on a local address.
pub(crate) async fn check_web_seed(url: &url::Url, timeout: Duration) -> Result<(), HttpError> {
    refuse_local(url, timeout, "a web seed on a local address is not allowed").await
}

/// Refuses a redirect into a local address.
pub(crate) async fn check_redirect(url: &url::Url, timeout: Duration) -> Result<(), HttpError> {
    refuse_local(url, timeout, "redirect into a local address").await
}

async fn refuse_local(url: &url::Url, timeout: Duration, why: &str) -> Result<(), HttpError> {
    if addresses(url, timeout).await?.into_iter().any(is_local) {
        return Err(HttpError::Refused(why.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_addresses() {
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.1",
        ] {
            assert!(is_local(local.parse().unwrap()), "{local}");
        }
        for public in [
            "93.184.216.34",
            "100.128.0.1",
            "2606:4700::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!is_local(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn local_trackers_need_the_announce_path() {
        let t = Duration::from_secs(5);
        let ok = |u: &str| url::Url::parse(u).unwrap();
        assert!(check_tracker(&ok("http://127.0.0.1:6969/announce"), t)
            .await
            .is_ok());
        assert!(check_tracker(&ok("udp://10.0.0.1:6969/announce"), t)
            .await
            .is_ok());
        assert!(check_tracker(&ok("http://93.184.216.34/x.php?a=1"), t)
            .await
            .is_ok());
        for refused in [
            "http://127.0.0.1:6379/",
            "http://192.168.1.1/admin",
            "http://[::1]:8080/announce.php",
            "http://169.254.169.254/latest/meta-data",
            "udp://127.0.0.1:53",
            "http://localhost:3000/api/health",
        ] {
            let e = check_tracker(&ok(refused), t).await.unwrap_err();
            assert!(matches!(e, HttpError::Refused(_)), "{refused}: {e:?}");
        }
        let e = check_redirect(&ok("http://127.0.0.1/announce"), t)
            .await
            .unwrap_err();
        assert!(matches!(e, HttpError::Refused(_)), "{e:?}");
        assert!(check_redirect(&ok("http://93.184.216.34/announce"), t)
            .await
            .is_ok());
    }
}
