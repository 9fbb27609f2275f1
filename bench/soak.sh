#!/usr/bin/env bash
# A mixed load at a paced rate against `xinyong serve` on the city preset,
# on SQLite and on PostgreSQL: errors, p50/p99/max latency per kind of
# request, the server's memory at the start, the end and at most.
#
# The load (crates/cli/examples/soak.rs) is open-loop: a request is due
# every 1/RATE s whatever the server does, and latency counts from then.
#
# Usage: bench/soak.sh [WORK_DIR] [DENSITY] [SECONDS] [RATE] [BACKENDS]
#   WORK_DIR keeps the city and the data between runs; DENSITY scales the
#   monthly records per entity (the registry is the preset's 1.2 million
#   entities at any density); SECONDS (600) and RATE (500) pace the load;
#   BACKENDS is "sqlite postgres" by default.
# PostgreSQL: XINYONG_BENCH_POSTGRES (default the local server) names the
# server; the database xinyong_soak there is replaced whenever the data
# directory WORK_DIR/data-postgres does not exist yet. Needs psql.
# XINYONG_BIN=path skips building the binary, XINYONG_SOAK=path the load
# generator.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-$(mktemp -d)}"
density="${2:-0.05}"
seconds="${3:-600}"
rate="${4:-500}"
backends="${5:-sqlite postgres}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
admin="${XINYONG_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"

xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet --bin xinyong
  xinyong="$PWD/target/dist/xinyong"
fi
soak="${XINYONG_SOAK:-}"
if [ -z "$soak" ]; then
  # The load generator is not what is measured: the quicker profile will do.
  cargo build --release --quiet -p cli --example soak
  soak="${CARGO_TARGET_DIR:-$PWD/target}/release/examples/soak"
fi

if [ ! -f "$work/city/manifest.json" ]; then
  echo "generating the city preset (density $density) into $work/city"
  "$xinyong" sim generate --preset city --density "$density" --seed 1 --out "$work/city" >/dev/null
fi

for backend in $backends; do
  data="$work/data-$backend"
  [ -d "$data" ] || rm -f "$work/demo-$backend.done"
  state=()
  if [ "$backend" = postgres ]; then
    url="${admin%/*}/xinyong_soak"
    # A data directory made afresh gets a fresh database beside it.
    if [ ! -d "$data" ]; then
      psql "$admin" -qc "DROP DATABASE IF EXISTS xinyong_soak WITH (FORCE)"
      psql "$admin" -qc "CREATE DATABASE xinyong_soak"
    fi
    state=(--database-url "$url")
  fi
  x() { "$xinyong" --data-dir "$data" "${state[@]}" "$@"; }
  # A demo built by an earlier run is used again (its accounts are found
  # below; the soak's uploads are new files whatever ran before).
  if [ -f "$work/demo-$backend.done" ]; then
    echo "== $backend: the demo built earlier in $data"
  else
    echo "== $backend: building the demo on the city ($data)"
    /usr/bin/time -f "demo built in %e s, peak %M KiB" \
      "$xinyong" --data-dir "$data" "${state[@]}" demo --city "$work/city" --no-serve >"$work/demo-$backend.out"
    touch "$work/demo-$backend.done"
  fi

  users=$(x user list --json)
  bank=$(printf '%s' "$users" | python3 -c 'import json,sys; print(next(r["subject"] for u in json.load(sys.stdin) for r in u["roles"] if r["role"] == "bank"))')
  enterprise=$(printf '%s' "$users" | python3 -c 'import json,sys; print(next(r["subject"] for u in json.load(sys.stdin) for r in u["roles"] if r["role"] == "enterprise"))')
  token() { x token issue --name "soak-$1-$$" --role "$1" --days 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }
  x sql --format csv "SELECT uscc, name FROM entities WHERE status = 'operating' ORDER BY uscc LIMIT 2000" |
    tail -n +2 >"$work/subjects.csv"

  # Not through x(): $! must be the server itself, whose memory is sampled.
  "$xinyong" --data-dir "$data" "${state[@]}" serve --listen 127.0.0.1:0 \
    >"$work/serve-$backend.out" 2>"$work/serve-$backend.err" &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do
    grep -q "listening on" "$work/serve-$backend.out" 2>/dev/null && break
    sleep 0.1
  done
  base=$(sed -n 's/^listening on //p' "$work/serve-$backend.out")
  echo "== $backend: $rate requests/s for $seconds s against $base"
  "$soak" --base "$base" --rate "$rate" --seconds "$seconds" --pid "$server" \
    --subjects "$work/subjects.csv" \
    --regulator-token "$(token regulator)" \
    --bank-token "$(token "bank:$bank")" --bank "$bank" \
    --enterprise-token "$(token "enterprise:$enterprise")" --enterprise "$enterprise" \
    --department-token "$(token department:tax)" \
    --user regulator --password regulator-demo-2026 | tee "$work/soak-$backend.txt"
  kill $server 2>/dev/null || true
  wait $server 2>/dev/null || true
done
