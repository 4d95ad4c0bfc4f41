#!/usr/bin/env bash
# The forecast pack against a plain scan, on one long-format (hub) forecast, in one run.
#
#   bench/forecast_pack.sh [SERIES] [HORIZONS] [LEVELS] [REPEAT]
#       defaults: 5000 100 20 3  -> 10,000,000 rows
#
# 1. Writes bench/data/forecast_<S>x<H>x<L>/ with forecast_data.py (data if missing, and
#    sluice.yaml): a complete, ordered long-format forecast, so every check passes and each
#    does all its work; see forecast_data.py for the columns and the three datasets.
# 2. Runs, alternately and REPEAT times each, `sluice check --no-state` (checks only: no
#    metric history, so neither side computes dataset metrics) of
#      plain:  rows_satisfy "value = value" (a scan that decodes the value column;
#              row_count/not_null would be answered from Parquet metadata)
#      pack:   completeness (long: location from locations.csv × horizon 1..H × the L
#              levels), quantiles_ordered (long, by location and horizon), not_constant
#              (value per location)
#      floor:  rows_satisfy on the four columns the pack reads (one decode of them: the
#              least any tool reading those columns pays)
#    on the same file, and prints the median wall time of each and the ratios.
#
# Needs a Python with numpy and pyarrow ($PYTHON, default python3) and a build of sluice
# ($SLUICE_BIN, default $CARGO_TARGET_DIR/release/sluice, else target/release/sluice).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
S="${1:-5000}"; H="${2:-100}"; L="${3:-20}"; REPEAT="${4:-3}"
PYTHON="${PYTHON:-python3}"
BIN="${SLUICE_BIN:-${CARGO_TARGET_DIR:-$HERE/../target}/release/sluice}"
DATA="$("$PYTHON" "$HERE/forecast_data.py" "$S" "$H" "$L")"

run() { # dataset -> seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" -q check --no-state --config "$DATA/sluice.yaml" --dataset "$1" --format json --output "$DATA/report_$1.json" \
    || { echo "sluice check --dataset $1 failed (exit $?); see $DATA/report_$1.json" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
plain=(); floor=(); pack=()
for _ in $(seq "$REPEAT"); do
  plain+=("$(run plain)")
  floor+=("$(run floor)")
  pack+=("$(run pack)")
done
"$PYTHON" - "$S" "$H" "$L" "${plain[*]}" "${floor[*]}" "${pack[*]}" "$BIN" <<'PY'
import statistics, sys
S, H, L = map(int, sys.argv[1:4])
plain, floor, pack = ([float(x) for x in a.split()] for a in sys.argv[4:7])
p, f, k = (statistics.median(x) for x in (plain, floor, pack))
print(f"{S * H * L:,} rows ({S} series x {H} horizons x {L} levels), {sys.argv[7]}")
print(f"plain scan (rows_satisfy value = value): median {p:.2f} s  {['%.2f' % x for x in plain]}")
print(f"decode floor (rows_satisfy on the pack's 4 columns): median {f:.2f} s  {['%.2f' % x for x in floor]}")
print(f"forecast pack (completeness + quantiles_ordered + not_constant): median {k:.2f} s  {['%.2f' % x for x in pack]}")
print(f"ratio pack / plain: {k / p:.2f}x   pack / floor: {k / f:.2f}x   floor / plain: {f / p:.2f}x")
PY
