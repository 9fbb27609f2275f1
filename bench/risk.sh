#!/usr/bin/env bash
# The city's risk model on a synthetic city: training with its hold-out,
# screening speed, and the model against the city's hidden truth.
#
# Generates a city (default the city preset's 1.2 million entities at
# density 0.2), ingests it, trains (`xinyong risk train`: learn on 2024,
# validate on 2025), screens as of 2025-01-01 (the start of the year the
# truth describes) and as of today, and prints:
#   - the hold-out AUC on 2025's inspected entities (observed outcomes);
#   - the AUC of the 2025-01-01 scores against the truth's `violates` over
#     every screened entity, beside the best any model could do (the truth's
#     own violation_probability) and against observed 2025 outcomes;
#   - the share of violators found per class, and class shares;
#   - the screening times: features from the lake, scoring and classing,
#     storing.
#
# Usage: bench/risk.sh [WORK_DIR] [ENTITIES] [DENSITY]
#   XINYONG_BIN=path skips the build. The city and its ingest are kept in
#   WORK_DIR between runs.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-$(mktemp -d)}"
entities="${2:-1200000}"
density="${3:-0.2}"
mkdir -p "$work"
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi
data="$work/data"

if [ ! -f "$work/city/manifest.json" ]; then
  echo "generating $entities entities (density $density) into $work/city"
  "$xinyong" sim generate --entities "$entities" --density "$density" --seed 1 \
    --formats csv --out "$work/city" >/dev/null
fi
if [ ! -f "$work/ingested" ]; then
  echo "ingesting into $data"
  /usr/bin/time -v "$xinyong" --data-dir "$data" ingest --json --manifest "$work/city/manifest.json" \
    >"$work/ingest.json" 2>"$work/ingest.time"
  touch "$work/ingested"
fi

"$xinyong" --data-dir "$data" risk train | tee "$work/train.txt"
"$xinyong" --data-dir "$data" risk screen --as-of 2025-01-01 | tee "$work/screen-2025.txt"
"$xinyong" --data-dir "$data" risk export --out "$work/scores-2025.csv"
/usr/bin/time -v "$xinyong" --data-dir "$data" risk screen 2>"$work/screen.time" | tee "$work/screen-today.txt"
echo "screen end to end: $(grep 'Elapsed (wall clock)' "$work/screen.time" | awk '{print $NF}'), peak $(($(grep 'Maximum resident' "$work/screen.time" | awk '{print $NF}') / 1024)) MiB"
"$xinyong" --data-dir "$data" sql --format csv \
  "SELECT subject, MAX(CASE WHEN result IN ('problem_found', 'problem_corrected', 'not_found_at_address') THEN 1 ELSE 0 END) AS bad
   FROM inspection_result WHERE inspected_on >= DATE '2025-01-01' AND result <> 'closed_down' GROUP BY subject" \
  >"$work/observed-2025.csv"

python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
scores = {r["uscc"]: r for r in csv.DictReader(open(f"{work}/scores-2025.csv"))}
truth = {r["subject"]: r for r in csv.DictReader(open(f"{work}/city/truth/entities.csv"))}
observed = {r["subject"]: r["bad"] == "1" for r in csv.DictReader(open(f"{work}/observed-2025.csv"))}

def auc(pairs):
    pairs = sorted(pairs)
    pos = sum(1 for _, y in pairs if y)
    neg = len(pairs) - pos
    below = concordant = 0.0
    i = 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        p = sum(1 for k in range(i, j) if pairs[k][1])
        n = (j - i) - p
        concordant += p * (below + n / 2)
        below += n
        i = j
    return concordant / (pos * neg) if pos and neg else float("nan")

both = [u for u in scores if u in truth]
model = [(float(scores[u]["probability"]), truth[u]["violates"] == "true" or truth[u]["violates"] == "1") for u in both]
ceiling = [(float(truth[u]["violation_probability"]), truth[u]["violates"] in ("true", "1")) for u in both]
seen = [(float(scores[u]["probability"]), observed[u]) for u in both if u in observed]
print()
print(f"entities screened as of 2025-01-01 and in the truth: {len(both)}")
print(f"AUC against the truth (violates in 2025), all entities:  {auc(model):.4f}")
print(f"  the truth's own violation_probability (the ceiling):   {auc(ceiling):.4f}")
print(f"AUC against observed 2025 inspections ({len(seen)} inspected): {auc(seen):.4f}")
violators = sum(1 for _, y in model if y)
print(f"violators: {violators} of {len(model)} ({100 * violators / len(model):.2f}%)")
print(f"{'class':<6}{'entities':>10}{'share':>8}{'violators':>11}{'rate':>8}{'of all violators':>18}")
for c in "ABCD":
    members = [u for u in both if scores[u]["class"] == c]
    v = sum(1 for u in members if truth[u]["violates"] in ("true", "1"))
    print(f"{c:<6}{len(members):>10}{100 * len(members) / len(both):>7.1f}%{v:>11}{100 * v / max(len(members), 1):>7.1f}%{100 * v / max(violators, 1):>17.1f}%")
PY
