#!/usr/bin/env bash
# The city preset through ingest: the seed city's 1.2 million entities and
# about 100 million records (every batch of the synthetic city's manifest,
# CSV, GBK, JSON lines and XLSX), then `xinyong entity show` timed on the
# resulting data directory. Prints rows per second, peak memory and the
# entity-show latencies.
# Usage: bench/ingest_city.sh [WORK_DIR] (keeps the city and data there)
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-$(mktemp -d)}"
mkdir -p "$work"
cargo build --profile dist --quiet
xinyong="$PWD/target/dist/xinyong"

if [ ! -f "$work/city/manifest.json" ]; then
  echo "generating the city preset into $work/city"
  "$xinyong" sim generate --preset city --density 0.8 --seed 1 --out "$work/city" >/dev/null
fi
rm -rf "$work/data"
/usr/bin/time -v "$xinyong" --data-dir "$work/data" ingest --json --manifest "$work/city/manifest.json" \
  >"$work/ingest.json" 2>"$work/ingest.time"
python3 - "$work" <<'EOF'
import json, re, sys
work = sys.argv[1]
reports = json.load(open(f"{work}/ingest.json"))
batches = [r["batch"] for r in reports if r["status"] == "committed"]
rows = sum(b["rows_in"] for b in batches)
seconds = sum(b["report"]["seconds"] for b in batches)
timing = open(f"{work}/ingest.time").read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
failed = sum(1 for r in reports if r["status"] == "failed")
print(f"batches:        {len(batches)} committed, {failed} failed")
print(f"rows:           {rows}")
print(f"wall time:      {wall}")
print(f"rows/second:    {round(rows / seconds)} (over the batches' own time)")
print(f"peak memory:    {peak // 1024} MiB")
EOF
echo "lake: $(du -sh "$work/data/lake" | cut -f1), store: $(du -sh "$work/data/xinyong.db" | cut -f1)"

# entity show: 20 entities from the registry, each a fresh process, as a
# user would run it.
python3 - "$xinyong" "$work" <<'EOF'
import subprocess, sys, time
xinyong, work = sys.argv[1], sys.argv[2]
data = f"{work}/data"
subjects = subprocess.run(
    [xinyong, "--data-dir", data, "sql", "--format", "csv",
     "SELECT uscc FROM entities ORDER BY uscc LIMIT 20 OFFSET 500000"],
    check=True, capture_output=True, text=True).stdout.split()[1:]
times = []
for subject in subjects:
    started = time.perf_counter()
    subprocess.run([xinyong, "--data-dir", data, "entity", "show", subject, "--json"],
                   check=True, capture_output=True)
    times.append((time.perf_counter() - started) * 1000)
times.sort()
print(f"entity show:    median {times[len(times) // 2]:.1f} ms, max {times[-1]:.1f} ms over {len(times)} entities")
EOF
