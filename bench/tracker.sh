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
command -v wrk >/dev/null || { echo "bench-tracker: wrk is missing (scripts/setup.sh installs it)"; exit 1; }
work=$(mktemp -d)
log=$work/server.log
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
DATA_DIR=$work/data JWT_SECRET=bench-secret-bench-secret-bench-secret \
  TRACKER=1 TRACKER_MODE=open DHT=false PEER_BIND=127.0.0.1 PEER_PORT=0 RUST_LOG=warn,torrentedge::web=info \
  "$bin" serve --port 0 --bind 127.0.0.1 2>"$log" &
pid=$!
base=""
for _ in $(seq 1 300); do
  base=$(grep -o 'dashboard on http://[0-9.:]*' "$log" | sed 's/dashboard on //' || true)
  [ -n "$base" ] && break
  sleep 0.1
done
[ -n "$base" ] || { echo "server did not start"; cat "$log"; exit 1; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
before=$(rss)
echo "tracker at $base (pid $pid), wrk -t$threads -c$conns -d${secs}s, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s bench/tracker_announce.lua "$base" | grep -E 'BENCH|Latency|Req/Sec|Socket errors|Non-2xx'
after=$(rss)
curl -s -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-1"}' "$base/api/auth/register" >/dev/null
token=$(curl -s -X POST -H 'content-type: application/json' -d '{"username":"bench","password":"bench-password-1"}' "$base/api/auth/login" | sed 's/.*"token":"\([^"]*\)".*/\1/')
stats=$(curl -s -H "authorization: Bearer $token" "$base/api/tracker")
peers=$(echo "$stats" | sed 's/.*"peers":\([0-9]*\).*/\1/')
echo "BENCH tracker after the run: $stats"
awk -v b="$before" -v a="$after" -v p="$peers" 'BEGIN { if (p > 0) printf "BENCH server resident growth: %.1f MiB for %d peers = %.1f MiB per 100000 peers\n", (a-b)/1024, p, (a-b)/1024*100000/p }'
