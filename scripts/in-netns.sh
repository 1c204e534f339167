#!/bin/sh
# Runs CMD... in a private network namespace whose only interface is loopback
# (127.0.0.1), so a test or a real BitTorrent client started by it cannot reach
# any other address even if one of its settings did not take effect.
#
#   scripts/in-netns.sh cargo test -p engine --test real_libtorrent
#
# Multicast is switched on for lo, so local service discovery (BEP 14) can be
# tested between peers in the namespace; it cannot leave it.
#
# Already inside one (TORRENTEDGE_IN_NETNS=1): runs CMD directly. As root it
# uses `unshare --net`; otherwise `unshare --net --map-root-user` (needs
# unprivileged user namespaces).
set -eu
if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
if [ "${TORRENTEDGE_IN_NETNS:-}" = "1" ]; then
    exec "$@"
fi
export TORRENTEDGE_IN_NETNS=1
if [ "$(id -u)" = "0" ]; then
    exec unshare --net -- sh -c 'ip link set lo up && ip link set lo multicast on && exec "$@"' sh "$@"
else
    exec unshare --net --map-root-user -- sh -c 'ip link set lo up && ip link set lo multicast on && exec "$@"' sh "$@"
fi
