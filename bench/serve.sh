#!/usr/bin/env bash
# wrk against the profile API and the profile page on a city-preset data
# directory (1.2 million entities): requests per second and latency
# percentiles, at a paced 500 requests per second and flat out.
#
# Usage: bench/serve.sh [WORK_DIR] [DENSITY]
#   WORK_DIR keeps the city and the data directory between runs (the city
#   and its ingest take most of an hour at density 0.8, the preset's
#   benchmark density; a lower density has fewer monthly records per entity
#   but the same registry and the same yearly summaries per entity).
# Needs wrk (Debian: apt-get install wrk). XINYONG_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."

work="${1:-$(mktemp -d)}"
density="${2:-0.8}"
mkdir -p "$work"
# XINYONG_BIN runs a binary already built instead of building one.
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

password="bench-password-1"
if ! "$xinyong" --data-dir "$data" user list --json | grep -q '"bench-regulator"'; then
  XINYONG_PASSWORD="$password" "$xinyong" --data-dir "$data" user add bench-regulator --role regulator >/dev/null
fi
token=$("$xinyong" --data-dir "$data" token issue --name bench --role regulator --days 1 --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')

# 1 000 entities spread over the registry.
"$xinyong" --data-dir "$data" sql --format csv \
  "SELECT uscc FROM entities ORDER BY uscc LIMIT 1000 OFFSET 400000" >"$work/subjects.csv"
subjects=$(tail -n +2 "$work/subjects.csv" | tr '\n' ' ')
echo "entities in the registry: $("$xinyong" --data-dir "$data" sql --format csv 'SELECT count(*) FROM entities' | tail -1)"

"$xinyong" --data-dir "$data" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on //p' "$work/serve.out")

# A session cookie for the page.
csrf_page=$(curl -s -c "$work/cookies" "$base/sign-in")
csrf=$(printf '%s' "$csrf_page" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
curl -s -b "$work/cookies" -c "$work/cookies" -o /dev/null \
  --data-urlencode "username=bench-regulator" --data-urlencode "password=$password" --data-urlencode "csrf=$csrf" \
  "$base/sign-in"
session=$(awk '$6 == "xy_session" { print $7 }' "$work/cookies")

# wrk script: cycle through the entities; with a pace, each connection
# waits so that all of them together send about RATE requests a second.
script() {
  local prefix=$1 header=$2 rate=$3 connections=$4
  cat <<EOF
local subjects = {}
for s in string.gmatch("$subjects", "%S+") do subjects[#subjects + 1] = s end
local i = 0
wrk.headers["$header"] = "$5"
request = function()
  i = i + 1
  return wrk.format("GET", "$prefix" .. subjects[(i % #subjects) + 1])
end
delay = function()
  if $rate > 0 then return math.floor(1000 * $connections / $rate) end
  return 0
end
EOF
}

run() {
  local name=$1 prefix=$2 header=$3 value=$4 rate=$5 connections=$6
  script "$prefix" "$header" "$rate" "$connections" "$value" >"$work/wrk.lua"
  echo "== $name: $( [ "$rate" -gt 0 ] && echo "paced (asked for $rate requests/s)" || echo "flat out" ), $connections connections, 30 s"
  wrk -t2 -c"$connections" -d30s --latency -s "$work/wrk.lua" "$base" |
    grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors"
}

# A connection waits its delay after each response, so the rate reached is
# a little under the rate asked: ask for 550 to send about 500 a second.
run "profile API" "/api/v1/entities/" "Authorization" "Bearer $token" 550 10
run "profile page" "/entity/" "Cookie" "xy_session=$session" 550 10
run "profile API" "/api/v1/entities/" "Authorization" "Bearer $token" 0 16
run "profile page" "/entity/" "Cookie" "xy_session=$session" 0 16
echo "audit entries: $("$xinyong" --data-dir "$data" audit verify | head -1)"

# Search by a part of the name, and by a code, one request at a time.
echo "== search"
for q in 佛山 顺德 科技 贸易 五金 陶瓷 服务部 有限公司 佳智 9144060; do
  t=$(curl -s -o /dev/null -w "%{time_total}" -G --data-urlencode "q=$q" "$base/api/v1/entities")
  printf '  %-10s %6.1f ms\n' "$q" "$(python3 -c "print($t * 1000)")"
done
