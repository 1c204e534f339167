#!/usr/bin/env bash
# Builds the dashboard's WASM bundle into $SITE/pkg with Debian's rustc-web and -Zbuild-std,
# because rustup here cannot fetch the wasm32 target (see docs/ARCHITECTURE.md).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${WASM_TARGET_DIR:?}" "${SITE:?}"
export PATH="/usr/bin:$PWD/tools/node_modules/.bin:$PATH"
RUSTC_BOOTSTRAP=1 RUSTFLAGS="" /usr/bin/cargo build -p frontend --lib --profile wasm-release \
  -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown --target-dir "$WASM_TARGET_DIR"
wasm="$WASM_TARGET_DIR/wasm32-unknown-unknown/wasm-release/frontend.wasm"
out="$SITE/pkg/torrentedge_bg.wasm"
if [ ! -f "$out" ] || [ "$wasm" -nt "$out" ]; then
  mkdir -p "$SITE/pkg"
  "$HOME/.cargo/bin/wasm-bindgen" --target web --no-typescript --out-dir "$SITE/pkg" --out-name torrentedge "$wasm"
  # WASM_OPT=0 keeps function names, for readable panics while debugging.
  [ "${WASM_OPT:-1}" = 0 ] || wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$out" -o "$out"
  touch "$out"
fi
ls -l "$SITE/pkg"
