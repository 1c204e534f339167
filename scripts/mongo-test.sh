#!/usr/bin/env bash
# A throwaway MongoDB-wire server for TorrentEdge's tests, in memory, on
# 127.0.0.1:${TE_MONGO_PORT:-27018}: SecantusDB (PyPI `secantusdb`, installed when missing by
# `make test-mongo` before it enters the test namespace), which the Rust `mongodb` driver talks to like a standalone mongod.
#
#   scripts/mongo-test.sh install   pip-install the server if missing (needs the network: run it
#                                   outside the test network namespace, as the Makefile does)
#   scripts/mongo-test.sh start     start it unless it answers; print its base URL
#   scripts/mongo-test.sh stop      stop the one this script started
#   scripts/mongo-test.sh url       print the base URL
#
# Idempotent. `start` is what the Rust tests call when TE_TEST_MONGO_URL is unset (from inside
# scripts/in-netns.sh): a server left running by an earlier run lives in that run's network
# namespace and cannot be reached from this one, so it is stopped and started here.
# TE_MONGO_SERVER=nx-27017 runs the other wire-compatible server instead (`pip install nx-27017`).
set -euo pipefail

PORT=${TE_MONGO_PORT:-27018}
DIR=${TE_MONGO_DIR:-/var/tmp/torrentedge-mongo-test}
SERVER=${TE_MONGO_SERVER:-secantusd-py}
URL="mongodb://127.0.0.1:$PORT/?directConnection=true"

answers() {
  # The port accepts a connection (bash's /dev/tcp; nothing else to install).
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null
}

install() {
  command -v secantusd-py >/dev/null && return 0
  echo "mongo-test: pip install secantusdb" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO /usr/bin/python3 -m pip install --quiet --break-system-packages secantusdb >&2
}

stop() {
  [ -s "$DIR/pid" ] || return 0
  local pid
  pid=$(cat "$DIR/pid")
  # Only the process this script started (its command line names the server).
  if kill -0 "$pid" 2>/dev/null && grep -qa -e secantus -e nx-27017 "/proc/$pid/cmdline"; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$DIR/pid"
}

start() {
  if answers; then echo "$URL"; return 0; fi
  command -v "$SERVER" >/dev/null || install
  command -v "$SERVER" >/dev/null || {
    echo "mongo-test: $SERVER is not installed and could not be installed here;" \
      "run scripts/setup.sh (or pip install secantusdb) with network access" >&2
    exit 1
  }
  stop
  mkdir -p "$DIR"
  case "$SERVER" in
    nx-27017) cmd=(nx-27017 --db memory --host 127.0.0.1 -p "$PORT") ;;
    *) cmd=("$SERVER" --host 127.0.0.1 --port "$PORT" --storage-path :memory:) ;;
  esac
  setsid "${cmd[@]}" >"$DIR/log" 2>&1 </dev/null &
  echo $! >"$DIR/pid"
  for _ in $(seq 100); do
    if answers; then echo "$URL"; return 0; fi
    kill -0 "$(cat "$DIR/pid")" 2>/dev/null || break
    sleep 0.1
  done
  echo "mongo-test: $SERVER did not come up on 127.0.0.1:$PORT; see $DIR/log" >&2
  cat "$DIR/log" >&2
  exit 1
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 install|start|stop|url" >&2; exit 2 ;;
esac
