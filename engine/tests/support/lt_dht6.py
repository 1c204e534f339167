#!/usr/bin/python3
"""lt_dht.py on IPv6 loopback: the same libtorrent 2.0.8 DHT node, modes and output,
but --listen and --bootstrap take [::1]:PORT (and nothing else), so libtorrent's only
listen socket, and with it its only DHT node, is IPv6 (BEP 32). It bootstraps only from
the [::1] node given; LSD, UPnP, NAT-PMP and uTP stay off as in lt_dht.py.

Run it with Debian's /usr/bin/python3 inside scripts/in-netns.sh.
"""

import argparse
import importlib.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("lt_dht", os.path.join(_here, "lt_dht.py"))
lt_dht = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lt_dht)

_v4_settings = lt_dht.settings


def loopback6(s):
    host, _, port = s.rpartition(":")
    if host != "[::1]" or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected [::1]:PORT, got {s!r}")
    return host, int(port)


def settings6(listen, bootstrap):
    s = _v4_settings(listen, bootstrap)
    # listen_interfaces "[::1]:PORT" and dht_bootstrap_nodes "[::1]:PORT" come out right
    # from lt_dht.py; outgoing_interfaces takes a bare address.
    s["outgoing_interfaces"] = "::1"
    return s


def check_live6(ses, bootstrap):
    s = ses.get_settings()
    bad = [k for k in ("enable_lsd", "enable_upnp", "enable_natpmp") if s.get(k)]
    want = f"{bootstrap[0]}:{bootstrap[1]}"
    if bad or s.get("dht_bootstrap_nodes") != want or not s.get("listen_interfaces", "").startswith("[::1]:"):
        lt_dht.out("FAILED unsafe live settings", bad, s.get("dht_bootstrap_nodes"), s.get("listen_interfaces"))
        sys.exit(5)


lt_dht.loopback = loopback6
lt_dht.settings = settings6
lt_dht.check_live = check_live6

if __name__ == "__main__":
    sys.exit(lt_dht.main())
