#!/usr/bin/env bash
# Installs what building, running and testing TorrentEdge needs on a fresh Debian machine of this
# kind; anything already present is left alone, so a second run takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the WASM toolchain (rustup here has no wasm32 target), Chromium for the
# end-to-end tests, the real BitTorrent peers and tracker the tests run against, and PostgreSQL
# for the server's database tests (scripts/pg-test.sh starts a throwaway cluster), cmake and
# OpenSSL headers for librdkafka (the `kafka` feature), nginx-light and curl for the proxy test.
APT_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-llvm lld-22 chromium
  python3-libtorrent opentracker aria2 mktorrent postgresql
  cmake pkg-config libssl-dev zlib1g-dev libcurl4-openssl-dev libsasl2-dev libzstd-dev
  nginx-light curl openssl)
# transmission-remote drives the Transmission RPC compatibility tests.
APT_PACKAGES+=(transmission-cli)
# ffmpeg makes the short video the streaming browser test plays.
APT_PACKAGES+=(ffmpeg)
# qBittorrent is a real leecher in the built-in tracker's tests; wrk loads it (make bench-tracker).
APT_PACKAGES+=(qbittorrent-nox wrk)
# tcpdump: the eavesdropper of the encryption tests (engine/tests/encryption.rs).
APT_PACKAGES+=(tcpdump)
# A real router for the port-mapping tests (engine/tests/portmap.rs): miniupnpd's nftables
# build speaks NAT-PMP and UPnP IGD inside the test namespace; nft makes its table.
APT_PACKAGES+=(miniupnpd-nftables nftables)
# pip for the PyPI clients below (Debian's python3 does not ship it).
APT_PACKAGES+=(python3-pip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${missing[@]}"
fi

# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
  echo "setup: installing wasm-bindgen-cli $want (have: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$want"
fi

# npm packages: binaryen's wasm-opt for the bundle, playwright-core for the browser tests.
for dir in tools end2end; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts)
  fi
done
# PyPI clients of the qBittorrent and Transmission compatibility tests, for Debian's python3
# (the one with python3-libtorrent).
if ! /usr/bin/python3 -c 'import qbittorrentapi, transmission_rpc' 2>/dev/null; then
  echo "setup: pip install qbittorrent-api transmission-rpc"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO /usr/bin/python3 -m pip install --quiet --break-system-packages qbittorrent-api transmission-rpc
fi
# WebTorrent for the encryption tests (engine/tests/encryption.rs): its WebRTC addon
# (node-datachannel) cannot build here (its install step downloads sources), so scripts are
# skipped and the addon's require becomes a lazy error; TCP peers do not need it.
wt_root=$(npm root -g)
if [ ! -f "$wt_root/webtorrent-cli/node_modules/webtorrent/index.js" ]; then
  echo "setup: npm install -g webtorrent-cli"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO npm install -g --ignore-scripts --no-audit --no-fund webtorrent-cli@6.0.1
fi
for f in "$wt_root"/webtorrent-cli/node_modules/node-datachannel/dist/{esm/lib/node-datachannel.mjs,cjs/lib/node-datachannel.cjs}; do
  [ -f "$f" ] && sed -i 's|^const nodeDataChannel = require("../../../build/Release/node_datachannel.node");$|let nodeDataChannel; try { nodeDataChannel = require("../../../build/Release/node_datachannel.node"); } catch (e) { nodeDataChannel = new Proxy({}, { get() { return function () { throw new Error("node-datachannel native addon not built (WebRTC unavailable)"); }; } }); }|' "$f"
done
# SecantusDB (the MongoDB-wire server of `make test-mongo`) is installed by
# scripts/mongo-test.sh when that target first needs it; `make run` and `make test` do not.
echo "setup: ok"
