#!/bin/sh
# The forecast gate, end to end, with only the sluice binary (SLUICE=path/to/sluice to pick
# one; default: `sluice` on PATH). Runs in a scratch copy of this folder, so it can be run
# again and again; prints every command and what it printed.
set -u
SLUICE=${SLUICE:-sluice}
here=$(cd "$(dirname "$0")" && pwd)
work=${WORK:-$(mktemp -d)}
cp -R "$here/sluice.yaml" "$here/data" "$here/forecasts" "$work/"
cd "$work" || exit 1
step() { echo; echo "\$ $*"; "$@"; echo "[exit $?]"; }
stage() { mkdir -p staging/forecast && cp "forecasts/$1" staging/forecast/forecast.csv; echo; echo "# the model writes forecasts/$1 to staging/forecast/"; }

# Day 1: a good forecast is checked in staging and published.
stage 2026-11-30.csv
step "$SLUICE" publish forecast --partition ds=2026-11-30
# Day 2: a bad one — a missing region-day, crossed quantiles, north three times too high.
stage 2026-12-01-bad.csv
step "$SLUICE" publish forecast --partition ds=2026-12-01
step "$SLUICE" impact forecast
step "$SLUICE" guard planning_extract
# The forecasting team finds the bug, reruns the model, and a person reopens the gate.
step "$SLUICE" breaker reset forecast --reason "north scaling bug fixed in model v2.3.1; rerun checked"
stage 2026-12-01.csv
step "$SLUICE" publish forecast --partition ds=2026-12-01
step "$SLUICE" guard planning_extract
step "$SLUICE" history forecast --check 'mean(p50)'
echo
echo "(worked in $work)"
