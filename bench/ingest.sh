#!/usr/bin/env bash
# Ingest benchmark: ROWS tax-payment rows (default 20 million, about 1 GB of
# CSV) through `xinyong ingest` — every check character, cleansing,
# deduplication against the store, the registry, summaries, the lake — and,
# on the same file in the same run, DuckDB loading, pattern-checking and
# aggregating it per entity and converting it to Parquet.
# Usage: bench/ingest.sh [ROWS] [ENTITIES]
set -euo pipefail
cd "$(dirname "$0")/.."

rows="${1:-20000000}"
entities="${2:-200000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --profile dist --quiet
xinyong="$PWD/target/dist/xinyong"
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb

echo "preparing: a city of $entities entities and $rows tax rows about them"
"$xinyong" sim generate --entities "$entities" --years 1 --dirty 0 --formats csv --out "$work/city" >/dev/null
python3 bench/make_tax_csv.py "$work/city/truth/entities.csv" "$rows" "$work/tax.csv"
echo "csv: $(du -h "$work/tax.csv" | cut -f1)"
"$xinyong" --data-dir "$work/data" ingest --item registration --source samr \
  "$work/city/feeds/samr/registration/registration-snapshot.csv" >/dev/null

/usr/bin/time -v "$xinyong" --data-dir "$work/data" ingest --json --item tax_payment --source tax "$work/tax.csv" \
  >"$work/ours.json" 2>"$work/ours.time"
ours="$(python3 -c "import json; b=json.load(open('$work/ours.json'))[0]['batch']; print(b['report']['seconds'], b['rows_in'], b['accepted'])")"
read -r ours_s ours_rows ours_accepted <<<"$ours"
peak_kb="$(grep 'Maximum resident set size' "$work/ours.time" | awk '{print $NF}')"

duck="$(python3 bench/ingest_duckdb.py "$work/tax.csv" "$work/duckdb")"
duck_s="$(python3 -c "import re; f=dict(kv.split('=') for kv in '''$duck'''.split()); print(float(f['validate_aggregate_s']) + float(f['csv_to_parquet_s']))")"

echo "xinyong ingest: ${ours_s} s for ${ours_rows} rows (${ours_accepted} accepted), $(python3 -c "print(round($ours_rows / $ours_s))") rows/s, peak $((peak_kb / 1024)) MiB"
echo "duckdb:         ${duck_s} s (validate+aggregate and csv->parquet: $duck)"
echo "ratio (xinyong / duckdb): $(python3 -c "print(round($ours_s / $duck_s, 2))")"
