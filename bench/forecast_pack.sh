#!/usr/bin/env bash
# The forecast pack against a plain scan, on one long-format (hub) forecast, in one run.
#
#   bench/forecast_pack.sh [SERIES] [HORIZONS] [LEVELS] [REPEAT]
#       defaults: 5000 100 20 3  -> 10,000,000 rows
#
# 1. Writes bench/data/forecast_<S>x<H>x<L>/ (if missing): forecast.parquet with columns
#    location (text), horizon (int64), output_type_id (float64, the quantile level), value
#    (float64, non-decreasing in level), row groups of 1M rows; and locations.csv (the
#    required locations). Seeded; a complete, ordered forecast, so every check passes and
#    each does all its work.
# 2. Runs, alternately and REPEAT times each, `sluice check --no-state` (checks only: no
#    metric history, so neither side computes dataset metrics) of
#      plain:  row_count + not_null(value)
#      pack:   completeness (long: location from locations.csv × horizon 1..H × the L
#              levels), quantiles_ordered (long, by location and horizon), not_constant
#              (value per location)
#      floor:  not_null on the four columns the pack reads (one decode of them: the least
#              any tool reading those columns pays)
#    on the same file, and prints the median wall time of each and the ratios.
#
# Needs a Python with numpy and pyarrow ($PYTHON, default python3) and a build of sluice
# ($SLUICE_BIN, default $CARGO_TARGET_DIR/release/sluice, else target/release/sluice).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
S="${1:-5000}"; H="${2:-100}"; L="${3:-20}"; REPEAT="${4:-3}"
PYTHON="${PYTHON:-python3}"
BIN="${SLUICE_BIN:-${CARGO_TARGET_DIR:-$HERE/../target}/release/sluice}"
DATA="$HERE/data/forecast_${S}x${H}x${L}"
mkdir -p "$DATA"

if [ ! -f "$DATA/forecast.parquet" ]; then
  "$PYTHON" - "$DATA" "$S" "$H" "$L" <<'PY'
import sys
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
out, S, H, L = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(42)
levels = np.round((np.arange(L) + 1) / (L + 1), 4)
names = np.array([f"L{i:05d}" for i in range(S)])
n = S * H * L
loc = np.repeat(np.arange(S), H * L)
hor = np.tile(np.repeat(np.arange(1, H + 1), L), S)
lvl = np.tile(np.arange(L), S * H)
base = rng.uniform(50, 500, S)[loc] * (1 + 0.01 * hor)
value = base * (0.5 + lvl / L)            # increasing in the level within each (location, horizon)
table = pa.table({
    "location": pa.array(names[loc]),
    "horizon": pa.array(hor.astype(np.int64)),
    "output_type_id": pa.array(levels[lvl]),
    "value": pa.array(value),
})
pq.write_table(table, f"{out}/forecast.parquet", row_group_size=1_000_000)
with open(f"{out}/locations.csv", "w") as f:
    f.write("location\n" + "\n".join(names) + "\n")
print(f"wrote {n:,} rows to {out}/forecast.parquet", file=sys.stderr)
PY
fi

LEVELS="$("$PYTHON" -c "import sys; L=int(sys.argv[1]); print(', '.join(str(round((i+1)/(L+1), 4)) for i in range(L)))" "$L")"
cat > "$DATA/sluice.yaml" <<YAML
version: 1
datasets:
  locations:
    path: locations.csv
  plain:
    path: forecast.parquet
    checks:
      - row_count: { min: 1 }
      - not_null: value
  floor:
    path: forecast.parquet
    checks:
      - not_null: [location, horizon, output_type_id, value]
  pack:
    path: forecast.parquet
    checks:
      - completeness:
          keys:
            location: { from: locations.location }
            horizon: { from: 1, to: $H }
            output_type_id: [$LEVELS]
      - quantiles_ordered: { level: output_type_id, value: value, by: [location, horizon] }
      - not_constant: { series: [location], column: value }
YAML

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
print(f"plain scan (row_count + not_null): median {p:.2f} s  {['%.2f' % x for x in plain]}")
print(f"decode floor (not_null on the pack's 4 columns): median {f:.2f} s  {['%.2f' % x for x in floor]}")
print(f"forecast pack (completeness + quantiles_ordered + not_constant): median {k:.2f} s  {['%.2f' % x for x in pack]}")
print(f"ratio pack / plain: {k / p:.2f}x   pack / floor: {k / f:.2f}x   floor / plain: {f / p:.2f}x")
PY
