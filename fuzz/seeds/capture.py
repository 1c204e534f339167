#!/usr/bin/python3
"""Regenerates the seed corpora in fuzz/corpus/ from real programs, on loopback only.

Run it inside scripts/in-netns.sh with Debian's /usr/bin/python3 (python3-libtorrent):
    scripts/in-netns.sh /usr/bin/python3 fuzz/seeds/capture.py fuzz/corpus

- metainfo, bencode: .torrent files made by mktorrent and by libtorrent's create_torrent
  (v1 and hybrid v1+v2), and a bare info dictionary (BEP 9 metadata).
- tracker_http, tracker_udp: opentracker's replies (peers, a refusal) over HTTP and UDP.
- handshake, wire_frames: what a libtorrent 2.0.8 seeder sends a peer that handshakes,
  says interested and requests a block (its handshake, extension handshake, bitfield,
  unchoke and piece messages). A wire_frames input starts with one byte saying where the
  target splits the stream into two reads.
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import libtorrent as lt

OUT = sys.argv[1]
WORK = tempfile.mkdtemp(prefix="te-seeds-")


def save(target, name, data):
    os.makedirs(os.path.join(OUT, target), exist_ok=True)
    with open(os.path.join(OUT, target, name), "wb") as f:
        f.write(data)


def data_files():
    """A 40 KiB file and a folder of three small files, deterministic content."""
    single = os.path.join(WORK, "single.bin")
    with open(single, "wb") as f:
        f.write(bytes((i * 7 + 3) % 251 for i in range(40 * 1024)))
    folder = os.path.join(WORK, "album")
    os.makedirs(os.path.join(folder, "disc 2"), exist_ok=True)
    for rel, n in [("01 intro.txt", 1000), ("disc 2/02 ünïcode.txt", 20000), ("zero", 0)]:
        with open(os.path.join(folder, rel), "wb") as f:
            f.write(bytes((i * 13) % 256 for i in range(n)))
    return single, folder


def mktorrent(path, out, *args):
    subprocess.run(["mktorrent", "-l", "15", *args, "-o", out, path], check=True,
                   stdout=subprocess.DEVNULL)
    with open(out, "rb") as f:
        return f.read()


def lt_torrent(path, flags):
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, 16384, flags=flags)
    t.add_tracker("udp://127.0.0.1:6969/announce", 0)
    t.add_tracker("http://127.0.0.1:6969/announce", 1)
    t.set_creator("libtorrent " + lt.__version__)
    lt.set_piece_hashes(t, os.path.dirname(path))
    return lt.bencode(t.generate())


def torrents():
    single, folder = data_files()
    a = "http://127.0.0.1:6969/announce"
    out = {}
    out["mktorrent-single.torrent"] = mktorrent(single, os.path.join(WORK, "s.torrent"), "-a", a)
    out["mktorrent-multi-private.torrent"] = mktorrent(
        folder, os.path.join(WORK, "m.torrent"), "-a", a + ",udp://127.0.0.1:6969",
        "-a", "http://127.0.0.2:80/announce", "-p", "-c", "a comment")
    out["libtorrent-v1-multi.torrent"] = lt_torrent(folder, lt.create_torrent.v1_only)
    out["libtorrent-hybrid-single.torrent"] = lt_torrent(single, 0)
    for name, data in out.items():
        save("metainfo", name, data)
        save("bencode", name, data)
    info = lt.bdecode(out["mktorrent-single.torrent"])[b"info"]
    save("metainfo", "bep9-info-dict", lt.bencode(info))
    return out["mktorrent-single.torrent"], single


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(port, query):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(f"GET /announce?{query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
    resp = b""
    while chunk := s.recv(65536):
        resp += chunk
    s.close()
    return resp.split(b"\r\n\r\n", 1)[1]


def pct(b):
    return "".join("%%%02X" % c for c in b)


def trackers(info_hash):
    port = free_port()
    d = os.path.join(WORK, "ot")
    os.makedirs(d)
    os.chmod(d, 0o755)
    with open(os.path.join(d, "whitelist"), "w") as f:
        f.write(info_hash.hex() + "\n")
    ot = subprocess.Popen(["opentracker", "-i", "127.0.0.1", "-p", str(port), "-P", str(port),
                           "-d", d, "-w", "/whitelist"], stderr=subprocess.DEVNULL)
    try:
        def announce(peer, pport, ih=info_hash, extra=""):
            q = (f"info_hash={pct(ih)}&peer_id={pct(peer)}&port={pport}&uploaded=0"
                 f"&downloaded=0&left=100&compact=1&event=started{extra}")
            return http_get(port, q)
        deadline = time.time() + 10
        while True:
            try:
                body = announce(b"-XX0001-aaaaaaaaaaaa", 9)
                if b"failure" not in body:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise SystemExit("opentracker did not whitelist the hash")
            time.sleep(0.2)
        announce(b"-XX0001-bbbbbbbbbbbb", 6882)
        save("tracker_http", "opentracker-peers", announce(b"-XX0001-cccccccccccc", 6883))
        save("tracker_http", "opentracker-refused", announce(b"-XX0001-dddddddddddd", 1,
                                                             ih=b"\x11" * 20))
        save("tracker_http", "opentracker-stopped",
             announce(b"-XX0001-cccccccccccc", 6883, extra="&event=stopped"))

        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.settimeout(5)
        u.sendto(struct.pack(">QII", 0x41727101980, 0, 7), ("127.0.0.1", port))
        conn, _ = u.recvfrom(65536)
        save("tracker_udp", "opentracker-connect", conn)
        cid = struct.unpack(">Q", conn[8:16])[0]
        for name, ih in [("opentracker-announce", info_hash), ("opentracker-refused-8-bytes", b"\x11" * 20)]:
            pkt = struct.pack(">QII20s20sQQQIIIiH", cid, 1, 8, ih, b"-XX0001-eeeeeeeeeeee",
                              0, 100, 0, 2, 0, 42, -1, 6884)
            u.sendto(pkt, ("127.0.0.1", port))
            reply, _ = u.recvfrom(65536)
            save("tracker_udp", name, reply)
    finally:
        ot.terminate()
        ot.wait()


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("peer closed")
        b += c
    return b


def peer_traffic(torrent, data_path):
    ses = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False,
                      "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
                      "enable_outgoing_utp": False, "enable_incoming_utp": False,
                      "dht_bootstrap_nodes": "", "outgoing_interfaces": "127.0.0.1"})
    ti = lt.torrent_info(lt.bdecode(torrent))
    h = ses.add_torrent({"ti": ti, "save_path": os.path.dirname(data_path),
                         "flags": lt.torrent_flags.seed_mode})
    while not h.status().is_seeding:
        time.sleep(0.1)
    s = socket.create_connection(("127.0.0.1", ses.listen_port()))
    s.settimeout(5)
    reserved = bytes([0, 0, 0, 0, 0, 0x10, 0, 0])  # BEP 10 only
    s.sendall(b"\x13BitTorrent protocol" + reserved + ti.info_hash().to_bytes()
              + b"-XX0001-ffffffffffff")
    hs = recv_exact(s, 68)
    save("handshake", "libtorrent-2.0.8", hs)
    s.sendall(struct.pack(">IB", 1, 2))  # interested
    stream = b""
    frames = 0
    requested = False
    deadline = time.time() + 10
    while frames < 6 and time.time() < deadline:
        (n,) = struct.unpack(">I", recv_exact(s, 4))
        body = recv_exact(s, n)
        stream += struct.pack(">I", n) + body
        frames += 1
        if n and body[0] == 1 and not requested:  # unchoke: ask for a small block
            s.sendall(struct.pack(">IBIII", 13, 6, 0, 0, 1024))
            requested = True
        if n and body[0] == 7:
            break
    s.close()
    save("wire_frames", "libtorrent-session", bytes([37]) + stream)
    save("wire_frames", "libtorrent-session-one-read", bytes([255]) + stream)


def main():
    try:
        torrent, data_path = torrents()
        info_hash = lt.torrent_info(lt.bdecode(torrent)).info_hash().to_bytes()
        trackers(info_hash)
        peer_traffic(torrent, data_path)
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print("seeds written to", OUT)


main()
