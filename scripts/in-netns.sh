#!/bin/sh
# Runs CMD... inside a fresh private network namespace whose only interface is
# loopback (127.0.0.1), so that no test peer can reach any other address even
# if one of its settings did not take effect.
#
#   scripts/in-netns.sh cargo test -p engine --test real_libtorrent
#
# Needs root (or unprivileged user namespaces: then `unshare -rn` is used).
set -eu
if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
if [ "${TORRENTEDGE_IN_NETNS:-}" = "1" ]; then
    # Already inside one: run directly.
    exec "$@"
fi
export TORRENTEDGE_IN_NETNS=1
if [ "$(id -u)" = "0" ]; then
    exec unshare -n -- sh -c 'ip link set lo up && exec "$@"' in-netns "$@"
else
    exec unshare -rn -- sh -c 'ip link set lo up && exec "$@"' in-netns "$@"
fi
