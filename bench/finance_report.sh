#!/usr/bin/env bash
# Credit reports at city scale: the city preset's 1.2 million entities (at a
# low density of monthly records by default: the registry, the yearly
# summaries a report reads and the event records are all there), its
# financing side loaded and graded, then 200 enterprises each authorising
# bank 1, and bank 1 pulling each one's full report over HTTP. Prints the
# grading time and the report latencies (mean, p50, p95, max). No peer
# produces consent-checked credit reports; the figures stand alone.
#
# Usage: bench/finance_report.sh [WORK_DIR] [DENSITY]   (default density 0.1)
# XINYONG_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-$(mktemp -d)}"
density="${2:-0.1}"
mkdir -p "$work"
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi
data="$work/data"

if [ ! -f "$work/city/manifest.json" ]; then
  echo "generating the city preset (density $density) into $work/city"
  "$xinyong" sim generate --preset city --density "$density" --seed 1 --out "$work/city" >/dev/null
fi
if [ ! -f "$data/xinyong.db" ]; then
  echo "ingesting the city into $data"
  "$xinyong" --data-dir "$data" ingest --json --manifest "$work/city/manifest.json" >"$work/ingest.json"
fi
"$xinyong" --data-dir "$data" finance load "$work/city" || echo "(the financing side is loaded already)"
echo "grading every enterprise:"
/usr/bin/time -f "  %e s wall, %M KB peak" "$xinyong" --data-dir "$data" finance grade

"$xinyong" --data-dir "$data" sql --format csv \
  "SELECT uscc FROM entities WHERE status = 'operating' ORDER BY uscc LIMIT 200 OFFSET 400000" >"$work/subjects.csv"

"$xinyong" --data-dir "$data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$work/serve.out")
secret() { python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }
bank=$("$xinyong" --data-dir "$data" token issue --name bench-bank --role bank:1 --days 1 --json | secret)

: >"$work/times.txt"
for uscc in $(tail -n +2 "$work/subjects.csv"); do
  own=$("$xinyong" --data-dir "$data" token issue --name "bench-$uscc" --role "enterprise:$uscc" --days 1 --json | secret)
  curl -sf -o /dev/null -H "Authorization: Bearer $own" -H 'content-type: application/json' \
    -d '{"bank": "1", "scope": ["registration", "tax", "social_insurance", "utilities", "penalties_and_lists", "court", "intellectual_property", "credit_profile"], "purpose": "bench", "days": 1}' \
    "$base/api/v1/finance/consents"
  curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $bank" \
    "$base/api/v1/finance/reports/$uscc" >>"$work/times.txt"
done
python3 - "$work/times.txt" <<'PY'
import statistics, sys
times = sorted(float(t) * 1000 for t in open(sys.argv[1]) if t.strip())
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"credit reports: {len(times)} over HTTP, mean {statistics.mean(times):.1f} ms, "
      f"p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, max {times[-1]:.1f} ms")
PY
