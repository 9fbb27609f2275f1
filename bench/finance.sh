#!/usr/bin/env bash
# Matching at the seed city's scale: 10,000 financing demands against 400
# loan products, every eligibility rule of every product checked and worded,
# ranked (cargo bench -p finance --bench matching). No peer does rule
# matching with reasons, so the figure stands against itself.
#
# Usage: bench/finance.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p finance --bench matching
