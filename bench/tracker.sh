#!/usr/bin/env bash
# `make bench-tracker`: HTTP announces per second to the built-in tracker with a real load
# generator (wrk, Debian package), on loopback inside a private network namespace, against the
# release binary; then the store's memory per 100,000 peers (a unit test that fills it).
#
#   bench/tracker.sh BIN [SECONDS] [CONNECTIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: bench/tracker.sh BIN [SECONDS] [CONNECTIONS] [THREADS]}
secs=${2:-10}
conns=${3:-64}
threads=${4:-2}
if [ "${TORRENTEDGE_IN_NETNS:-}" != "1" ]; then
  exec scripts/in-netns.sh "$0" "$@"
fi
source bench/serve.sh
serve_for_bench "$bin" TRACKER=1 TRACKER_MODE=open
before=$(rss)
echo "tracker at $base (pid $pid), wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s bench/tracker_announce.lua "$base" | grep -E 'BENCH|Latency|Req/Sec|Socket errors|Non-2xx'
after=$(rss)
token=$(bench_token)
stats=$(curl -s -H "authorization: Bearer $token" "$base/api/tracker")
peers=$(echo "$stats" | sed 's/.*"peers":\([0-9]*\).*/\1/')
echo "BENCH tracker after the run: $stats"
awk -v b="$before" -v a="$after" -v p="$peers" 'BEGIN { if (p > 0) printf "BENCH server resident growth: %.1f MiB for %d peers = %.1f MiB per 100000 peers\n", (a-b)/1024, p, (a-b)/1024*100000/p }'
