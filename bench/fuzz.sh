#!/usr/bin/env bash
# Fuzzes each target in fuzz/ (USCC parsing; the CSV, JSON-lines and XLSX
# readers; the catalog TOML; the inspection bundle's files) for SECONDS
# each (default 300) with cargo-fuzz and libFuzzer, starting from the seeds
# in fuzz/seeds/<target>/ and keeping what it learns in fuzz/corpus/.
# A crash stops the run with its input under fuzz/artifacts/<target>/: fix
# it, then keep the input as a regression case in the crate's tests.
#
# Usage: bench/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
shift || true
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# libFuzzer's coverage instrumentation is switched on by flags the stable
# compiler accepts only with RUSTC_BOOTSTRAP; this machine has no nightly
# (docs/DECISIONS.md, "Fuzzing on the stable toolchain").
export RUSTC_BOOTSTRAP=1
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/seeds/$target"
  log="$(mktemp)"
  cargo fuzz run --fuzz-dir fuzz --sanitizer none --release "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -print_final_stats=1 2>"$log" || { tail -40 "$log"; exit 1; }
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "$target: $runs runs in $seconds s, no crash"
  rm -f "$log"
done
