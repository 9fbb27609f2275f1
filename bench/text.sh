#!/usr/bin/env bash
# The complaint classifier against the peer on the same texts and split:
# xinyong (`xinyong text fit` / `text report`: jieba-rs, TF-IDF of terms and
# neighbouring pairs, multinomial logistic regression) and Python jieba +
# scikit-learn (TfidfVectorizer over jieba's words, LogisticRegression),
# the usual way this is done. Complaints come from a synthetic city's
# hotline feed, ordered by the day received; the latest 20 % are the test
# part. Prints accuracy, macro-F1 and the time each side spends
# segmenting and fitting, and the ratio. Then times `text apply` and `text
# mask` over every complaint of the city (with a category or not), with
# their peak memory.
#
# Usage: bench/text.sh CITY_DIR [WORK_DIR]
#   CITY_DIR  a city written by `xinyong sim generate --formats csv`
#   XINYONG_BIN=path skips the build; PEERS_VENV (default /tmp/peers)
#   gets jieba and scikit-learn when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

city="$1"
work="${2:-$(mktemp -d)}"
mkdir -p "$work"
venv="${PEERS_VENV:-/tmp/peers}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -c "import jieba, sklearn" 2>/dev/null ||
  "$venv/bin/pip" install -q jieba scikit-learn pandas
xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --profile dist --quiet
  xinyong="$PWD/target/dist/xinyong"
fi

# One file of the hotline's complaints, ordered by the day received (a
# stable sort keeps each day's tickets in their order), split 80/20 in time.
"$venv/bin/python" - "$city" "$work" <<'PY'
import csv, glob, sys
city, work = sys.argv[1], sys.argv[2]
rows, header = [], None
for path in sorted(glob.glob(f"{city}/feeds/hotline/complaint/*.csv")):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows.extend(reader)
# Every complaint of every channel (the hotline's and the regulator's
# own, one header), for apply and mask.
every = 0
with open(f"{work}/all.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    for path in sorted(glob.glob(f"{city}/feeds/*/complaint/*.csv")):
        with open(path, newline="") as g:
            reader = csv.reader(g)
            if next(reader) != header:
                sys.exit(f"{path}: not the hotline's header")
            for row in reader:
                w.writerow(row)
                every += 1
print(f"every complaint: {every}")
day = header.index("received_on")
# Tickets without a category teach and measure nothing (xinyong leaves
# them out too).
category = header.index("category")
rows = [r for r in rows if r[category].strip()]
rows.sort(key=lambda r: r[day])
cut = len(rows) - round(len(rows) * 0.2)
for name, part in (("train", rows[:cut]), ("test", rows[cut:])):
    with open(f"{work}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(part)
print(f"complaints: {len(rows)}; train {cut} (to {rows[cut - 1][day]}), test {len(rows) - cut}")
PY

start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/fit.mem" "$xinyong" text fit --data "$work/train.csv" --text content --label category \
  --holdout 0 --out "$work/model.json" > "$work/fit.txt" 2> "$work/fit.log"
fitted=$(date +%s.%N)
"$xinyong" text report --model "$work/model.json" --data "$work/test.csv" --json > "$work/report.json"
ours_fit=$(echo "$fitted - $start" | bc)
cat "$work/fit.log"
echo "fit peak memory: $(( $(cat "$work/fit.mem") / 1024 )) MiB"

"$venv/bin/python" - "$work" "$ours_fit" <<'PY'
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import jieba, pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
work, ours_fit = sys.argv[1], float(sys.argv[2])
jieba.setLogLevel(60)
jieba.initialize()
train = pd.read_csv(f"{work}/train.csv", dtype=str).fillna("")
test = pd.read_csv(f"{work}/test.csv", dtype=str).fillna("")
t0 = time.perf_counter()
cut = lambda s: " ".join(jieba.lcut(s))
train_text = [cut(s) for s in train.content]
t1 = time.perf_counter()
vectoriser = TfidfVectorizer(token_pattern=r"(?u)[^ ]+", sublinear_tf=True, min_df=2)
x = vectoriser.fit_transform(train_text)
model = LogisticRegression(max_iter=1000).fit(x, train.category)
t2 = time.perf_counter()
predicted = model.predict(vectoriser.transform([cut(s) for s in test.content]))
peer = (accuracy_score(test.category, predicted), f1_score(test.category, predicted, average="macro"))
ours = json.load(open(f"{work}/report.json"))
print(f"{'tool':<28}{'accuracy':>10}{'macro-F1':>10}{'fit s':>9}")
print(f"{'xinyong text':<28}{ours['accuracy']:>10.4f}{ours['macro_f1']:>10.4f}{ours_fit:>9.2f}")
print(f"{'jieba + scikit-learn':<28}{peer[0]:>10.4f}{peer[1]:>10.4f}{t2 - t0:>9.2f}"
      f"   (segmenting {t1 - t0:.2f} s, TF-IDF and fit {t2 - t1:.2f} s)")
print(f"peer's fit over xinyong's (whole process, reading included): {(t2 - t0) / ours_fit:.1f} x")
PY

# Every complaint classified, then masked, whole processes timed.
/usr/bin/time -f "text apply (every complaint): %e s wall, %M KiB peak" \
  "$xinyong" text apply --model "$work/model.json" --data "$work/all.csv" \
  --out "$work/classified.csv"
/usr/bin/time -f "text mask (every complaint): %e s wall, %M KiB peak" \
  "$xinyong" text mask --data "$work/all.csv" --text content --out "$work/masked.csv"
