#!/usr/bin/env bash
# A hundred kills: `xinyong ingest --manifest` of a synthetic city SIGKILLed
# at KILLS random moments, rerun after each, then run to the end; and
# `xinyong serve` SIGKILLed SERVER_KILLS times while the soak load writes
# grants, applications and results, restarted after each.
#
# Checked at the end, against an uninterrupted ingest of the same city and
# the city's own manifest (its truth of what each file holds):
#   - every file of the manifest is one batch, once;
#   - every row of every file is in the lake or the quarantine exactly once
#     (by file and source row), with the same rows accepted as the
#     uninterrupted run;
#   - every batch's accepted count equals its rows in the lake;
#   - the registry entries and yearly summaries of sampled entities are
#     those of the uninterrupted run;
#   - after the server's kills (under the soak's write mix: grants and
#     revocations, applications with and without grants, moves, inspection
#     results), nothing is half-written: every application's events replay
#     to its state, each submission, move, grant, revocation and result has
#     exactly one audit entry, an application submitted with a grant has
#     it, every result is in the store with its findings and in the lake
#     once (and no open task is), no audit entry is left staged, every
#     batch's accepted rows are in the lake, staging is empty and the audit
#     chain verifies.
# Prints kills, rows, lost and duplicated.
#
# Usage: bench/kill.sh [KILLS] [ENTITIES] [SERVER_KILLS]   (100, 3000, 20; 0 server kills skips the server)
# XINYONG_BIN=path skips building the binary.
set -euo pipefail
cd "$(dirname "$0")/.."

kills="${1:-100}"
entities="${2:-3000}"
server_kills="${3:-20}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

xinyong="${XINYONG_BIN:-}"
if [ -z "$xinyong" ]; then
  cargo build --release --quiet --bin xinyong
  xinyong="${CARGO_TARGET_DIR:-$PWD/target}/release/xinyong"
fi


echo "city: $entities entities, 2 years"
"$xinyong" sim generate --entities "$entities" --years 2 --seed 11 --out "$work/city" >/dev/null

started=$(date +%s.%N)
"$xinyong" --data-dir "$work/reference" ingest --manifest "$work/city/manifest.json" >/dev/null
full=$(python3 -c "import time; print(round(time.time() - $started, 2))")
echo "uninterrupted ingest: $full s"

cat >"$work/check.py" <<'PY'
# Checks a data directory against the uninterrupted run (whose figures it
# keeps in ref.json) and the city's manifest; prints lost and duplicated.
import collections, json, os, subprocess, sys
xinyong, work, data = sys.argv[1], sys.argv[2], sys.argv[3]

def run(data, *args):
    out = subprocess.run([xinyong, "--data-dir", f"{work}/{data}", *args],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)

manifest = json.load(open(f"{work}/city/manifest.json"))
expected_rows = {f"{work}/city/{b['file']}": b["rows"] for b in manifest["batches"]}

def rows_by_file(data):
    """(file, source row) -> times seen, over the lake and the quarantine."""
    batches = run(data, "batch", "list", "--json")
    files = {b["id"]: b["file_name"] for b in batches}
    seen = collections.Counter()
    accepted = collections.Counter()
    for table in sorted({b["item"] for b in batches}) + ["quarantine"]:
        for r in run(data, "sql", "--format", "json", f"SELECT _batch, _row FROM {table}"):
            seen[(files[r["_batch"]], r["_row"])] += 1
            if table != "quarantine":
                accepted[r["_batch"]] += 1
    for b in batches:
        assert accepted[b["id"]] == b["accepted"], f"batch {b['id']}: {accepted[b['id']]} in the lake, {b['accepted']} accepted"
    return batches, seen

def entities(data, subjects):
    shown = []
    for s in subjects:
        e = run(data, "entity", "show", "--json", s)
        for event in e.get("events", []):
            event.pop("batch_id", None)
        shown.append(e)
    return shown

if not os.path.exists(f"{work}/ref.json"):
    batches, seen = rows_by_file("reference")
    subjects = [r["uscc"] for r in run("reference", "sql", "--format", "json",
                "SELECT uscc FROM entities ORDER BY uscc LIMIT 25")]
    json.dump({"seen": [f"{f}\t{r}" for (f, r) in seen],
               "accepted": sum(b["accepted"] for b in batches),
               "subjects": subjects, "entities": entities("reference", subjects)},
              open(f"{work}/ref.json", "w"))
ref = json.load(open(f"{work}/ref.json"))
batches, seen = rows_by_file(data)
files = collections.Counter(b["file_name"] for b in batches)
twice = [f for f, n in files.items() if n > 1]
assert not twice, f"files ingested twice: {twice[:3]}"
assert set(files) == set(expected_rows), "files missing from the batches"
duplicated = sum(n - 1 for n in seen.values() if n > 1)
lost = sum(1 for f, rows in expected_rows.items() for r in range(1, rows + 1) if seen[(f, r)] == 0)
assert {f"{f}\t{r}" for (f, r) in seen} == set(ref["seen"]), "the rows stored differ from the uninterrupted run's"
accepted = sum(b["accepted"] for b in batches)
assert accepted == ref["accepted"], f"accepted {accepted} against {ref['accepted']}"
assert entities(data, ref["subjects"]) == ref["entities"], "entities differ from the uninterrupted run's"
print(len(expected_rows), sum(expected_rows.values()), accepted, lost, duplicated)
assert lost == 0 and duplicated == 0
PY

# Rounds: a fresh data directory, the manifest run and killed at a random
# moment (uniform over the uninterrupted run's time) and run again until a
# run ends by itself, then checked. A kill after the run ended does not
# count; rounds go on until KILLS kills have landed mid-run.
landed=0; rounds=0; lost=0; duplicated=0
while [ "$landed" -lt "$kills" ]; do
  rounds=$((rounds + 1))
  rm -rf "$work/killed"
  while true; do
    "$xinyong" --data-dir "$work/killed" ingest --manifest "$work/city/manifest.json" >/dev/null 2>&1 &
    pid=$!
    sleep "$(python3 -c "import random; print(round(random.uniform(0.05, $full), 3))")"
    if kill -KILL "$pid" 2>/dev/null; then
      landed=$((landed + 1))
      wait "$pid" 2>/dev/null || true
    else
      wait "$pid"
      break
    fi
  done
  result=$(python3 "$work/check.py" "$xinyong" "$work" killed)
  read -r files rows accepted round_lost round_duplicated <<<"$result"
  lost=$((lost + round_lost)); duplicated=$((duplicated + round_duplicated))
  echo "round $rounds: $landed kills so far; $rows rows in $files files, $accepted accepted, lost $round_lost, duplicated $round_duplicated"
done
echo "ingest: $landed kills in $rounds rounds; each round $rows rows in $files files; lost $lost, duplicated $duplicated"

[ "$server_kills" -gt 0 ] || exit 0
cargo build --release --quiet -p cli --example soak
soak="${CARGO_TARGET_DIR:-$PWD/target}/release/examples/soak"

# The server: a demo on the same city, the soak's mix (applications moved
# by enterprise and bank, consented reports, uploads, sign-ins) at 200
# requests a second, the server SIGKILLed at a random moment of each round
# and started again.
data="$work/served"
"$xinyong" --data-dir "$data" demo --city "$work/city" --no-serve >/dev/null
x() { "$xinyong" --data-dir "$data" "$@"; }
users=$(x user list --json)
bank=$(printf '%s' "$users" | python3 -c 'import json,sys; print(next(r["subject"] for u in json.load(sys.stdin) for r in u["roles"] if r["role"] == "bank"))')
enterprise=$(printf '%s' "$users" | python3 -c 'import json,sys; print(next(r["subject"] for u in json.load(sys.stdin) for r in u["roles"] if r["role"] == "enterprise"))')
token() { x token issue --name "kill-$1-$$" --role "$1" --days 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'; }
x sql --format csv "SELECT uscc, name FROM entities WHERE status = 'operating' ORDER BY uscc LIMIT 500" | tail -n +2 >"$work/subjects.csv"
regulator=$(token regulator); bank_token=$(token "bank:$bank")
enterprise_token=$(token "enterprise:$enterprise"); department=$(token department:tax)
plan=$(x inspection plan list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for round in $(seq 1 "$server_kills"); do
  "$xinyong" --data-dir "$data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
  server=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's/^listening on //p' "$work/serve.out")
  "$soak" --base "$base" --rate 200 --seconds 30 --subjects "$work/subjects.csv" \
    --regulator-token "$regulator" --bank-token "$bank_token" --bank "$bank" \
    --enterprise-token "$enterprise_token" --enterprise "$enterprise" \
    --department-token "$department" --user regulator --password regulator-demo-2026 \
    --plan "$plan" >/dev/null 2>&1 &
  load=$!
  sleep "$(python3 -c "import random; print(round(random.uniform(1, 6), 2))")"
  kill -KILL "$server"
  wait "$server" 2>/dev/null || true
  kill "$load" 2>/dev/null || true
  wait "$load" 2>/dev/null || true
done
# Started once more, the server recovers what its last upload left staged.
"$xinyong" --data-dir "$data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
kill "$server"; wait "$server" 2>/dev/null || true
x audit verify --json >"$work/audit.json"
python3 - "$xinyong" "$data" "$work/audit.json" "$server_kills" "$run_start" <<'PY'
import collections, json, sqlite3, subprocess, sys
xinyong, data, audit, kills, run_start = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3])), sys.argv[4], sys.argv[5]
def run(*args):
    return json.loads(subprocess.run([xinyong, "--data-dir", data, *args], check=True,
                                     capture_output=True, text=True).stdout)
assert audit["first_broken"] is None, audit
batches = run("batch", "list", "--json")
for item in sorted({b["item"] for b in batches}):
    counts = collections.Counter()
    for r in run("sql", "--format", "json", f"SELECT _batch, COUNT(*) AS n FROM {item} GROUP BY _batch"):
        counts[r["_batch"]] = r["n"]
    for b in (b for b in batches if b["item"] == item):
        assert counts[b["id"]] == b["accepted"], f"batch {b['id']}: {counts[b['id']]} in the lake, {b['accepted']} accepted"
import os
staging = os.path.join(data, "lake", "_staging")
left = os.listdir(staging) if os.path.isdir(staging) else []
assert not left, f"staging left over: {left}"

# Nothing half-written: the store against its own audit trail and the lake.
db = sqlite3.connect(os.path.join(data, "xinyong.db"))
q = lambda sql, *args: db.execute(sql, args).fetchall()
assert q("SELECT COUNT(*) FROM audit_pending") == [(0,)], "audit entries left staged"
entries = collections.Counter()
submitted = {}
for action, subject, detail in q("SELECT action, subject, detail FROM audit_log WHERE outcome = 'ok' AND at >= ?", run_start):
    detail = json.loads(detail)
    if action in ("consent_grant", "consent_revoke"):
        subject = f"grant:{detail['grant']}"
    entries[(action, subject)] += 1
    if action == "application_submit":
        submitted[subject] = detail.get("grant")
once = lambda action, subject: entries[(action, subject)] == 1
apps = q("SELECT id, state, last_event_seq FROM loan_applications WHERE created_at >= ?", run_start)
moves = 0
for app, state, last in apps:
    events = q("SELECT seq, state FROM application_events WHERE application_id = ? ORDER BY seq", app)
    assert [s for s, _ in events] == list(range(1, last + 1)), f"application {app}: events {events}, last {last}"
    assert events[-1][1] == state, f"application {app} is {state}, its last event says {events[-1][1]}"
    assert once("application_submit", f"application:{app}"), f"application {app}: submission audited {entries[('application_submit', f'application:{app}')]} times"
    assert entries[("application_move", f"application:{app}")] == last - 1, f"application {app}: {last - 1} moves, audited {entries[('application_move', f'application:{app}')]}"
    moves += last - 1
    grant = submitted[f"application:{app}"]
    if grant is not None:
        assert q("SELECT application_id FROM authorisations WHERE id = ?", grant) == [(app,)], f"application {app}: its grant {grant} is missing"
grants = q("SELECT id, revoked_by FROM authorisations WHERE granted_at >= ?", run_start)
revoked = 0
for grant, by in grants:
    assert once("consent_grant", f"grant:{grant}"), f"grant {grant}: audited {entries[('consent_grant', f'grant:{grant}')]} times"
    if by and not by.startswith("application:"):
        revoked += 1
        assert once("consent_revoke", f"grant:{grant}"), f"grant {grant}: revocation audited {entries[('consent_revoke', f'grant:{grant}')]} times"
in_lake = collections.Counter(r["task_number"] for r in run("sql", "--format", "json", "SELECT task_number FROM inspection_result"))
done = 0
for task, plan, state, sent in q("SELECT id, plan_id, state, lake_batch FROM inspection_tasks"):
    number = f"{plan}-{task:06d}"
    findings = q("SELECT COUNT(*) FROM inspection_findings WHERE task_id = ?", task)[0][0]
    if state == "done":
        done += 1
        assert findings > 0 and sent is not None, f"task {task}: done with {findings} findings, lake batch {sent}"
        assert in_lake[number] == 1, f"task {task}: {in_lake[number]} results in the lake"
        assert once("record_inspection_result", str(task)), f"task {task}: result audited {entries[('record_inspection_result', str(task))]} times"
    else:
        assert findings == 0 and in_lake[number] == 0, f"task {task} is {state} with {findings} findings, {in_lake[number]} in the lake"
print(f"server: {kills} kills under the write mix; {len(apps)} applications ({moves} moves), "
      f"{len(grants)} grants ({revoked} revoked), {done} results: none half-written, each audited once; "
      f"audit chain of {audit['entries']} entries verifies; {len(batches)} batches, each with its "
      f"accepted rows in the lake; staging empty")
PY
