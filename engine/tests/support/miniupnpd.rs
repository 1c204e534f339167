//! A real router for port-mapping tests: Debian's miniupnpd (nftables backend) on the test
//! namespace's loopback, speaking NAT-PMP on 5351 and UPnP IGD on an HTTP port, with SSDP
//! on lo's multicast. Its nftables table lives only in the namespace.

use std::process::Command;
use std::time::Duration;

use super::{free_port, require_tool, ChildGuard};

/// The public address the router claims (a real one is required; no packet goes there).
pub const ROUTER_PUBLIC: &str = "80.80.80.80";

const NFT_TABLE: &str = "table inet filter {
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
";

pub struct MiniUpnpd {
    pub proc: ChildGuard,
    pub http_port: u16,
    _dir: tempfile::TempDir,
}

impl MiniUpnpd {
    pub fn start(natpmp: bool, upnp: bool) -> MiniUpnpd {
        assert!(
            std::env::var_os("TORRENTEDGE_IN_NETNS").is_some(),
            "miniupnpd changes nftables: run inside scripts/in-netns.sh"
        );
        require_tool("miniupnpd", "miniupnpd-nftables");
        require_tool("nft", "nftables");
        let dir = super::temp_dir("miniupnpd");
        let nft = dir.path().join("init.nft");
        std::fs::write(&nft, NFT_TABLE).unwrap();
        // Idempotent across tests of one namespace: flush what an earlier router left.
        let _ = Command::new("nft")
            .args(["delete", "table", "inet", "filter"])
            .stderr(std::process::Stdio::null())
            .status();
        let st = Command::new("nft")
            .arg("-f")
            .arg(&nft)
            .status()
            .expect("nft");
        assert!(st.success(), "nft could not create the router's table");
        let http_port = free_port();
        let yes = |b: bool| if b { "yes" } else { "no" };
        let conf = dir.path().join("miniupnpd.conf");
        std::fs::write(
            &conf,
            format!(
                "ext_ifname=lo\nlistening_ip=lo\nport={http_port}\nenable_natpmp={}\n\
                 enable_upnp={}\next_ip={ROUTER_PUBLIC}\nsecure_mode=no\nsystem_uptime=yes\n\
                 lease_file={}\nuuid=3d3cec3a-8cf0-11e0-98ee-001a6b1a8bde\n\
                 allow 1024-65535 127.0.0.0/8 1024-65535\ndeny 0-65535 0.0.0.0/0 0-65535\n",
                yes(natpmp),
                yes(upnp),
                dir.path().join("leases").display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new("miniupnpd");
        cmd.arg("-d")
            .arg("-f")
            .arg(&conf)
            .arg("-P")
            .arg(dir.path().join("pid"));
        let mut proc = ChildGuard::spawn("miniupnpd", cmd);
        // Ready once its HTTP port (UPnP) or a moment (NAT-PMP only) has passed.
        if upnp {
            super::wait_tcp_listening(http_port, &mut proc, Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("{e}"));
        } else {
            std::thread::sleep(Duration::from_millis(500));
        }
        MiniUpnpd {
            proc,
            http_port,
            _dir: dir,
        }
    }

    /// The router's forwarding rules, as nft lists them.
    pub fn rules() -> String {
        let out = Command::new("nft")
            .args(["list", "chain", "inet", "filter", "prerouting_miniupnpd"])
            .output()
            .expect("nft list");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
