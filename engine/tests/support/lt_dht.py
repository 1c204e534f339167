#!/usr/bin/python3
"""A libtorrent 2.0.8 DHT node for TorrentEdge's DHT interop tests.

Run it with Debian's /usr/bin/python3 inside scripts/in-netns.sh. Its DHT is on but
bootstraps ONLY from the loopback node given with --bootstrap (no public routers);
LSD, UPnP, NAT-PMP, uTP, trackers and peer exchange are off; it listens and dials on
the loopback address of --listen only.

Modes
  seed TORRENT DATA_DIR     seed (seed_mode) and announce the torrent on the DHT
  get-peers INFO_HASH_HEX   ask the DHT for peers of INFO_HASH every 2 s
  leech TORRENT OUT_DIR     download the torrent (its trackers removed) with peers from
                            the DHT only; exit 0 once complete

Options
  --listen 127.0.0.N:PORT   listen address (PORT 0 picks one); UDP (DHT) and TCP
  --bootstrap IP:PORT       the loopback DHT node to join through (required)
  --timeout SECS            give up (exit 3) after SECS (default 90)

Lines on stdout (flushed):
  READY <port>              listening
  DHT_NODES <n>             routing table size, every 2 s
  DHT_REPLY <peers>         seed: our torrent's DHT announce finished
  PEER <ip>:<port>          get-peers: a peer the DHT returned (each once)
  DONE <seconds>            leech: every piece downloaded and verified; exits 0
  FAILED <reason>
"""

import argparse
import ctypes
import signal
import sys
import time

import libtorrent as lt

START = time.monotonic()
_C = lt.alert.category_t
ALERTS = (
    _C.status_notification
    | _C.error_notification
    | _C.stats_notification
    | _C.dht_notification
    | _C.dht_operation_notification
    | _C.dht_log_notification
)


def out(*words):
    print(*words, flush=True)


def log(*words):
    print("lt_dht:", *words, file=sys.stderr, flush=True)


def die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def loopback(s):
    host, _, port = s.rpartition(":")
    if not host.startswith("127.") or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected 127.x.y.z:PORT, got {s!r}")
    return host, int(port)


def settings(listen, bootstrap):
    host, port = listen
    return {
        "listen_interfaces": f"{host}:{port}",
        "outgoing_interfaces": host,
        "enable_dht": True,
        "dht_bootstrap_nodes": f"{bootstrap[0]}:{bootstrap[1]}",
        # Every node of the test is on 127.0.0.x: no one-node-per-IP rules.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_prefer_verified_node_ids": False,
        "dht_enforce_node_id": False,
        "dht_ignore_dark_internet": False,
        "dht_announce_interval": 5,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "enable_ip_notifier": False,
        # Only the alerts this script reads. With every category on, libtorrent 2.0.8's
        # Python binding crashed (SIGSEGV) once in CI while peers were connecting, and the
        # peer/picker/torrent logs it then produces are never read here anyway.
        "alert_mask": ALERTS,
    }


def check_live(ses, bootstrap):
    s = ses.get_settings()
    bad = [k for k in ("enable_lsd", "enable_upnp", "enable_natpmp") if s.get(k)]
    want = f"{bootstrap[0]}:{bootstrap[1]}"
    if bad or s.get("dht_bootstrap_nodes") != want or not s.get("listen_interfaces", "").startswith("127."):
        out("FAILED unsafe live settings", bad, s.get("dht_bootstrap_nodes"), s.get("listen_interfaces"))
        sys.exit(5)


def main():
    die_with_parent()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["seed", "get-peers", "leech"])
    p.add_argument("args", nargs="+")
    p.add_argument("--listen", type=loopback, default=("127.0.0.1", 0))
    p.add_argument("--bootstrap", type=loopback, required=True)
    p.add_argument("--timeout", type=float, default=90)
    a = p.parse_args()

    ses = lt.session(settings(a.listen, a.bootstrap))
    check_live(ses, a.bootstrap)
    h = None
    target = None
    if a.mode in ("seed", "leech"):
        if len(a.args) != 2:
            p.error(a.mode + " TORRENT DIR")
        with open(a.args[0], "rb") as f:
            meta = lt.bdecode(f.read())
        meta.pop(b"announce", None)
        meta.pop(b"announce-list", None)
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(meta)
        atp.save_path = a.args[1]
        atp.flags &= ~lt.torrent_flags.auto_managed
        atp.flags &= ~lt.torrent_flags.paused
        atp.flags |= lt.torrent_flags.disable_lsd | lt.torrent_flags.disable_pex
        if a.mode == "seed":
            atp.flags |= lt.torrent_flags.seed_mode
        h = ses.add_torrent(atp)
    else:
        target = lt.sha1_hash(bytes.fromhex(a.args[0]))

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))
    signal.signal(signal.SIGINT, lambda *_: stop.__setitem__("flag", True))
    ready = False
    announced = False
    seen = set()
    last_poll = 0.0
    code = 0
    while not stop["flag"]:
        if time.monotonic() - START > a.timeout:
            out("FAILED timeout after", a.timeout, "s")
            code = 3
            break
        ses.wait_for_alert(200)
        for al in ses.pop_alerts():
            if isinstance(al, lt.listen_succeeded_alert):
                if al.socket_type == lt.socket_type_t.tcp and not ready:
                    ready = True
                    out("READY", ses.listen_port())
            elif isinstance(al, lt.listen_failed_alert):
                out("FAILED listen:", al.message())
                stop["flag"] = True
                code = 6
            elif isinstance(al, lt.torrent_finished_alert) and a.mode == "leech":
                out("DONE", round(time.monotonic() - START, 2))
                stop["flag"] = True
            elif isinstance(al, lt.dht_reply_alert):
                announced = True
                out("DHT_REPLY", al.num_peers)
            elif isinstance(al, lt.dht_get_peers_reply_alert):
                for peer in al.peers():
                    ip, port = peer[0], peer[1]
                    if (ip, port) not in seen:
                        seen.add((ip, port))
                        out(f"PEER {ip}:{port}")
            elif isinstance(al, lt.dht_stats_alert):
                nodes = sum(b.get("num_nodes", 0) for b in al.routing_table) if hasattr(al, "routing_table") else -1
                out("DHT_NODES", nodes)
            elif isinstance(al, (lt.dht_log_alert, lt.dht_pkt_alert)):
                log(al.message())
        now = time.monotonic()
        if ready and now - last_poll >= 2.0:
            last_poll = now
            ses.post_dht_stats()
            if h is not None:
                h.force_dht_announce()
            if target is not None:
                ses.dht_get_peers(target)
    ses.pause()
    return code


if __name__ == "__main__":
    sys.exit(main())
