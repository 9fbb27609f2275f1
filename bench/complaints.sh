#!/usr/bin/env bash
# Complaints on ingested synthetic cities, against their truth: linking the
# complaints that carry no code (precision, recall, wrong links above the
# threshold) and every detector over each city's history after a first
# 90 days of baseline (detection of the injected outbreaks by scope,
# median delay, false alarms per month), with the time each takes.
#
# Usage: bench/complaints.sh WORK_DIR [ENTITIES] [SEEDS] [RATE]
#   Generates and ingests one city of ENTITIES (default 200 000, density
#   0.2) per seed in SEEDS (default "1") under WORK_DIR/seed-N, kept between
#   runs, and prints each city's figures and, for several seeds, the
#   detection summed over them (a city has six outbreaks: three
#   businesses, two towns, one industry). RATE (default 1) multiplies
#   every entity's complaints: 28.5 gives a 200 000-entity city a million.
#   XINYONG_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$1"
entities="${2:-200000}"
seeds="${3:-1}"
rate="${4:-1}"
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi
mkdir -p "$work"
reports=()
for seed in $seeds; do
  dir="$work/seed-$seed"
  city="$dir/city"
  data="$dir/data"
  if [ ! -f "$city/manifest.json" ]; then
    echo "generating $entities entities (seed $seed) into $city"
    "$xinyong" sim generate --entities "$entities" --density 0.2 --seed "$seed" \
      --complaint-rate "$rate" --formats csv --out "$city" >/dev/null
  fi
  if [ ! -f "$dir/ingested" ]; then
    "$xinyong" --data-dir "$data" init >/dev/null
    /usr/bin/time -f "ingest (the whole city): %e s wall, %M KiB peak" \
      "$xinyong" --data-dir "$data" ingest --manifest "$city/manifest.json" >/dev/null
    touch "$dir/ingested"
  fi
  start=$(python3 -c "import json; print(json.load(open('$city/manifest.json'))['period_from'])")
  from=$(python3 -c "import datetime as d; print(d.date.fromisoformat('$start') + d.timedelta(days=90))")

  echo "== seed $seed: linking complaints without a code"
  /usr/bin/time -f "linking: %e s wall, %M KiB peak" \
    "$xinyong" --data-dir "$data" complaints link --truth "$city/truth/complaints.csv"
  echo
  echo "== seed $seed: every detector from $from"
  /usr/bin/time -f "detection: %e s wall, %M KiB peak" \
    "$xinyong" --data-dir "$data" complaints detect --from "$from" \
      --truth "$city/truth/outbreaks.csv" --out "$dir/signals.csv" --json >"$dir/detect.json"
  reports+=("$dir/detect.json")
  echo
done

# Each city's scores, then (for several seeds) the sum over them.
python3 - "${reports[@]}" <<'PY'
import datetime, json, statistics, sys
from collections import defaultdict

def table(title, paths):
    total = defaultdict(lambda: {"scope": defaultdict(lambda: [0, 0]), "delays": [], "signals": 0, "false": 0})
    months = 0.0
    for path in paths:
        report = json.load(open(path))
        days = (datetime.date.fromisoformat(report["to"]) - datetime.date.fromisoformat(report["from"])).days + 1
        months += days / 30.0
        for s in report["scores"]:
            t = total[(s["detector"], s["level"])]
            for scope in ("business", "town", "industry"):
                if s[scope] != "–":
                    found, of = map(int, s[scope].split("/"))
                    t["scope"][scope][0] += found
                    t["scope"][scope][1] += of
            t["delays"] += s["delays"]
            t["signals"] += s["signals"]
            t["false"] += s["false_alarms"]
    print(f"== {title}: detected / outbreaks by scope, median delay in days, false alarms per 30 days")
    print(f"{'detector':9} {'level':9} {'business':>9} {'town':>6} {'industry':>9} {'median delay':>13} {'signals':>8} {'false':>6} {'false/month':>12}")
    for (detector, level), t in total.items():
        cells = ["{}/{}".format(*t["scope"][k]) for k in ("business", "town", "industry")]
        delay = f"{statistics.median(t['delays']):.1f}" if t["delays"] else "–"
        print(f"{detector:9} {level:9} {cells[0]:>9} {cells[1]:>6} {cells[2]:>9} {delay:>13} {t['signals']:>8} {t['false']:>6} {t['false'] / months:>12.2f}")
    print()

paths = sys.argv[1:]
for path in paths:
    table(path, [path])
if len(paths) > 1:
    table("summed over the seeds", paths)
PY
