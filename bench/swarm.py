#!/usr/bin/python3
"""Loopback swarm benchmark: TorrentEdge vs a libtorrent leecher, one seeder.

    make bench                      # = scripts/in-netns.sh /usr/bin/python3 bench/swarm.py
    /usr/bin/python3 bench/swarm.py --bin target/release/torrentedge --size-mib 1024 --runs 1

What it does, all on 127.0.0.1 inside a private network namespace (it re-runs
itself under scripts/in-netns.sh unless already inside one):

1. Makes (once, cached under $HOME/.cache/torrentedge/bench) a random file of
   --size-mib MiB, its SHA-256, and a v1 .torrent made by libtorrent.
2. Starts one libtorrent seeder (engine/tests/peers/lt_peer.py seed).
3. Times, in the same run, against that seeder:
   (a) `torrentedge download <torrent> -o <dir> --bind 127.0.0.1 --port 0
        --peer 127.0.0.1:<seeder> --quiet`
   (b) a libtorrent leecher (lt_peer.py leech --connect ... --no-recheck)
   For each: wall seconds, MiB/s, CPU seconds (user+sys, from os.wait4's
   rusage) per GiB, peak RSS (ru_maxrss); the downloaded file's SHA-256
   must match.
4. Recheck: times `torrentedge download` on data that is already complete
   (a pure recheck) and, as reference, libtorrent adding the same complete
   data (it checks, finds it complete and exits): GB/s.
5. Prints a Markdown table (and --json FILE writes the raw figures).

With --transport utp the seeder and the libtorrent leecher run with TCP off both ways
(lt_peer.py --transport utp), so both leechers download over uTP (BEP 29); TorrentEdge
gets `--utp` when its CLI has the flag (uTP is its default). With the default
--transport tcp, TorrentEdge gets `--no-utp` when its CLI has it, so it does not spend
its uTP connect attempt on a seeder that only speaks TCP.

With --magnet both leechers get `magnet:?xt=...&x.pe=<seeder>` instead of the
.torrent, and the table adds the seconds until the metadata arrived.

Wall time includes each client's start-up. The machine is shared: compare
rows of the same run only.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LT_PEER = os.path.join(ROOT, "engine", "tests", "peers", "lt_peer.py")
IN_NETNS = os.path.join(ROOT, "scripts", "in-netns.sh")
PYTHON = "/usr/bin/python3"
MIB = 1 << 20
GIB = 1 << 30


def log(*a):
    print("swarm:", *a, file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 * MIB)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def prepare(cache, size_mib, piece_kib):
    """The cached data file, its hash and torrent (made once)."""
    os.makedirs(cache, exist_ok=True)
    name = f"bench-{size_mib}m.bin"
    data_dir = os.path.join(cache, f"data-{size_mib}m")
    path = os.path.join(data_dir, name)
    hash_path = path + ".sha256"
    torrent = os.path.join(cache, f"bench-{size_mib}m-{piece_kib}k.torrent")
    if not (os.path.exists(path) and os.path.getsize(path) == size_mib * MIB and os.path.exists(hash_path)):
        os.makedirs(data_dir, exist_ok=True)
        log(f"writing {size_mib} MiB of random data to {path}")
        h = hashlib.sha256()
        with open(path + ".tmp", "wb") as f:
            for _ in range(size_mib):
                b = os.urandom(MIB)
                h.update(b)
                f.write(b)
        os.replace(path + ".tmp", path)
        with open(hash_path, "w") as f:
            f.write(h.hexdigest() + "\n")
        if os.path.exists(torrent):
            os.remove(torrent)
    if not os.path.exists(torrent):
        log(f"making {torrent} with libtorrent")
        subprocess.run(
            [PYTHON, LT_PEER, "make-torrent", path, torrent, "--piece-size", str(piece_kib * 1024)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    with open(hash_path) as f:
        digest = f.read().strip()
    return data_dir, name, torrent, digest


class Seeder:
    def __init__(self, torrent, data_dir, transport="tcp"):
        self.proc = subprocess.Popen(
            [PYTHON, LT_PEER, "seed", torrent, data_dir, "--listen", "127.0.0.1:0", "--transport", transport],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.port = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                self.port = int(line.split()[1])
                break
        if self.port is None:
            self.stop()
            raise SystemExit("swarm: the libtorrent seeder did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def timed(argv, timeout, mark=None, env=None):
    """Runs argv; returns (exit code, wall s, user+sys s, max RSS KiB, stderr tail).

    With `mark`, also the seconds until a line containing it first appeared on stdout or
    stderr (None if never), as a sixth value."""
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    seen = {}

    def watch(stream, sink):
        for line in iter(stream.readline, b""):
            if sink is not None:
                sink.write(line)
            if mark and "at" not in seen and mark.encode() in line:
                seen["at"] = time.monotonic() - t0

    pipe = subprocess.PIPE if mark else subprocess.DEVNULL
    proc = subprocess.Popen(argv, stdout=pipe, stderr=subprocess.PIPE if mark else errf, env=env)
    threads = []
    if mark:
        threads = [threading.Thread(target=watch, args=(proc.stdout, None), daemon=True),
                   threading.Thread(target=watch, args=(proc.stderr, errf), daemon=True)]
        for t in threads:
            t.start()
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            pid, status, ru = os.wait4(proc.pid, 0)
            status = -1
            break
        time.sleep(0.01)
    wall = time.monotonic() - t0
    proc.returncode = 0  # reaped by wait4; keep Popen from waiting again
    for t in threads:
        t.join(5)
    errf.seek(0)
    tail = errf.read()[-2000:].decode(errors="replace")
    code = os.waitstatus_to_exitcode(status) if status != -1 else "timeout"
    if mark:
        return code, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, tail, seen.get("at")
    return code, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, tail


def download_row(label, argv, out_file, size, digest, timeout, mark=None, env=None):
    if mark:
        code, wall, cpu, rss_kib, tail, meta_s = timed(argv, timeout, mark, env)
    else:
        (code, wall, cpu, rss_kib, tail), meta_s = timed(argv, timeout), None
    row = {"client": label, "exit": code, "wall_s": wall, "cpu_s": cpu, "rss_mib": rss_kib / 1024}
    if mark:
        row["metadata_s"] = meta_s
    if code != 0:
        row["error"] = f"exit {code}: {tail.strip()[-300:]}"
        return row
    if not os.path.exists(out_file) or os.path.getsize(out_file) != size:
        row["error"] = f"{out_file} missing or wrong size"
        return row
    got = sha256_file(out_file)
    row["verified"] = got == digest
    if got != digest:
        row["error"] = "downloaded data differs from the source (sha256)"
    row["mib_s"] = size / MIB / wall
    row["cpu_s_per_gib"] = cpu / (size / GIB)
    return row


def te_flags(binary, transport):
    """`--utp`/`--no-utp` for the transport, when the CLI knows the flags."""
    try:
        help_text = subprocess.run([binary, "download", "--help"], capture_output=True, text=True).stdout
    except OSError:
        return []
    flag = "--utp" if transport == "utp" else "--no-utp"
    return [flag] if flag in help_text else []


def fmt_table(rows, size, magnet=False, transport="tcp"):
    how = "by magnet link (metadata from the seeder)" if magnet else "by .torrent"
    if transport == "utp":
        how += ", over uTP (TCP off in both libtorrent peers)"
    meta_h, meta_a = (" metadata s |", "---:|") if magnet else ("", "")
    lines = [
        f"Download of {size // MIB} MiB {how} from one libtorrent seeder on 127.0.0.1:",
        "",
        f"| client |{meta_h} wall s | MiB/s | CPU s per GiB | peak RSS MiB | sha256 ok |",
        f"|---|{meta_a}---:|---:|---:|---:|---|",
    ]
    for r in rows:
        meta = ""
        if magnet:
            m = r.get("metadata_s")
            meta = f" {m:.2f} |" if m is not None else " – |"
        if "error" in r:
            lines.append(f"| {r['client']} |{meta} – | – | – | – | not measured: {r['error']} |")
        else:
            lines.append(
                f"| {r['client']} |{meta} {r['wall_s']:.2f} | {r['mib_s']:.0f} | {r['cpu_s_per_gib']:.2f} | "
                f"{r['rss_mib']:.0f} | {'yes' if r['verified'] else 'NO'} |"
            )
    return "\n".join(lines)


def fmt_recheck(rows, size):
    lines = [
        "",
        f"Recheck of {size // MIB} MiB of complete data (page cache warm):",
        "",
        "| client | wall s | GB/s | CPU s | peak RSS MiB | note |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['client']} | – | – | – | – | not measured: {r['error']} |")
        else:
            lines.append(
                f"| {r['client']} | {r['wall_s']:.2f} | {size / 1e9 / r['wall_s']:.2f} | {r['cpu_s']:.2f} | "
                f"{r['rss_mib']:.0f} | |"
            )
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "torrentedge"),
                   help="the torrentedge binary (default: target/release/torrentedge)")
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--piece-kib", type=int, default=1024)
    p.add_argument("--runs", type=int, default=1, help="download runs per client")
    p.add_argument("--timeout", type=float, default=600, help="per download, seconds")
    p.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "torrentedge", "bench"))
    p.add_argument("--work", default=None, help="where downloads land (default: a temp dir beside the cache)")
    p.add_argument("--skip-torrentedge", action="store_true")
    p.add_argument("--skip-libtorrent", action="store_true")
    p.add_argument("--no-recheck", action="store_true", help="skip the recheck benchmark")
    p.add_argument("--json", default=None, help="also write the raw figures here")
    p.add_argument("--no-netns", action="store_true", help="do not re-run inside scripts/in-netns.sh")
    p.add_argument("--magnet", action="store_true",
                   help="leechers get a magnet link (x.pe = the seeder) instead of the .torrent; "
                        "also reports the time to metadata")
    p.add_argument("--transport", choices=("tcp", "utp"), default="tcp",
                   help="utp: the seeder and the libtorrent leecher run uTP only (TCP off)")
    args = p.parse_args()

    if not args.no_netns and os.environ.get("TORRENTEDGE_IN_NETNS") != "1":
        os.execv(IN_NETNS, [IN_NETNS, PYTHON] + sys.argv)

    data_dir, name, torrent, digest = prepare(args.cache, args.size_mib, args.piece_kib)
    size = args.size_mib * MIB
    work_parent = args.work or args.cache
    os.makedirs(work_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=work_parent)
    have_bin = os.path.isfile(args.bin) and os.access(args.bin, os.X_OK)
    rows, recheck_rows = [], []
    seeder = Seeder(torrent, data_dir, args.transport)
    log(f"libtorrent seeder on 127.0.0.1:{seeder.port}")
    source, te_mark, lt_mark, te_env = torrent, None, None, None
    if args.magnet:
        import libtorrent as lt
        ih = str(lt.torrent_info(torrent).info_hash())
        source = f"magnet:?xt=urn:btih:{ih}&dn={name}&x.pe=127.0.0.1:{seeder.port}"
        te_mark, lt_mark = "metadata received", "METADATA "
        te_env = dict(os.environ, RUST_LOG="warn,engine::metadata=info", NO_COLOR="1")
    try:
        for run in range(args.runs):
            suffix = f" (run {run + 1})" if args.runs > 1 else ""
            if not args.skip_torrentedge:
                if have_bin:
                    out = os.path.join(work, "te")
                    shutil.rmtree(out, ignore_errors=True)
                    os.makedirs(out)
                    argv = [args.bin, "download", source, "-o", out, "--bind", "127.0.0.1", "--port", "0", "--no-dht",
                            "--peer", f"127.0.0.1:{seeder.port}", "--quiet"] + te_flags(args.bin, args.transport)
                    log("running", " ".join(argv))
                    rows.append(download_row("TorrentEdge" + suffix, argv, os.path.join(out, name), size, digest,
                                             args.timeout, te_mark, te_env))
                    shutil.rmtree(out, ignore_errors=True)
                else:
                    rows.append({"client": "TorrentEdge" + suffix,
                                 "error": f"binary {args.bin} not built (cargo build --release)"})
            if not args.skip_libtorrent:
                out = os.path.join(work, "lt")
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                argv = [PYTHON, LT_PEER, "leech", source, out, "--connect", f"127.0.0.1:{seeder.port}",
                        "--no-recheck", "--timeout", str(args.timeout), "--transport", args.transport]
                log("running libtorrent leecher")
                rows.append(download_row("libtorrent 2.0.8 (python)" + suffix, argv, os.path.join(out, name), size,
                                         digest, args.timeout + 10, lt_mark))
                shutil.rmtree(out, ignore_errors=True)
    finally:
        seeder.stop()

    if not args.no_recheck:
        if not args.skip_torrentedge:
            if have_bin:
                # Output dir = the seed data: everything is there, only a recheck is left.
                # No --peer: nothing to download. No resume record from an earlier run, or
                # nothing would be hashed at all.
                shutil.rmtree(os.path.join(data_dir, ".torrentedge"), ignore_errors=True)
                argv = [args.bin, "download", torrent, "-o", data_dir, "--bind", "127.0.0.1", "--port", "0", "--no-dht", "--quiet"]
                code, wall, cpu, rss, tail = timed(argv, args.timeout)
                r = {"client": "TorrentEdge", "wall_s": wall, "cpu_s": cpu, "rss_mib": rss / 1024, "exit": code}
                if code != 0:
                    r["error"] = f"exit {code}: {tail.strip()[-300:]}"
                recheck_rows.append(r)
            else:
                recheck_rows.append({"client": "TorrentEdge", "error": f"binary {args.bin} not built"})
        if not args.skip_libtorrent:
            argv = [PYTHON, LT_PEER, "leech", torrent, data_dir, "--no-recheck", "--timeout", str(args.timeout)]
            code, wall, cpu, rss, tail = timed(argv, args.timeout + 10)
            r = {"client": "libtorrent 2.0.8 (python)", "wall_s": wall, "cpu_s": cpu, "rss_mib": rss / 1024,
                 "exit": code}
            if code != 0:
                r["error"] = f"exit {code}: {tail.strip()[-300:]}"
            recheck_rows.append(r)
    shutil.rmtree(work, ignore_errors=True)

    print(fmt_table(rows, size, args.magnet, args.transport))
    if recheck_rows:
        print(fmt_recheck(recheck_rows, size))
    print()
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}; wall time includes client start-up")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"size_bytes": size, "download": rows, "recheck": recheck_rows}, f, indent=2)
    bad = [r for r in rows + recheck_rows if "error" in r and "not built" not in r["error"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
