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
command -v wrk >/dev/null || { echo "bench-api: wrk is missing (scripts/setup.sh installs it)"; exit 1; }
work=$(mktemp -d)
log=$work/server.log
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
DATA_DIR=$work/data JWT_SECRET=bench-secret-bench-secret-bench-secret MAX_CONCURRENT_TORRENTS=0 \
  DHT=false PEER_BIND=127.0.0.1 PEER_PORT=0 RUST_LOG=warn,torrentedge::web=info \
  "$bin" serve --port 0 --bind 127.0.0.1 2>"$log" &
pid=$!
base=""
for _ in $(seq 1 300); do
  base=$(grep -o 'dashboard on http://[0-9.:]*' "$log" | sed 's/dashboard on //' || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "server did not start"; cat "$log"; exit 1; }
creds='{"username":"bench","password":"bench-password-1"}'
curl -s -X POST -H 'content-type: application/json' -d "$creds" "$base/api/auth/register" >/dev/null
TOKEN=$(curl -s -X POST -H 'content-type: application/json' -d "$creds" "$base/api/auth/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
export TOKEN
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
echo "API at $base (pid $pid), wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout 10s --latency -s bench/api_load.lua "$base")
echo "$out" | grep -E 'BENCH|Latency|Req/Sec|Requests/sec|Socket errors|Non-2xx'
after=$(rss)
left=$(curl -s -H "authorization: Bearer $TOKEN" "$base/api/torrents" | grep -o '"infoHash"' | wc -l)
echo "BENCH torrents left: $left; server resident memory: $((before / 1024)) MiB before, $((after / 1024)) MiB after"
if echo "$out" | grep -q 'Non-2xx'; then echo "bench-api: some requests failed"; exit 1; fi
