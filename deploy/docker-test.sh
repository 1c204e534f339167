#!/usr/bin/env bash
# `make test-docker`: builds the TorrentEdge image (Dockerfile, shipping the release binary
# built by `make build`: BIN_STAGE=prebuilt) and the compose stack's nginx image, starts the
# TorrentEdge container on the host network and waits for Docker's HEALTHCHECK to say healthy,
# checks it runs as a non-root user with /data as its volume, then nginx's container proxies to it.
# Skips (exit 0, with the reason) where no Docker daemon can run. Needs root for dockerd.
# The base image debian:bookworm-slim is made locally when missing (debootstrap + docker import),
# since no image registry may be reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
DOCKER=${DOCKER:-/usr/bin/docker}
CACHE=${CACHE:-$HOME/.cache/torrentedge}
BIN=${BIN:?BIN: the release torrentedge binary}
skip() { echo "test-docker: SKIPPED: $*"; exit 0; }

[ -x "$DOCKER" ] || skip "no docker CLI ($DOCKER); install Debian's docker.io"
started=""
if ! "$DOCKER" info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || skip "no Docker daemon and no dockerd to start"
  [ "$(id -u)" = 0 ] || skip "no Docker daemon running and not root to start one"
  echo "test-docker: starting dockerd (no bridge, no iptables)"
  dockerd --bridge=none --iptables=false --ip-masq=false >"$CACHE/dockerd.log" 2>&1 &
  started=$!
  for _ in $(seq 60); do "$DOCKER" info >/dev/null 2>&1 && break; sleep 0.5; done
  "$DOCKER" info >/dev/null 2>&1 || { kill "$started" 2>/dev/null; skip "dockerd does not start here: $(tail -n 3 "$CACHE/dockerd.log")"; }
fi
te="" ng=""
cleanup() {
  [ -z "$te" ] || "$DOCKER" rm -f "$te" >/dev/null 2>&1 || true
  [ -z "$ng" ] || "$DOCKER" rm -f "$ng" >/dev/null 2>&1 || true
  if [ -n "$started" ]; then kill "$started"; wait "$started" 2>/dev/null || true; fi
}
trap cleanup EXIT

if ! "$DOCKER" image inspect debian:bookworm-slim >/dev/null 2>&1; then
  root="$CACHE/docker/rootfs"
  if [ ! -x "$root/bin/sh" ]; then
    command -v debootstrap >/dev/null || skip "no debian:bookworm-slim image and no debootstrap"
    echo "test-docker: debootstrap bookworm into $root"
    rm -rf "$root" && mkdir -p "$root"
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$CACHE/docker/debootstrap.log"
  fi
  tar -C "$root" -c . | "$DOCKER" import - debian:bookworm-slim >/dev/null
fi

mkdir -p .docker && cp "$BIN" .docker/torrentedge
export DOCKER_BUILDKIT=1
"$DOCKER" build -q --network host --build-arg BIN_STAGE=prebuilt -t torrentedge:test . >/dev/null
"$DOCKER" build -q --network host -t torrentedge-nginx:test deploy/nginx >/dev/null
echo "test-docker: images built: $("$DOCKER" image inspect -f '{{.Size}}' torrentedge:test) bytes (torrentedge), $("$DOCKER" image inspect -f '{{.Size}}' torrentedge-nginx:test) bytes (nginx)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) peer=$(free_port) https=$(free_port) http=$(free_port)
te=$("$DOCKER" run -d --network host -e PORT="$port" -e BIND=127.0.0.1 -e PEER_PORT="$peer" \
  -e PEER_BIND=127.0.0.1 -e DHT=false -e LSD=false -e UPNP=false -e UTP=false --health-interval 1s --health-start-period 30s torrentedge:test)
status=""
for _ in $(seq 120); do
  status=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$te")
  [ "$status" = healthy ] && break
  [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$te")" = true ] || break
  sleep 0.5
done
[ "$status" = healthy ] || { "$DOCKER" logs "$te" | tail -n 20; echo "test-docker: FAILED: container is $status"; exit 1; }
echo "test-docker: torrentedge container healthy on 127.0.0.1:$port"
[ "$("$DOCKER" exec "$te" id -u)" = 10001 ] || { echo "test-docker: FAILED: not the non-root user"; exit 1; }
"$DOCKER" inspect -f '{{json .Config.Volumes}}' "$te" | grep -q '"/data"' || { echo "test-docker: FAILED: /data is not a volume"; exit 1; }
"$DOCKER" exec "$te" sh -c 'test -w /data && ! test -w /usr/local/bin'

ng=$("$DOCKER" run -d --network host -e TE_UPSTREAM="127.0.0.1:$port" -e LISTEN_ADDR=127.0.0.1 \
  -e HTTP_PORT="$http" -e HTTPS_PORT="$https" torrentedge-nginx:test)
for _ in $(seq 60); do
  curl -skf "https://127.0.0.1:$https/api/health" >/dev/null 2>&1 && break
  sleep 0.5
done
body=$(curl -sSkf "https://127.0.0.1:$https/api/health")
echo "$body" | grep -q '"status":"ok"' || { echo "test-docker: FAILED: through nginx: $body"; exit 1; }
echo "test-docker: ok (health through the nginx container over TLS: $body)"
