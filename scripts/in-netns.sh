#!/usr/bin/env bash
# Runs a command in a private network namespace whose only interface is loopback, so a test or a
# real BitTorrent client started by it cannot reach any other address even if misconfigured.
set -euo pipefail
if [ "${TORRENTEDGE_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
export TORRENTEDGE_IN_NETNS=1
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
