#!/usr/bin/env bash
# Double random inspections at city scale: commit (snapshots written and
# hashed), the draw with inspector assignment and recusal, and a full
# verification, on the city preset's registry (1.2 M entities) with 600
# inspectors. The aim is the draw and assignment under 1 s. No peer runs a
# verifiable draw, so the figure stands against the aim alone.
#
# Usage: bench/inspection.sh [ENTITIES]   (default 1200000)
set -euo pipefail
cd "$(dirname "$0")/.."
XINYONG_BENCH_OBJECTS="${1:-1200000}" cargo bench -p inspection --bench draw
