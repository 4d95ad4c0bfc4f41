#!/usr/bin/env bash
# Runs the shared peer harness (../shared/bench/run_all.sh: DuckDB, Soda Core, Great
# Expectations) with sluice added as a tool, and prints its pass/fail matrix.
#
#   N=5000000 bench/run_peers.sh        # needs the shared bench venv activated, GNU time
#
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SHARED="$(cd "$HERE/../../shared/bench" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HERE/../target}"
export SLUICE_BIN="${SLUICE_BIN:-$CARGO_TARGET_DIR/release/sluice}"
export TOOL_BIN="$HERE/sluice_tool.sh"
export TOOL_NAME=sluice
export TOOL_ARGS="{orders} {target} {now} {out}"
export RESULTS_DIR="${RESULTS_DIR:-$HERE/results/n${N:-5000000}}"
export DATA_DIR="${DATA_DIR:-$HERE/data/n${N:-5000000}}"
exec "$SHARED/run_all.sh"
