#!/usr/bin/python3
"""Interleaved A/B benchmark of engine builds (engine/examples/bench_client.rs).

    scripts/in-netns.sh /usr/bin/python3 bench/ab.py --runs 5 A=/path/old/bench_client B=/path/new/bench_client

One libtorrent seeder (as in bench/swarm.py) serves the cached 1 GiB file; each
round downloads it once with every binary, in alternating order, then (unless
--no-recheck) rechecks the complete seed data once with every binary. Per run:
wall s, CPU s (user+sys from os.wait4 rusage) per GiB, peak RSS. The download's
SHA-256 is checked on the first round and, with --verify-all, on every round.
Optionally `--lt` adds the libtorrent leecher as a third contender.

The machine is shared: look at CPU s/GiB medians first, wall time second.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swarm  # noqa: E402


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


LAST_SYS = [0.0]


def timed(argv, timeout):
    """swarm.timed, remembering the system-time share of the last run for the log line."""
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errf)
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    finally:
        proc.returncode = 0
    wall = time.monotonic() - t0
    errf.seek(0)
    tail = errf.read()[-2000:].decode(errors="replace")
    LAST_SYS[0] = ru.ru_stime
    return os.waitstatus_to_exitcode(status), wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, tail


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bins", nargs="+", help="LABEL=PATH of bench_client binaries")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--size-mib", type=int, default=1024)
    p.add_argument("--piece-kib", type=int, default=1024)
    p.add_argument("--no-download", action="store_true")
    p.add_argument("--no-recheck", action="store_true")
    p.add_argument("--verify-all", action="store_true")
    p.add_argument("--lt", action="store_true", help="also time the libtorrent leecher")
    p.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "torrentedge", "bench"))
    args = p.parse_args()
    if os.environ.get("TORRENTEDGE_IN_NETNS") != "1":
        os.execv(swarm.IN_NETNS, [swarm.IN_NETNS, swarm.PYTHON] + sys.argv)

    bins = [b.split("=", 1) for b in args.bins]
    data_dir, name, torrent, digest = swarm.prepare(args.cache, args.size_mib, args.piece_kib)
    size = args.size_mib * swarm.MIB
    gib = size / swarm.GIB
    work = tempfile.mkdtemp(prefix="ab-", dir=args.cache)
    results = {}  # (kind, label) -> list of (wall, cpu, rss)

    def record(kind, label, wall, cpu, rss):
        results.setdefault((kind, label), []).append((wall, cpu, rss))
        print(f"{kind:8} {label:6} wall {wall:6.2f} s  cpu {cpu:5.2f} s ({cpu / gib:.2f}/GiB)  "
              f"sys {LAST_SYS[0]:5.2f} s  rss {rss / 1024:5.0f} MiB  load {loadavg()}", flush=True)

    try:
        if not args.no_download:
            seeder = swarm.Seeder(torrent, data_dir)
            try:
                contenders = list(bins) + ([("lt", None)] if args.lt else [])
                for rnd in range(args.runs):
                    order = contenders if rnd % 2 == 0 else contenders[::-1]
                    for label, path in order:
                        out = os.path.join(work, label)
                        shutil.rmtree(out, ignore_errors=True)
                        os.makedirs(out)
                        if path is None:
                            argv = [swarm.PYTHON, swarm.LT_PEER, "leech", torrent, out, "--connect",
                                    f"127.0.0.1:{seeder.port}", "--no-recheck", "--timeout", "300"]
                        else:
                            argv = [path, "download", torrent, out, f"127.0.0.1:{seeder.port}"]
                        code, wall, cpu, rss, tail = timed(argv, 300)
                        if code != 0:
                            print(f"{label}: exit {code}: {tail[-500:]}", flush=True)
                            return 1
                        if rnd == 0 or args.verify_all:
                            got = swarm.sha256_file(os.path.join(out, name))
                            if got != digest:
                                print(f"{label}: downloaded data differs from the source", flush=True)
                                return 1
                        record("download", label, wall, cpu, rss)
                        shutil.rmtree(out, ignore_errors=True)
            finally:
                seeder.stop()
        if not args.no_recheck:
            for rnd in range(args.runs):
                order = bins if rnd % 2 == 0 else bins[::-1]
                for label, path in order:
                    code, wall, cpu, rss, tail = timed([path, "recheck", torrent, data_dir], 300)
                    if code != 0:
                        print(f"{label}: recheck exit {code}: {tail[-500:]}", flush=True)
                        return 1
                    record("recheck", label, wall, cpu, rss)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| kind | build | runs | median wall s | median MiB/s (GB/s for recheck) | median CPU s/GiB | "
          "min CPU s/GiB | max RSS MiB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (kind, label), rows in results.items():
        walls = [r[0] for r in rows]
        cpus = [r[1] / gib for r in rows]
        w = statistics.median(walls)
        speed = f"{size / 1e9 / w:.2f}" if kind == "recheck" else f"{size / swarm.MIB / w:.0f}"
        print(f"| {kind} | {label} | {len(rows)} | {w:.2f} | {speed} | {statistics.median(cpus):.2f} | "
              f"{min(cpus):.2f} | {max(r[2] for r in rows) / 1024:.0f} |")
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}, load average now {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
