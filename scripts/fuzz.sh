#!/usr/bin/env bash
# Runs every libFuzzer target of fuzz/ for SECONDS each (cargo-fuzz), seeded from fuzz/corpus/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (make fuzz FUZZ_SECONDS=600)
#   FUZZ_RUNS=10000000 scripts/fuzz.sh        each target for that many executions instead
#   FUZZ_SANITIZER=none                       no AddressSanitizer (safe Rust; 2-3x the rate)
#
# cargo-fuzz is installed into ~/.cache/torrentedge/cargo-fuzz when missing. It needs nightly
# compiler flags (-Zsanitizer=address, SanitizerCoverage); RUSTC_BOOTSTRAP=1 lets the stable
# toolchain accept them. New inputs go to a scratch corpus outside the clone
# (~/.cache/torrentedge/fuzz-corpus/TARGET), so the repository's seeds stay small; a crash is
# saved under fuzz/artifacts/TARGET/ and the script fails: copy it to fuzz/regressions/TARGET/
# and fix the parser (cargo test -p fuzz then runs it on every build).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
cache=${CACHE:-$HOME/.cache/torrentedge}
root=$cache/cargo-fuzz
if [ ! -x "$root/bin/cargo-fuzz" ]; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked --root "$root"
fi
export PATH="$root/bin:$PATH" RUSTC_BOOTSTRAP=1
# Its own target folder: instrumented builds share nothing with ordinary ones.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$cache/target-fuzz}
targets=("$@")
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
# -O with -a: optimised, with overflow checks and debug assertions on (they find bugs).
sanitizer=${FUZZ_SANITIZER:-address}
cargo fuzz build --fuzz-dir fuzz -O -a -s "$sanitizer"
if [ -n "${FUZZ_RUNS:-}" ]; then
  limit=(-runs="$FUZZ_RUNS")
else
  limit=(-max_total_time="$seconds")
fi
for t in "${targets[@]}"; do
  scratch=$cache/fuzz-corpus/$t
  mkdir -p "$scratch" "fuzz/artifacts/$t"
  echo "fuzz: $t (${limit[*]})"
  cargo fuzz run --fuzz-dir fuzz -O -a -s "$sanitizer" "$t" "$scratch" "fuzz/corpus/$t" -- \
    "${limit[@]}" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    2>&1 | tail -n 20
done
