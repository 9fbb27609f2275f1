#!/usr/bin/env bash
# The public side of credit at city scale: the composite evaluation of
# every entity, then one batch credit check of every registered entity
# (the issue's aim: 100 000 entities in one file in under 10 s), each with
# its wall time and peak memory. No peer tool does this work.
#
# Usage: bench/credit.sh WORK_DIR [ENTITIES]
#   Generates and ingests a city of ENTITIES (default 100 000, density 0.2)
#   under WORK_DIR, kept between runs. XINYONG_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$1"
entities="${2:-100000}"
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi
city="$work/city"
data="$work/data"
mkdir -p "$work"
if [ ! -f "$city/manifest.json" ]; then
  echo "generating $entities entities into $city"
  "$xinyong" sim generate --entities "$entities" --density 0.2 --seed 1 --formats csv --out "$city" >/dev/null
fi
if [ ! -f "$work/ingested" ]; then
  "$xinyong" --data-dir "$data" init >/dev/null
  /usr/bin/time -f "ingest: %e s wall, %M KiB peak" \
    "$xinyong" --data-dir "$data" ingest --manifest "$city/manifest.json" >/dev/null
  touch "$work/ingested"
fi

echo "== the composite evaluation of the city"
/usr/bin/time -f "evaluate: %e s wall, %M KiB peak" "$xinyong" --data-dir "$data" evaluate

echo
echo "== one credit check of every registered entity"
"$xinyong" --data-dir "$data" sql --format csv "SELECT subject FROM registration" >"$work/codes.csv"
echo "$(($(wc -l <"$work/codes.csv") - 1)) codes in $work/codes.csv"
/usr/bin/time -f "check: %e s wall, %M KiB peak" \
  "$xinyong" --data-dir "$data" check --scenario government_procurement \
    --file "$work/codes.csv" --out "$work/answers.csv"
echo "$(($(wc -l <"$work/answers.csv") - 1)) answers in $work/answers.csv"
