#!/usr/bin/env bash
# Scorecard benchmark: one 12-factor table from the synthetic city (about
# 1 M rows), split 70/30; xinyong, optbinning and LightGBM fit on the train
# part and score the test part in the same run. Prints fit time, apply time
# and test AUC (all AUCs by scikit-learn on the scored test rows), and the
# ratios to xinyong.
#
# Usage: bench/scorecard.sh [ENTITIES] [WORK_DIR]
#   ENTITIES  generated entities (default 1 340 000, which gives ~1 M rows)
#   XINYONG_BIN=path  use this binary instead of building the release one
#   PEERS_VENV=dir    Python venv with optbinning, lightgbm, scikit-learn,
#                     pandas (default /tmp/peers; created when missing)
set -euo pipefail
cd "$(dirname "$0")/.."

entities="${1:-1340000}"
work="${2:-$(mktemp -d)}"
venv="${PEERS_VENV:-/tmp/peers}"
peers="../shared/peers/scorecard_peers.py"
mkdir -p "$work"

if [ -z "${XINYONG_BIN:-}" ]; then
  cargo build --profile dist --quiet
  XINYONG_BIN=target/dist/xinyong
fi
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q optbinning lightgbm scikit-learn pandas
fi

table="$work/factors-$entities.csv"
if [ ! -f "$table" ]; then
  "$XINYONG_BIN" sim factors --entities "$entities" --seed 1 --out "$table"
fi
# Rows are in entity order, which the generator draws at random: every
# tenth row from the third on goes to the test part.
awk -v train="$work/train.csv" -v test="$work/test.csv" \
  'NR == 1 { print > train; print > test; next }
   NR % 10 < 3 { print > test; next }
   { print > train }' "$table"
echo "table: $(($(wc -l < "$table") - 1)) rows; train $(($(wc -l < "$work/train.csv") - 1)), test $(($(wc -l < "$work/test.csv") - 1))"
# The split was just written: let the writeback finish before anything is
# timed, so every tool reads the files from the page cache and no reading
# clock measures the disk flushing what awk wrote.
sync
cat "$work/train.csv" "$work/test.csv" > /dev/null

# xinyong, twice: with its defaults (features selected by IV, correlation and
# coefficient sign, monotonic bins), and like the peer's scorecard (every
# feature kept, bins of any shape). The fit and apply times are what the
# commands measure around the work, like the peers' (reading the CSV is
# reported apart).
: > "$work/results.txt"
run_xinyong() {
  local name="$1"; shift
  "$XINYONG_BIN" model fit --data "$work/train.csv" --target violated \
    --out "$work/$name.json" "$@" 2> "$work/$name.fit.log"
  "$XINYONG_BIN" model apply --model "$work/$name.json" --data "$work/test.csv" \
    --out "$work/$name.scored.csv" 2> "$work/$name.apply.log"
  cat "$work/$name.fit.log" "$work/$name.apply.log"
  local fit_s read_s apply_s auc
  fit_s="$(sed -n 's/.*fit \([0-9.]*\) s.*/\1/p' "$work/$name.fit.log")"
  read_s="$(sed -n 's/^read \([0-9.]*\) s.*/\1/p' "$work/$name.fit.log")"
  apply_s="$(sed -n 's/.*score \([0-9.]*\) s.*/\1/p' "$work/$name.apply.log")"
  auc="$("$venv/bin/python" -c "
import pandas as pd; from sklearn.metrics import roc_auc_score
d = pd.read_csv('$work/$name.scored.csv', usecols=['violated', 'probability'])
print(f'{roc_auc_score(d.violated, d.probability):.4f}')")"
  echo "tool=$name fit_s=$fit_s apply_s=$apply_s test_auc=$auc (reading the CSV: $read_s s)" | tee -a "$work/results.txt"
}
run_xinyong xinyong
run_xinyong xinyong-all --min-iv 0 --max-correlation 1 --allow-negative-coefficients \
  --trend free --max-bins 12 --min-bin-share 0.02

"$venv/bin/python" "$peers" --train "$work/train.csv" --test "$work/test.csv" \
  --target violated --tools optbinning,lightgbm | tee -a "$work/results.txt"

python3 - "$work/results.txt" <<'PY'
import re, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"tool=(\S+) fit_s=([0-9.]+) apply_s=([0-9.]+) test_auc=([0-9.]+)", line)
    if m:
        rows[m[1]] = tuple(float(x) for x in m.groups()[1:])
ours = rows["xinyong"]
print()
print(f"{'tool':<12}{'fit s':>10}{'apply s':>10}{'test AUC':>10}{'fit ×':>10}{'apply ×':>10}")
for tool, (fit, apply, auc) in rows.items():
    print(f"{tool:<12}{fit:>10.3f}{apply:>10.3f}{auc:>10.4f}{fit / ours[0]:>10.1f}{apply / max(ours[1], 1e-9):>10.1f}")
print("(× = the tool's time over xinyong's; above 1 means xinyong is faster)")
PY
