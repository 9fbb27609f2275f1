#!/usr/bin/env bash
# Benchmark of the synthetic city: the seed city's 1.2 million entities with
# about 100 million records, on this machine. Prints records per second and
# peak memory. Usage: bench/sim.sh [ENTITIES] [DENSITY] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

entities="${1:-1200000}"
density="${2:-0.8}"
out="${3:-$(mktemp -d)/city}"

mkdir -p "$(dirname "$out")"
cargo build --profile dist --quiet
timing="$(mktemp)"
/usr/bin/time -v target/dist/xinyong sim generate \
  --entities "$entities" --density "$density" --seed 1 --out "$out" --json \
  2>"$timing" | tee "$out.summary.json"
peak_kb="$(grep 'Maximum resident set size' "$timing" | awk '{print $NF}')"
wall="$(grep 'Elapsed (wall clock)' "$timing" | awk '{print $NF}')"
records="$(python3 -c "import json,sys; print(json.load(open('$out.summary.json'))['records'])")"
seconds="$(python3 -c "import json,sys; print(json.load(open('$out.summary.json'))['seconds'])")"
echo "entities:        $entities"
echo "records:         $records"
echo "wall time:       $wall"
echo "records/second:  $(python3 -c "print(round($records / $seconds))")"
echo "peak memory:     $((peak_kb / 1024)) MiB"
echo "output size:     $(du -sh "$out" | cut -f1)"
