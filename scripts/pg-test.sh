#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for TorrentEdge's tests, on 127.0.0.1:${TE_PG_PORT:-5433}.
#
#   scripts/pg-test.sh install   install the Debian packages if missing (needs the network:
#                                run it outside the test network namespace, e.g. from setup)
#   scripts/pg-test.sh start     start the cluster unless it answers (installing PostgreSQL
#                                first when missing and possible); print its base URL
#   scripts/pg-test.sh stop      stop it
#
# Idempotent. `start` is what the Rust tests call (from inside scripts/in-netns.sh): a
# cluster left running by an earlier test run lives in that run's network namespace and
# cannot be reached over TCP from this one, so it is stopped and started here.
set -euo pipefail

PORT=${TE_PG_PORT:-5433}
DIR=${TE_PG_DIR:-/var/tmp/torrentedge-pg-test}
URL="postgres://postgres@127.0.0.1:$PORT"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"
  elif [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else sudo -u postgres "$@"; fi
}

bin_dir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && echo "$d"; done | sort -V | tail -n1
}

install() {
  if [ -z "$(bin_dir)" ]; then
    echo "pg-test: installing postgresql" >&2
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y postgresql >&2
  fi
}

answers() {
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres -t 2
}

start() {
  BIN=$(bin_dir)
  if [ -z "$BIN" ]; then
    # Works where the package mirror is reachable (not inside the test network namespace).
    install || true
    BIN=$(bin_dir)
  fi
  if [ -z "$BIN" ]; then
    echo "pg-test: PostgreSQL is not installed and could not be installed here;" \
      "run 'scripts/pg-test.sh install' outside the test network namespace" >&2
    exit 1
  fi
  if answers; then echo "$URL"; return; fi
  # Serialise concurrent starts (several test binaries may call this at once).
  exec 9>"/tmp/torrentedge-pg-test.lock"
  flock 9
  if answers; then echo "$URL"; return; fi
  if [ ! -s "$DIR/PG_VERSION" ]; then
    $SUDO mkdir -p "$DIR"
    $SUDO chown postgres:postgres "$DIR"
    $SUDO chmod 700 "$DIR"
    as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth=trust >/dev/null
  fi
  if as_postgres "$BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1; then
    # Running, but not reachable from this network namespace: restart it here.
    as_postgres "$BIN/pg_ctl" stop -D "$DIR" -m fast -w >/dev/null
  fi
  as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k /tmp -c fsync=off -c max_connections=300" start >/dev/null 9>&-
  for _ in $(seq 1 100); do answers && break; sleep 0.1; done
  answers || { echo "pg-test: PostgreSQL did not come up; see $DIR/log" >&2; exit 1; }
  echo "$URL"
}

stop() {
  BIN=$(bin_dir)
  [ -n "$BIN" ] && [ -s "$DIR/PG_VERSION" ] || return 0
  if as_postgres "$BIN/pg_ctl" status -D "$DIR" >/dev/null 2>&1; then
    as_postgres "$BIN/pg_ctl" stop -D "$DIR" -m fast -w >/dev/null
  fi
}

case "${1:-start}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
