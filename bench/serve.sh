# Sourced by the wrk benchmarks (tracker.sh, api_load.sh), which run inside a private network
# namespace: checks for wrk, starts `BIN serve` on loopback with the extra
# environment given, and sets `pid`, `base` and `rss` (resident KiB); the server and its
# folder go at exit.
#
#   serve_for_bench BIN [NAME=VALUE ...]
serve_for_bench() {
  local bin=$1
  shift
  command -v wrk >/dev/null || { echo "wrk is missing (scripts/setup.sh installs it)"; exit 1; }
  work=$(mktemp -d)
  local log=$work/server.log
  trap 'serve_cleanup' EXIT
  env DATA_DIR="$work/data" JWT_SECRET=bench-secret-bench-secret-bench-secret DHT=false LSD=false UPNP=false UTP=false \
    PEER_BIND=127.0.0.1 PEER_PORT=0 RUST_LOG=warn,torrentedge::web=info "$@" \
    "$bin" serve --port 0 --bind 127.0.0.1 2>"$log" &
  pid=$!
  base=""
  for _ in $(seq 1 300); do
    base=$(grep -o 'dashboard on http://[0-9.:]*' "$log" | sed 's/dashboard on //' || true)
    [ -n "$base" ] && break
    sleep 0.1
  done
  [ -n "$base" ] || { echo "server did not start"; cat "$log"; exit 1; }
}

serve_cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}

rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# Registers `bench` and prints its token.
bench_token() {
  local creds='{"username":"bench","password":"bench-password-1"}'
  curl -s -X POST -H 'content-type: application/json' -d "$creds" "$base/api/auth/register" >/dev/null
  curl -s -X POST -H 'content-type: application/json' -d "$creds" "$base/api/auth/login" | sed 's/.*"token":"\([^"]*\)".*/\1/'
}
