#!/usr/bin/env bash
# `make bench-api`: the REST API under load from a real load generator (wrk, Debian package)
# on loopback inside a private network namespace: CONNECTIONS clients listing, adding (paused
# magnets) and removing torrents for SECONDS; prints requests, errors, p50/p99 latency and
# the server's resident memory before and after.
#
#   bench/api_load.sh BIN [SECONDS] [CONNECTIONS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: bench/api_load.sh BIN [SECONDS] [CONNECTIONS] [THREADS]}
secs=${2:-60}
conns=${3:-200}
threads=${4:-2}
if [ "${TORRENTEDGE_IN_NETNS:-}" != "1" ]; then
  exec scripts/in-netns.sh "$0" "$@"
fi
source bench/serve.sh
serve_for_bench "$bin" MAX_CONCURRENT_TORRENTS=0
TOKEN=$(bench_token)
export TOKEN
before=$(rss)
echo "API at $base (pid $pid), wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency -s bench/api_load.lua "$base")
echo "$out" | grep -E 'BENCH|Latency|Req/Sec|Requests/sec|Socket errors|Non-2xx'
after=$(rss)
left=$(curl -s -H "authorization: Bearer $TOKEN" "$base/api/torrents" | grep -o '"infoHash"' | wc -l)
echo "BENCH torrents left: $left; server resident memory: $((before / 1024)) MiB before, $((after / 1024)) MiB after"
if echo "$out" | grep -q 'Non-2xx'; then echo "bench-api: some requests failed"; exit 1; fi
