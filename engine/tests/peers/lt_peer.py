#!/usr/bin/python3
"""A libtorrent 2.0.8 peer for TorrentEdge's real-peer tests and benchmark.

Run it with Debian's /usr/bin/python3 (python3-libtorrent). It stays on
loopback: it listens and dials on 127.0.0.1 only, with DHT, LSD, UPnP,
NAT-PMP, uTP (unless --transport asks for it) and peer exchange off. Run it inside scripts/in-netns.sh anyway.

Modes
  seed TORRENT DATA_DIR    seed (seed_mode: data is trusted, not rechecked)
  leech TORRENT OUT_DIR    download; exit 0 once complete and rechecked
                           (TORRENT may be a magnet URI: metadata from peers)
  make-torrent PATH OUT    create a .torrent with libtorrent's create_torrent

Common options (seed, leech)
  --listen 127.0.0.1:PORT     listen address (PORT 0 picks a free port; [::1]:PORT
                              for IPv6)
  --tracker-announce          announce to the torrent's trackers; without it
                              the peer never announces
  --tracker URL               with --tracker-announce: announce to URL only
  --reannounce SECS           re-announce every SECS (seeders learn leechers)
  --connect IP:PORT           dial this peer (repeatable; re-dialled until met)
  --corrupt                   seed: serve data with one flipped byte per piece
  --upload-limit BYTES        cap upload at BYTES per second (0 = none)
  --timeout SECS              give up (exit 3) after SECS (0 = never)
  --pex                       keep peer exchange (ut_pex) on
  --lsd                       local service discovery (BEP 14) on; only inside
                              scripts/in-netns.sh (multicast stays on its lo)
  --transport tcp|utp|both    which transports listen and dial (default tcp; utp
                              turns TCP off both ways)

LT_PEER_VERBOSE=1 in the environment acts as -v (every alert on stderr), for a test's
failure output.

Machine-readable lines on stdout (one per line, flushed):
  READY <port>                listening (printed once)
  ANNOUNCED <url> <peers>     a tracker replied
  PROGRESS <done> <total> <bytes/s> <peers>   once a second (leech)
  HASHFAIL <piece>            a piece we downloaded failed its hash check
  UPLOADED <bytes>            payload uploaded so far (seed; when it changes,
                              at most once a second, and on exit)
  METADATA <seconds>          leech by magnet: the info dictionary arrived
  FINISHED <seconds>          every piece downloaded (leech; seconds since start)
  DONE <seconds>              leech: complete and recheck passed; exits 0
  FAILED <reason>             exits non-zero
Everything else goes to stderr.
"""

import argparse
import ctypes
import os
import shutil
import signal
import sys
import tempfile
import time

import libtorrent as lt

START = time.monotonic()


def out(*words):
    print(*words, flush=True)


def log(*words):
    print("lt_peer:", *words, file=sys.stderr, flush=True)


def die_with_parent():
    """Ask the kernel to SIGTERM us when the process that spawned us dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() == 1:
            sys.exit(4)
    except OSError:
        pass


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected IP:PORT or [::1]:PORT, got {s!r}")
    host = host.strip("[]")
    if host != "::1" and not host.startswith("127."):
        raise argparse.ArgumentTypeError(f"only loopback addresses are allowed, got {host}")
    return host, int(port)


def loopback_settings(listen):
    host, port = listen
    return {
        "listen_interfaces": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "outgoing_interfaces": host,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "dht_bootstrap_nodes": "",
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "announce_to_all_tiers": True,
        "enable_ip_notifier": False,
        "user_agent": "lt_peer/libtorrent " + lt.__version__,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.connect_notification,
    }


def transport_settings(settings, transport):
    """uTP on for `utp` and `both`; TCP off both ways for `utp`."""
    utp = transport in ("utp", "both")
    settings["enable_outgoing_utp"] = utp
    settings["enable_incoming_utp"] = utp
    if transport == "utp":
        settings["enable_outgoing_tcp"] = False
        settings["enable_incoming_tcp"] = False


def check_live_settings(ses, transport="tcp", allowed=()):
    """Refuse to run if the session did not take the loopback settings."""
    s = ses.get_settings()
    off = [k for k in ("enable_dht", "enable_lsd", "enable_upnp", "enable_natpmp")
           if k not in allowed]
    if transport == "tcp":
        off += ["enable_outgoing_utp", "enable_incoming_utp"]
    if transport == "utp":
        off += ["enable_outgoing_tcp", "enable_incoming_tcp"]
    bad = [k for k in off if s.get(k)]
    if transport in ("utp", "both") and not (
        s.get("enable_outgoing_utp") and s.get("enable_incoming_utp")
    ):
        bad.append("utp not on")
    listen = s.get("listen_interfaces", "")
    if bad or not (listen.startswith("127.") or listen.startswith("[::1]")):
        out("FAILED unsafe live settings", ",".join(bad), s.get("listen_interfaces"))
        sys.exit(5)


def load_torrent(path, tracker_url, announce):
    """torrent_info for `path`; trackers stripped unless we announce."""
    with open(path, "rb") as f:
        meta = lt.bdecode(f.read())
    if meta is None or b"info" not in meta:
        out("FAILED not a torrent:", path)
        sys.exit(2)
    if not announce:
        meta.pop(b"announce", None)
        meta.pop(b"announce-list", None)
    elif tracker_url:
        meta[b"announce"] = tracker_url.encode()
        meta.pop(b"announce-list", None)
    return lt.torrent_info(meta)


def corrupt_copy(ti, data_dir):
    """Copies the torrent's files to a scratch dir and flips one byte per piece."""
    scratch = tempfile.mkdtemp(prefix="lt_corrupt_")
    fs = ti.files()
    for i in range(fs.num_files()):
        rel = fs.file_path(i)
        src = os.path.join(data_dir, rel)
        dst = os.path.join(scratch, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if lt.file_storage.flag_pad_file & fs.file_flags(i):
            continue
        shutil.copyfile(src, dst)
    plen = ti.piece_length()
    for piece in range(ti.num_pieces()):
        # the middle byte of the piece (the first block for small pieces)
        size = ti.piece_size(piece)
        off_in_piece = min(size - 1, 100)
        for slice_ in ti.map_block(piece, off_in_piece, 1):
            rel = fs.file_path(slice_.file_index)
            if lt.file_storage.flag_pad_file & fs.file_flags(slice_.file_index):
                continue
            with open(os.path.join(scratch, rel), "r+b") as f:
                f.seek(slice_.offset)
                b = f.read(1)
                f.seek(slice_.offset)
                f.write(bytes([b[0] ^ 0xFF]))
    log(f"corrupted {ti.num_pieces()} pieces of {plen} bytes in {scratch}")
    return scratch


def run_peer(args):
    magnet = args.torrent.startswith("magnet:")
    ti = None if magnet else load_torrent(args.torrent, args.tracker_url, args.tracker_announce)
    settings = loopback_settings(args.listen)
    if args.corrupt:
        # seed_mode verifies a piece the first time it is requested unless hash
        # checks are off; a corrupt seeder must not notice its own bad data.
        settings["disable_hash_checks"] = True
    if args.encryption == "forced":
        # RC4 only, both ways: plaintext peers are refused (pe_forced, allowed_enc_level rc4).
        settings["out_enc_policy"] = int(lt.enc_policy.forced)
        settings["in_enc_policy"] = int(lt.enc_policy.forced)
        settings["allowed_enc_level"] = int(lt.enc_level.rc4)
        settings["prefer_rc4"] = True
    elif args.encryption == "disabled":
        settings["out_enc_policy"] = int(lt.enc_policy.disabled)
        settings["in_enc_policy"] = int(lt.enc_policy.disabled)
    allowed = ()
    if args.lsd:
        # Local service discovery on the namespace's loopback (multicast on in
        # scripts/in-netns.sh); nothing else can hear it.
        settings["enable_lsd"] = True
        settings["local_service_announce_interval"] = 2
        allowed = ("enable_lsd",)
    transport_settings(settings, args.transport)
    ses = lt.session(settings)
    check_live_settings(ses, args.transport, allowed)

    data_dir = os.path.abspath(args.dir)
    scratch = None
    if args.corrupt:
        scratch = corrupt_copy(ti, data_dir)
        data_dir = scratch

    if magnet:
        atp = lt.parse_magnet_uri(args.torrent)
        if not args.tracker_announce:
            atp.trackers = []
    else:
        atp = lt.add_torrent_params()
        atp.ti = ti
    atp.save_path = data_dir
    atp.flags &= ~lt.torrent_flags.auto_managed
    atp.flags &= ~lt.torrent_flags.paused
    atp.flags |= lt.torrent_flags.disable_dht
    if not args.lsd:
        atp.flags |= lt.torrent_flags.disable_lsd
    if not args.pex:
        atp.flags |= lt.torrent_flags.disable_pex
    if args.mode == "seed":
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    if args.upload_limit:
        # A per-torrent limit: the session-wide one exempts local peers
        # (and every test peer is local).
        h.set_upload_limit(int(args.upload_limit))

    stop = {"flag": False}

    def on_signal(signum, _frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    ready = False
    done = False
    finished = False
    rechecking = False
    last_progress = 0.0
    last_dial = 0.0
    last_reannounce = time.monotonic()
    last_uploaded = 0
    code = 0
    try:
        while not stop["flag"]:
            now = time.monotonic()
            if args.timeout and now - START > args.timeout:
                out("FAILED timeout after", args.timeout, "s")
                code = 3
                break
            ses.wait_for_alert(200)
            for a in ses.pop_alerts():
                if isinstance(a, lt.listen_succeeded_alert):
                    listening = a.socket_type == lt.socket_type_t.tcp or (
                        args.transport == "utp" and a.socket_type == lt.socket_type_t.utp
                    )
                    if listening and not ready:
                        ready = True
                        out("READY", ses.listen_port())
                elif isinstance(a, lt.listen_failed_alert):
                    out("FAILED listen:", a.message())
                    code = 6
                    stop["flag"] = True
                elif isinstance(a, lt.tracker_reply_alert):
                    out("ANNOUNCED", a.url, a.num_peers)
                elif isinstance(a, (lt.tracker_error_alert, lt.tracker_warning_alert)):
                    log("tracker:", a.message())
                elif isinstance(a, lt.metadata_received_alert):
                    out("METADATA", f"{time.monotonic() - START:.3f}")
                elif isinstance(a, lt.hash_failed_alert):
                    out("HASHFAIL", a.piece_index)
                elif isinstance(a, lt.torrent_error_alert):
                    log("torrent error:", a.message())
                elif isinstance(a, lt.file_error_alert):
                    out("FAILED file error:", a.message())
                    code = 7
                    stop["flag"] = True
                elif isinstance(a, lt.torrent_finished_alert) and args.mode == "leech":
                    if not finished:
                        finished = True
                        out("FINISHED", f"{time.monotonic() - START:.3f}")
                        if args.no_recheck:
                            out("DONE", f"{time.monotonic() - START:.3f}")
                            done = True
                            stop["flag"] = True
                        else:
                            rechecking = True
                            h.force_recheck()
                elif isinstance(a, lt.torrent_checked_alert) and rechecking:
                    st = h.status()
                    ti = h.torrent_file()
                    if st.num_pieces == ti.num_pieces() and st.is_seeding:
                        out("DONE", f"{time.monotonic() - START:.3f}")
                        done = True
                    else:
                        out("FAILED recheck found", st.num_pieces, "of", ti.num_pieces(), "pieces")
                        code = 8
                    stop["flag"] = True
                elif args.verbose:
                    log(type(a).__name__, a.message())
            if stop["flag"]:
                break
            now = time.monotonic()
            if ready and args.connect and now - last_dial > 2.0:
                last_dial = now
                connected = {(p.ip[0], p.ip[1]) for p in h.get_peer_info()}
                for peer in args.connect:
                    if peer not in connected:
                        h.connect_peer(peer)
            if args.reannounce and now - last_reannounce > args.reannounce:
                last_reannounce = now
                h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            if args.mode == "seed" and now - last_progress >= 1.0:
                last_progress = now
                up = h.status().total_payload_upload
                if up != last_uploaded:
                    last_uploaded = up
                    out("UPLOADED", up)
            if args.mode == "leech" and not finished and now - last_progress >= 1.0:
                last_progress = now
                st = h.status()
                out("PROGRESS", st.total_wanted_done, st.total_wanted, st.download_payload_rate, st.num_peers)
    finally:
        if args.mode == "seed":
            out("UPLOADED", h.status().total_payload_upload)
        ses.pause()
        del ses
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    if args.mode == "leech" and code == 0 and not done:
        out("FAILED stopped before the download was complete")
        code = 9
    return code


def make_torrent(args):
    fs = lt.file_storage()
    path = os.path.abspath(args.path)
    lt.add_files(fs, path)
    if fs.num_files() == 0:
        out("FAILED no files under", path)
        return 2
    flags = 0 if args.hybrid else lt.create_torrent.v1_only
    t = lt.create_torrent(fs, args.piece_size, flags=flags)
    for i, url in enumerate(args.tracker or []):
        t.add_tracker(url, i)
    t.set_creator("libtorrent " + lt.__version__)
    if args.private:
        t.set_priv(True)
    lt.set_piece_hashes(t, os.path.dirname(path))
    data = lt.bencode(t.generate())
    with open(args.out, "wb") as f:
        f.write(data)
    ti = lt.torrent_info(args.out)
    out("CREATED", str(ti.info_hashes().v1), ti.num_pieces(), ti.piece_length())
    return 0


def main():
    die_with_parent()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    for mode in ("seed", "leech"):
        sp = sub.add_parser(mode)
        sp.add_argument("torrent")
        sp.add_argument("dir")
        sp.add_argument("--listen", type=parse_hostport, default=("127.0.0.1", 0))
        sp.add_argument("--tracker-announce", dest="tracker_announce", action="store_true")
        sp.add_argument("--tracker", dest="tracker_url", default=None,
                        help="with --tracker-announce: announce only to this URL")
        sp.add_argument("--reannounce", type=float, default=0)
        sp.add_argument("--connect", type=parse_hostport, action="append", default=[])
        sp.add_argument("--corrupt", action="store_true")
        sp.add_argument("--timeout", type=float, default=0)
        sp.add_argument("--upload-limit", dest="upload_limit", type=int, default=0)
        sp.add_argument("--pex", action="store_true")
        sp.add_argument("--lsd", action="store_true")
        sp.add_argument("--transport", choices=("tcp", "utp", "both"), default="tcp",
                        help="transports to listen and dial on (utp: TCP off both ways)")
        sp.add_argument("--encryption", choices=("forced", "enabled", "disabled"), default="enabled",
                        help="MSE/PE policy (forced: RC4 only, plaintext refused)")
        sp.add_argument("--no-recheck", dest="no_recheck", action="store_true",
                        help="leech: exit at FINISHED without a full recheck")
        sp.add_argument("-v", "--verbose", action="store_true")
    mk = sub.add_parser("make-torrent")
    mk.add_argument("path")
    mk.add_argument("out")
    mk.add_argument("--piece-size", dest="piece_size", type=int, default=0)
    mk.add_argument("--tracker", action="append")
    mk.add_argument("--private", action="store_true")
    mk.add_argument("--hybrid", action="store_true", help="v1+v2 hybrid (pad files) instead of v1 only")
    args = p.parse_args()
    if os.environ.get("LT_PEER_VERBOSE"):
        args.verbose = True
    if args.mode == "make-torrent":
        return make_torrent(args)
    if args.corrupt and args.mode != "seed":
        p.error("--corrupt is for seed mode")
    return run_peer(args)


if __name__ == "__main__":
    sys.exit(main())
